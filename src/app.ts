// The composition root: builds every part from the configuration. `buildApp(config)` returns { start, stop }
// and is separate from the entry point, so tests start real servers on port 0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { DestinationStream } from 'pino';
import type { Config } from './config.ts';
import { engineSettingsFrom } from './engine/context.ts';
import { VideoJobEngine } from './engine/engine.ts';
import { InProcessJobEventBus, type JobEventBus } from './events/job-event-bus.ts';
import { resyncFrom } from './events/resync.ts';
import { InProcessRateLimiter, type GenerateRateLimiter } from './engine/rate-limiter.ts';
import { worstState } from './redis/connection.ts';
import { RedisJobEventBus } from './redis/job-event-bus.ts';
import { RedisRateLimiter } from './redis/rate-limiter.ts';
import type { RedisState } from './metrics/metrics.ts';
import { createLogger, type Logger } from './log.ts';
import { GatewayMetrics } from './metrics/metrics.ts';
import { MeteredScenario } from './metrics/metered-scenario.ts';
import { openMediaStorage, type OpenedMediaStorage } from './media/storage/open.ts';
import { ScenarioClient } from './scenario/client.ts';
import { createSimulator, type Simulator } from './simulator/server.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/store.ts';
import { bootstrapLocalUser } from './auth/tokens.ts';
import { createGraphQLHandler, type GraphQLHandler } from './http/graphql-handler.ts';
import { createOpsHandler } from './http/ops.ts';
import { HttpTraffic } from './http/traffic.ts';
import { serveStudio } from './http/studio.ts';

/** Shutdown: requests in flight may finish for this long (the engine's own grace is 8 s; both run at once). */
export const SHUTDOWN_DRAIN_MS = 7_000;
export const HEADERS_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 120_000;
/** Replicas beat this often; one that misses three beats counts as gone (REPLICA_LIVE_MS). */
export const HEARTBEAT_MS = 5_000;

export interface AppOptions {
  log?: Logger;
  /** Where the app's own logger writes (default stdout); ignored when `log` is given. */
  logDestination?: DestinationStream;
  /** Scheduler tick of the engine (tests make it short). */
  engineTickMs?: number;
  /** graphql-ws keep-alive ping interval (default 12 s). */
  keepAliveMs?: number;
}

export interface RunningApp {
  url: string;
  publicUrl: string;
  store: Store;
  engine: VideoJobEngine;
  bus: JobEventBus;
  metrics: GatewayMetrics;
  /** Where the gateway sends Scenario requests (the in-process simulator's URL in simulator mode). */
  upstreamUrl: string;
  upstreamMode: 'LIVE' | 'SIMULATED';
  /** The token of user `local`, created on the first start with an empty database; null otherwise. */
  bootstrapToken: string | null;
}

export interface App {
  start(): Promise<RunningApp>;
  /**
   * Graceful: stops accepting (new requests get 503), closes WebSockets with 1001, lets requests in flight finish
   * (SSE streams are cut), stops the engine between ticks (running steps get a grace period; whatever they had not
   * committed is repeated after a restart), then stops the simulator and closes the database.
   */
  stop(): Promise<void>;
  readonly log: Logger;
}

/** The logger of a gateway: JSON on stdout, with the configured secrets scrubbed from every line. */
export function createAppLogger(config: Config, destination?: DestinationStream): Logger {
  return createLogger(config.logLevel, destination, {
    secrets: [
      config.scenario?.apiKey,
      config.scenario?.apiSecret,
      config.mediaSigningSecret,
      passwordOf(config.databaseUrl),
      passwordOf(config.redisUrl),
    ],
  });
}

/** The password in a service URL, if any: a secret like the others, scrubbed from every log line. */
function passwordOf(url: string | null): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

