// Harnesses for the API tests: a whole gateway (buildApp against the real simulator, real SQLite file, real HTTP
// and WebSockets on 127.0.0.1 port 0), and an API-only server over a store the test fills by hand (no engine
// loop, a fake clock, every SQL statement logged) for pagination and statement counts.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import { WebSocket } from 'ws';
import { buildApp, type App, type AppOptions, type RunningApp } from '../../src/app.ts';
import { createTokenFor } from '../../src/auth/tokens.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { AudioAsset, NewVideoJob, VideoAsset, VideoJob, VideoJobPatch } from '../../src/domain/video-job.ts';
import { engineSettingsFrom } from '../../src/engine/context.ts';
import { VideoJobEngine } from '../../src/engine/engine.ts';
import { InProcessJobEventBus } from '../../src/events/job-event-bus.ts';
import { createGraphQLHandler, type GraphQLHandler } from '../../src/http/graphql-handler.ts';
import { createLogger } from '../../src/log.ts';
import { LocalMediaStorage } from '../../src/media/storage/local.ts';
import { ScenarioClient } from '../../src/scenario/client.ts';
import { openSqliteStore } from '../../src/store/sqlite/open.ts';
import type { Store, User } from '../../src/store/store.ts';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }> };
}

/** What both harnesses offer: HTTP and WebSocket clients for named users. */
export abstract class ApiClientBase {
  abstract readonly url: string;
  protected abstract readonly userStore: Store;
  private readonly tokens = new Map<string, { token: string; user: User }>();
  private readonly clients = new Set<Client>();

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/graphql`;
  }

  /** A token for `name`, creating the user the first time. */
  async login(name: string): Promise<{ token: string; user: User }> {
    let entry = this.tokens.get(name);
    if (!entry) {
      entry = await createTokenFor(this.userStore, name);
      this.tokens.set(name, entry);
    }
    return entry;
  }

  async gql<T = any>(query: string, variables?: Record<string, unknown>, as: string | null = 'alice'): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
    if (as) headers.authorization = `Bearer ${(await this.login(as)).token}`;
    const res = await fetch(`${this.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }

  /** `data` of a successful operation; fails the test on any error. */
  async data<T = any>(query: string, variables?: Record<string, unknown>, as = 'alice'): Promise<T> {
    const res = await this.gql<T>(query, variables, as);
    if (res.body.errors?.length || !res.body.data) throw new Error(`GraphQL errors: ${JSON.stringify(res.body)}`);
    return res.body.data;
  }

  /** A graphql-ws client authenticated as `as` (or with `authorization` as given). */
  async ws(as: string | null = 'alice', authorization?: string): Promise<Client> {
    const auth = authorization ?? (as ? `Bearer ${(await this.login(as)).token}` : undefined);
    const client = createClient({
      url: this.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: auth ? { authorization: auth } : {},
    });
    this.clients.add(client);
    return client;
  }

  protected async disposeClients(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.dispose()));
    this.clients.clear();
  }
}

export interface SubscriptionRecord<T = any> {
  messages: ExecutionResult<T>[];
  /** Resolves when the server completes the operation or fails it; `error` is the failure, if any. */
  done: Promise<{ completed: boolean; error?: unknown }>;
  unsubscribe: () => void;
}

/** Subscribes and records every message. */
export function record<T = any>(client: Client, query: string, variables?: Record<string, unknown>): SubscriptionRecord<T> {
  const messages: ExecutionResult<T>[] = [];
  let unsubscribe = () => {};
  const done = new Promise<{ completed: boolean; error?: unknown }>((resolve) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (message) => messages.push(message as ExecutionResult<T>),
        error: (error) => resolve({ completed: false, error }),
        complete: () => resolve({ completed: true }),
      },
    );
  });
  return { messages, done, unsubscribe };
}

export interface SseEvent {
  event: string;
  data: any;
}

