// The composition root: builds every part from the configuration. `buildApp(config)` returns { start, stop }
// and is separate from the entry point, so tests start real servers on port 0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdir } from 'node:fs/promises';
import type { Config } from './config.ts';
import { VideoJobEngine } from './engine/engine.ts';
import { InProcessJobEventBus, type JobEventBus } from './events/job-event-bus.ts';
import { createLogger, type Logger } from './log.ts';
import { ScenarioClient } from './scenario/client.ts';
import { createSimulator } from './simulator/server.ts';
import { openSqliteStore } from './store/sqlite/open.ts';
import type { Store } from './store/store.ts';
import { bootstrapLocalUser } from './auth/tokens.ts';
import { createGraphQLHandler } from './http/graphql-handler.ts';

export interface AppOptions {
  log?: Logger;
  /** Scheduler tick of the engine (tests make it short). */
  engineTickMs?: number;
}

export interface RunningApp {
  url: string;
  publicUrl: string;
  store: Store;
  engine: VideoJobEngine;
  bus: JobEventBus;
  /** Where the gateway sends Scenario requests (the in-process simulator's URL in simulator mode). */
  upstreamUrl: string;
  upstreamMode: 'LIVE' | 'SIMULATED';
  /** The token of user `local`, created on the first start with an empty database; null otherwise. */
  bootstrapToken: string | null;
}

export interface App {
  start(): Promise<RunningApp>;
  stop(): Promise<void>;
}

export function buildApp(config: Config, options: AppOptions = {}): App {
  const log = options.log ?? createLogger(config.logLevel);
  let running: RunningApp | null = null;
  const stoppers: Array<() => Promise<void>> = [];

  async function start(): Promise<RunningApp> {
    if (running) return running;
    await mkdir(config.mediaDir, { recursive: true });
    const store = await openSqliteStore(config.databaseUrl);
    stoppers.unshift(() => store.close());

    let upstreamUrl: string;
    let credentials: { apiKey: string; apiSecret: string };
    if (config.scenario) {
      upstreamUrl = config.scenario.apiUrl;
      credentials = { apiKey: config.scenario.apiKey, apiSecret: config.scenario.apiSecret };
    } else {
      const simulator = createSimulator({ port: 0, host: '127.0.0.1', jobSeconds: config.simulatorJobSeconds });
      upstreamUrl = await simulator.start();
      stoppers.unshift(() => simulator.stop());
      credentials = { apiKey: 'simulator', apiSecret: 'simulator' };
      log.warn(
        { upstreamUrl, jobSeconds: config.simulatorJobSeconds },
        'NO SCENARIO KEYS: running against the built-in Scenario simulator; videos are placeholders (set SCENARIO_SDK_API_KEY and SCENARIO_SDK_API_SECRET for real generation)',
      );
    }
    const scenario = new ScenarioClient({ baseUrl: upstreamUrl, ...credentials });
    const bus = new InProcessJobEventBus((error) => log.error({ err: error }, 'job listener failed'));
    const engine = new VideoJobEngine({
      store,
      scenario,
      bus,
      log: log.child({ component: 'engine' }),
      tickMs: options.engineTickMs,
      settings: {
        modelId: config.modelId,
        mediaDir: config.mediaDir,
        pollMinIntervalMs: config.pollMinIntervalMs,
        pollMaxIntervalMs: config.pollMaxIntervalMs,
        upstreamMaxInFlight: config.upstreamMaxInFlight,
        maxActiveJobsPerUser: config.maxActiveJobsPerUser,
        generateRateLimitPerMinute: config.generateRateLimitPerMinute,
      },
    });
    const bootstrapToken = await bootstrapLocalUser(store);
    await engine.start();
    stoppers.unshift(() => engine.stop());

    // PUBLIC_URL, or with PORT=0 the address the server got: known once it listens, read when URLs are built.
    let publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
    const upstreamMode = config.scenario ? 'LIVE' : 'SIMULATED';
    const api = await createGraphQLHandler({
      store,
      engine,
      bus,
      config,
      log: log.child({ component: 'api' }),
      upstreamMode,
      publicUrl: () => publicUrl,
    });
    const server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (req.url === '/readyz') {
        void store.isReady().then((ready) => {
          res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
        });
        return;
      }
      if (api.handle(req, res)) return;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    });
    api.attachWebSockets(server);
    const url = await listen(server, config.port, config.host);
    stoppers.unshift(() => closeServer(server));
    // Before the server closes: WebSockets and their subscriptions end first.
    stoppers.unshift(() => api.close());
    publicUrl = config.publicUrl ?? url;
    log.info({ url, publicUrl, upstream: upstreamMode }, 'gateway listening');

    running = {
      url,
      publicUrl,
      store,
      engine,
      bus,
      upstreamUrl,
      upstreamMode,
      bootstrapToken,
    };
    return running;
  }

  async function stop(): Promise<void> {
    // Reverse order of start: stop taking requests, stop the engine, then the simulator and the database.
    while (stoppers.length > 0) {
      const stopOne = stoppers.shift()!;
      try {
        await stopOne();
      } catch (error) {
        log.error({ err: error }, 'error while stopping');
      }
    }
    running = null;
  }

  return { start, stop };
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    for (const socket of (server as Server & { sockets?: Set<Socket> }).sockets ?? []) socket.destroy();
  });
}
