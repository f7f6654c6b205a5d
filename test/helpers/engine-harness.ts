// A real engine on a real SQLite file, talking over loopback HTTP to the real simulator through the real client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VideoJob } from '../../src/domain/video-job.ts';
import type { EngineSettings } from '../../src/engine/context.ts';
import { VideoJobEngine } from '../../src/engine/engine.ts';
import { InProcessJobEventBus } from '../../src/events/job-event-bus.ts';
import { createLogger } from '../../src/log.ts';
import { LocalMediaStorage } from '../../src/media/storage/local.ts';
import { ScenarioClient } from '../../src/scenario/client.ts';
import { createSimulator } from '../../src/simulator/server.ts';
import { openSqliteStore } from '../../src/store/sqlite/open.ts';
import type { Store } from '../../src/store/store.ts';

export type Simulator = ReturnType<typeof createSimulator>;

export interface HarnessOptions {
  jobSeconds?: number;
  concurrencyLimit?: number;
  settings?: Partial<EngineSettings>;
  clientTimeoutMs?: number;
}

export interface Harness {
  dir: string;
  databaseUrl: string;
  mediaDir: string;
  simulator: Simulator;
  upstreamUrl: string;
  store: Store;
  engine: VideoJobEngine;
  bus: InProcessJobEventBus;
  client: ScenarioClient;
  /** The engine's clock runs `offsetMs` ahead of the real one: tests move it to reach 30 min or 24 h at once. */
  clock: { offsetMs: number };
  /** Stops the engine and closes the store, then opens both again on the same files (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'engine-'));
  const databaseUrl = `file:${join(dir, 'gateway.db')}`;
  const mediaDir = join(dir, 'media');
  const simulator = createSimulator({ port: 0, host: '127.0.0.1', jobSeconds: options.jobSeconds ?? 0.6, concurrencyLimit: options.concurrencyLimit });
  const upstreamUrl = await simulator.start();
  const client = new ScenarioClient({ baseUrl: upstreamUrl, apiKey: 'test-key', apiSecret: 'test-secret', timeoutMs: options.clientTimeoutMs ?? 2000 });
  const settings: EngineSettings = {
    modelId: 'model_wan-2-5-t2v',
    pollMinIntervalMs: 50,
    pollMaxIntervalMs: 300,
    upstreamMaxInFlight: 8,
    maxActiveJobsPerUser: 50,
    generateRateLimitPerMinute: 1000,
    reconcileWindowMs: 1500,
    ...options.settings,
  };
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const clock = { offsetMs: 0 };
  const media = new LocalMediaStorage(mediaDir);

  const open = async () => {
    const store = await openSqliteStore(databaseUrl);
    const bus = new InProcessJobEventBus();
    const engine = new VideoJobEngine({ store, scenario: client, media, bus, log, settings, tickMs: 20, now: () => Date.now() + clock.offsetMs });
    await engine.start();
    return { store, bus, engine };
  };

  const harness: Harness = {
    dir,
    databaseUrl,
    mediaDir,
    simulator,
    upstreamUrl,
    client,
    clock,
    ...(await open()),
    async restart() {
      await harness.engine.stop();
      await harness.store.close();
      Object.assign(harness, await open());
    },
    async close() {
      await harness.engine.stop();
      await harness.store.close();
      await simulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Polls `read` until `done` holds, at most `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

export function waitForTerminal(h: Harness, jobId: string, timeoutMs = 20_000): Promise<VideoJob> {
  return waitFor(
    async () => (await h.store.getJob(jobId))!,
    (job) => TERMINAL.has(job.status),
    timeoutMs,
    `job ${jobId} to end`,
  );
}

export async function createJob(h: Harness, ownerId: string, prompt: string, extra: Record<string, unknown> = {}): Promise<VideoJob> {
  const outcome = await h.engine.createJob(ownerId, { prompt, ...extra });
  if (outcome.kind !== 'created') throw new Error(`job not created: ${JSON.stringify(outcome)}`);
  return outcome.job;
}

export async function userId(h: Harness, name: string): Promise<string> {
  return (await h.store.ensureUser(name)).user.id;
}