/** A subscription over SSE (yoga's distinct-connections mode): resolves with every event once the stream ends. */
export async function sse(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { until?: (events: SseEvent[]) => boolean; signal?: AbortSignal } = {},
): Promise<{ status: number; events: SseEvent[] }> {
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort());
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  if (!res.body) return { status: res.status, events };
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n');
        const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (!event) continue; // keep-alive comments
        events.push({ event, data: data ? JSON.parse(data) : null });
        if (event === 'complete' || options.until?.(events)) {
          controller.abort();
          return { status: res.status, events };
        }
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return { status: res.status, events };
}

export async function waitFor<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000, label = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const JOB_FIELDS = `id version status progress prompt size durationSeconds createdAt updatedAt completedAt`;

/** A whole gateway from buildApp: engine, simulator, SQLite file and media directory in a temp dir. */
export class Gateway extends ApiClientBase {
  readonly dir: string;
  readonly config: Config;
  running!: RunningApp;
  protected readonly app: App;

  constructor(env: Record<string, string> = {}, options: AppOptions = {}) {
    super();
    this.dir = mkdtempSync(join(tmpdir(), 'api-test-'));
    this.config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${join(this.dir, 'gateway.db')}`,
      MEDIA_DIR: join(this.dir, 'media'),
      SIMULATOR_JOB_SECONDS: '1',
      POLL_MIN_INTERVAL_MS: '100',
      POLL_MAX_INTERVAL_MS: '500',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      ...env,
    });
    this.app = buildApp(this.config, { engineTickMs: 50, ...options });
  }

  static async start(env: Record<string, string> = {}): Promise<Gateway> {
    const gateway = new Gateway(env);
    gateway.running = await gateway.app.start();
    return gateway;
  }

  get url(): string {
    return this.running.url;
  }

  protected get userStore(): Store {
    return this.running.store;
  }

  get simulatorOrigin(): string {
    return new URL(this.running.upstreamUrl).origin;
  }

  /** Queues a fault on the in-process simulator (see src/simulator/server.ts). */
  async fault(fault: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.simulatorOrigin}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fault),
    });
    if (!res.ok) throw new Error(`fault refused: ${res.status} ${await res.text()}`);
  }

  async resetFaults(): Promise<void> {
    await fetch(`${this.simulatorOrigin}/_sim/faults/reset`, { method: 'POST' });
  }

  async generate(input: Record<string, unknown>, as = 'alice'): Promise<any> {
    const data = await this.data(
      `mutation($input: GenerateVideoInput!) { generateVideo(input: $input) {
        __typename
        ... on GenerateVideoSuccess { deduplicated job { ${JOB_FIELDS} } }
        ... on Error { code message }
      } }`,
      { input },
      as,
    );
    return data.generateVideo;
  }

  async job(id: string, as = 'alice', fields = JOB_FIELDS): Promise<any> {
    return (await this.data(`query($id: ID!) { videoJob(id: $id) { ${fields} } }`, { id }, as)).videoJob;
  }

  async waitForStatus(id: string, statuses: string[], as = 'alice', timeoutMs = 20_000): Promise<any> {
    return waitFor(async () => {
      const job = await this.job(id, as);
      return job && statuses.includes(job.status) ? job : null;
    }, timeoutMs, `job ${id} to reach ${statuses.join('/')}`);
  }

  /** `keepFiles` leaves the database and media in place, for a restart on the same files. */
  async stop(options: { keepFiles?: boolean } = {}): Promise<void> {
    await this.disposeClients();
    await this.app.stop();
    if (!options.keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public time = Date.UTC(2026, 10, 24, 12, 0, 0)) {}
  now = (): number => this.time;
  tick(ms = 1000): number {
    this.time += ms;
    return this.time;
  }
}

let jobCounter = 0;

/** Only the API over a store filled by the test: no engine loop, no upstream. */
export class ApiOnly extends ApiClientBase {
  readonly dir = mkdtempSync(join(tmpdir(), 'api-only-'));
  readonly clock = new ManualClock();
  readonly statements: string[] = [];
  /** Every write through it moves its owner's version, as in the app, so cached responses never hide it. */
  store!: Store;
  handler!: GraphQLHandler;
  private server!: Server;
  private baseUrl = '';

  static async start(env: Record<string, string> = {}): Promise<ApiOnly> {
    const api = new ApiOnly();
    await api.init(env);
    return api;
  }

  private async init(env: Record<string, string>): Promise<void> {
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: `file:${join(this.dir, 'api.db')}`,
      MEDIA_DIR: join(this.dir, 'media'),
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      ...env,
    });
    this.store = await openSqliteStore(config.databaseUrl, { now: this.clock.now, logger: (sql) => this.statements.push(sql) });
    const log = createLogger('silent');
    const bus = new InProcessJobEventBus();
    const media = new LocalMediaStorage(config.mediaDir);
    const engine = new VideoJobEngine({
      store: this.store,
      // Never called: the engine is not started and these tests create no jobs through it.
      scenario: new ScenarioClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'unused', apiSecret: 'unused' }),
      media,
      bus,
      log,
      settings: engineSettingsFrom(config),
    });
    this.handler = await createGraphQLHandler({
      store: this.store,
      engine,
      bus,
      config,
      media,
      log,
      upstreamMode: 'SIMULATED',
      publicUrl: () => this.baseUrl,
    });
    this.server = createServer((req, res) => {
      if (!this.handler.handle(req, res)) res.writeHead(404).end();
    });
    this.handler.attachWebSockets(this.server);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get url(): string {
    return this.baseUrl;
  }

  protected get userStore(): Store {
    return this.store;
  }

  /** Inserts a job one clock second after the previous one, then applies `patch` (one second later again). */
  async addJob(owner: string, params: Partial<NewVideoJob> = {}, patch?: VideoJobPatch): Promise<VideoJob> {
    const { user } = await this.login(owner);
    jobCounter += 1;
    this.clock.tick();
    const result = await this.store.createJob(
      {
        id: `job-${String(jobCounter).padStart(5, '0')}`,
        ownerId: user.id,
        idempotencyKey: null,
        prompt: `prompt ${jobCounter}`,
        negativePrompt: null,
        size: 'LANDSCAPE_720P',
        durationSeconds: 5,
        enablePromptExpansion: true,
        seed: 1,
        seedDrawn: false,
        audioId: null,
        ...params,
      },
      { maxActiveJobs: 1_000_000 },
    );
    if (result.kind !== 'created') throw new Error(`job not created: ${result.kind}`);
    if (!patch) return result.job;
    this.clock.tick();
    return (await this.store.updateJob(result.job.id, patch))!;
  }

  async stop(): Promise<void> {
    await this.disposeClients();
    await this.handler.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const FINISHED: VideoJobPatch = { status: 'SUCCEEDED', phase: 'done', progress: 1, nextCheckAt: null };

/** A stored video row of `job` (no file behind it), for tests that read the API, not the media. */
export function videoRow(job: VideoJob, createdAt: number, overrides: Partial<VideoAsset> = {}): VideoAsset {
  return {
    id: `${job.id}-video`,
    jobId: job.id,
    ownerId: job.ownerId,
    outputIndex: 0,
    upstreamAssetId: `up-${job.id}`,
    filePath: `videos/${job.id}/0.mp4`,
    thumbnailPath: null,
    mimeType: 'video/mp4',
    byteSize: 100,
    sha256: 'x',
    width: 1280,
    height: 720,
    durationSeconds: 5,
    frameRate: 24,
    createdAt,
    ...overrides,
  };
}

/** A stored audio row (no file behind it). */
export function audioRow(id: string, ownerId: string, createdAt: number, overrides: Partial<AudioAsset> = {}): AudioAsset {
  return {
    id,
    ownerId,
    fileName: 'tone.wav',
    mimeType: 'audio/wav',
    byteSize: 10,
    durationSeconds: 4,
    sha256: 'x',
    filePath: `audio/${id}.wav`,
    upstreamAssetId: null,
    createdAt,
    ...overrides,
  };
}