interface Parts {
  media?: OpenedMediaStorage;
  store?: Store;
  bus?: JobEventBus;
  rateLimiter?: GenerateRateLimiter & { close?(): Promise<void> };
  heartbeat?: NodeJS.Timeout;
  simulator?: Simulator;
  engine?: VideoJobEngine;
  api?: GraphQLHandler;
  traffic?: HttpTraffic;
  server?: Server;
}

export function buildApp(config: Config, options: AppOptions = {}): App {
  const log = options.log ?? createAppLogger(config, options.logDestination);
  let running: RunningApp | null = null;
  let parts: Parts = {};

  async function start(): Promise<RunningApp> {
    if (running) return running;
    const media = parts.media = await openMediaStorage(config);
    const store = await openStore(config.databaseUrl, {
      instanceId: config.instanceId,
      exclusive: true,
      sharedWithReplicas: config.redisUrl !== null,
    });
    parts.store = store;
    await store.heartbeat();
    parts.heartbeat = setInterval(() => {
      store.heartbeat().catch((error: unknown) => log.warn({ err: error }, 'heartbeat not recorded'));
    }, HEARTBEAT_MS);

    let upstreamUrl: string;
    let credentials: { apiKey: string; apiSecret: string };
    if (config.scenario) {
      upstreamUrl = config.scenario.apiUrl;
      credentials = { apiKey: config.scenario.apiKey, apiSecret: config.scenario.apiSecret };
    } else {
      const simulator = createSimulator({ port: 0, host: '127.0.0.1', jobSeconds: config.simulatorJobSeconds });
      upstreamUrl = await simulator.start();
      parts.simulator = simulator;
      credentials = { apiKey: 'simulator', apiSecret: 'simulator' };
      log.warn(
        { upstreamUrl, jobSeconds: config.simulatorJobSeconds },
        'NO SCENARIO KEYS: running against the built-in Scenario simulator; videos are placeholders (set SCENARIO_SDK_API_KEY and SCENARIO_SDK_API_SECRET for real generation)',
      );
    }
    const onListenerError = (error: unknown) => log.error({ err: error }, 'job listener failed');
    const redisLog = log.child({ component: 'redis' });
    const redis = config.redisUrl
      ? {
          bus: new RedisJobEventBus({
            url: config.redisUrl,
            keyPrefix: config.redisKeyPrefix,
            instanceId: config.instanceId,
            log: redisLog,
            resync: resyncFrom(store),
            onListenerError,
          }),
          rateLimiter: new RedisRateLimiter({
            url: config.redisUrl,
            keyPrefix: config.redisKeyPrefix,
            instanceId: config.instanceId,
            limitPerMinute: config.generateRateLimitPerMinute,
            log: redisLog,
          }),
        }
      : null;
    const bus: JobEventBus = parts.bus = redis?.bus ?? new InProcessJobEventBus(onListenerError);
    const rateLimiter = parts.rateLimiter = redis?.rateLimiter ?? new InProcessRateLimiter(config.generateRateLimitPerMinute);
    const redisState = (): RedisState => (redis ? worstState([redis.bus.connectionState(), redis.rateLimiter.connectionState()]) : 'off');
    // The metrics read the API's and the HTTP layer's counts when scraped; both exist by then.
    let api: GraphQLHandler | undefined;
    let traffic: HttpTraffic | undefined;
    const metrics = new GatewayMetrics(
      {
        countJobsByStatus: () => store.countJobsByStatus(),
        activeSubscriptions: () => bus.listenerCount(),
        activeWebSockets: () => api?.webSocketCount() ?? 0,
        inFlightRequests: () => traffic?.count() ?? 0,
        liveReplicas: async () => (await store.listLiveReplicas()).length,
        leasesHeld: () => store.countLeases(),
        redisState,
        instanceId: config.instanceId,
      },
      { onCollectError: (error) => log.debug({ err: error }, 'jobs metric not collected') },
    );
    const scenario = new ScenarioClient({ baseUrl: upstreamUrl, ...credentials, observer: metrics.observeUpstream });
    const engine = new VideoJobEngine({
      store,
      scenario: new MeteredScenario(scenario, metrics),
      media,
      bus,
      log: log.child({ component: 'engine' }),
      tickMs: options.engineTickMs,
      onPollLag: metrics.observePollLag,
      rateLimiter,
      settings: engineSettingsFrom(config),
    });
    const bootstrapToken = await bootstrapLocalUser(store);
    await engine.start();
    parts.engine = engine;

    // PUBLIC_URL, or with PORT=0 the address the server got: known once it listens, read when URLs are built.
    let publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
    const upstreamMode = config.scenario ? 'LIVE' : 'SIMULATED';
    const handler = await createGraphQLHandler({
      store,
      engine,
      bus,
      config,
      media,
      log: log.child({ component: 'api' }),
      upstreamMode,
      publicUrl: () => publicUrl,
      keepAliveMs: options.keepAliveMs,
      onCacheOutcome: metrics.observeResponseCache,
    });
    api = parts.api = handler;
    traffic = parts.traffic = new HttpTraffic(log.child({ component: 'http' }), metrics);
    const ops = createOpsHandler({ store, media, metrics, log });
    const server = createServer(
      traffic.track((req, res) => {
        if (ops(req, res)) return;
        if (handler.handle(req, res)) return;
        if (serveStudio(req, res)) return;
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }),
    );
    // Slow clients cannot hold connections open for long: all headers within 15 s, the whole request (a 15 MB upload
    // included) within 2 minutes. Responses (SSE streams) are not limited.
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    handler.attachWebSockets(server);
    const url = await listen(server, config.port, config.host);
    parts.server = server;
    publicUrl = config.publicUrl ?? url;
    log.info({ url, publicUrl, upstream: upstreamMode, instanceId: config.instanceId, redis: redisState() }, 'gateway listening');

    running = {
      url,
      publicUrl,
      store,
      engine,
      bus,
      metrics,
      upstreamUrl,
      upstreamMode,
      bootstrapToken,
    };
    return running;
  }

  async function stop(): Promise<void> {
    const { media, store, bus, rateLimiter, heartbeat, simulator, engine, api, traffic, server } = parts;
    parts = {};
    running = null;
    const started = Date.now();
    const attempt = async (what: string, step: Promise<void> | undefined) => {
      try {
        await step;
      } catch (error) {
        log.error({ err: error }, `error while stopping: ${what}`);
      }
    };
    if (server) log.info('shutting down');
    // 1. Stop accepting: no new connections; new requests on open connections get 503 (traffic.drain).
    const serverClosed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    // 2. At once: WebSockets closed with 1001, requests in flight finished, the engine stopped between ticks.
    await Promise.all([
      attempt('websockets', api?.close()),
      attempt('http', traffic?.drain(SHUTDOWN_DRAIN_MS)),
      attempt('engine', engine?.stop()),
    ]);
    // 3. What is left of the connections (idle keep-alives), then the upstream simulator and the database.
    if (server) {
      destroySockets(server);
      await attempt('server', serverClosed);
    }
    await attempt('simulator', simulator?.stop());
    // Each waits for Redis at most a couple of seconds: together, so that a Redis that does not answer costs that once.
    await Promise.all([attempt('event bus', bus?.close()), attempt('rate limiter', rateLimiter?.close?.())]);
    clearInterval(heartbeat);
    await attempt('replica record', store?.removeReplica());
    await attempt('database', store?.close());
    media?.close?.();
    if (server) log.info({ durationMs: Date.now() - started }, 'gateway stopped');
  }

  return { start, stop, log };
}

function listen(server: Server, port: number, host: string): Promise<string> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  (server as Server & { sockets?: Set<Socket> }).sockets = sockets;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}

function destroySockets(server: Server): void {
  server.closeIdleConnections();
  for (const socket of (server as Server & { sockets?: Set<Socket> }).sockets ?? []) socket.destroy();
}
