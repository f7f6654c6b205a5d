// Shared by the simulator and client tests: a started simulator, a client on it, and polling helpers.
import { createServer } from 'node:net';
import { ScenarioClient, type ScenarioClientOptions } from '../../src/scenario/client.ts';
import type { UpstreamJob } from '../../src/scenario/types.ts';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.ts';

export const TEST_KEY = 'sim-test-key-4f1d';
export const TEST_SECRET = 'sim-test-secret-9c2e';
export const MODEL_ID = 'model_wan-2-5-t2v';

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = createSimulator({ jobSeconds: 0.6, ...options });
  await simulator.start();
  return simulator;
}

export function clientFor(
  simulator: Simulator,
  options: Partial<ScenarioClientOptions> = {},
): ScenarioClient {
  return new ScenarioClient({ baseUrl: simulator.url, apiKey: TEST_KEY, apiSecret: TEST_SECRET, timeoutMs: 5000, ...options });
}

export const basicAuth = (key = TEST_KEY, secret = TEST_SECRET) =>
  `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

/** Raw JSON call to the simulator (for what the client does not expose). */
export async function call(
  simulator: Simulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: basicAuth() },
): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${simulator.url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json, headers: response.headers };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `done` says so; returns every status seen, in order, and the last job. */
export async function pollJob(
  read: () => Promise<UpstreamJob>,
  done: (job: UpstreamJob) => boolean = (job) => ['success', 'failure', 'canceled'].includes(job.status),
  { intervalMs = 40, timeoutMs = 5000 } = {},
): Promise<{ job: UpstreamJob; seen: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (;;) {
    const job = await read();
    if (seen[seen.length - 1] !== job.status) seen.push(job.status);
    if (done(job)) return { job, seen };
    if (Date.now() > deadline) throw new Error(`job ${job.jobId} still ${job.status} after ${timeoutMs} ms (saw ${seen.join(' → ')})`);
    await sleep(intervalMs);
  }
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const wanBody = (overrides: Record<string, unknown> = {}) => ({
  prompt: 'a lighthouse at dusk, waves crashing',
  size: '1280*720',
  duration: 5,
  enablePromptExpansion: false,
  seed: 1234,
  ...overrides,
});
