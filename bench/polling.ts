// Upstream requests per completed job and completion-detection lag, for simulated jobs of 60, 180 and 300 s.
// Gateway and simulator share an accelerated clock so a 300 s job takes seconds; the engine runs with the
// production poll bounds (2 s / 20 s) in that clock. Each length runs a batch of jobs whose starts are
// staggered, as real users' are; the first jobs have no history, later ones do.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoJobEngine } from '../src/engine/engine.ts';
import { InProcessJobEventBus } from '../src/events/job-event-bus.ts';
import { createLogger } from '../src/log.ts';
import { LocalMediaStorage } from '../src/media/storage/local.ts';
import { ScenarioClient } from '../src/scenario/client.ts';
import { createSimulator } from '../src/simulator/server.ts';
import { openSqliteStore } from '../src/store/sqlite/open.ts';
import { CountingScenarioApi } from './lib/counting-scenario.ts';
import { median, quantile } from './lib/stats.ts';

export interface PollingResult {
  jobSeconds: number;
  jobs: number;
  requestsMedian: number;
  requestsP95: number;
  lagP95Seconds: number;
  /** The contract's lag budget at the job's age: max(3 s, 15 % of its age). */
  lagBudgetSeconds: number;
  /** Per job, in creation order: upstream requests and detection lag (s). */
  perJob: Array<{ requests: number; lagSeconds: number }>;
}

const SPEED = 25;
const JOBS_PER_LENGTH = 16;

export interface PollingOptions {
  jobs?: number;
  /**
   * Jobs of the same length run to completion first, unmeasured: the measured batch then starts with a run-time
   * history and with finished jobs in upstream's list, like a gateway that has been in use (0: a fresh install).
   */
  warmupJobs?: number;
}

export async function measurePolling(jobSeconds: number, options: PollingOptions = {}): Promise<PollingResult> {
  const jobs = options.jobs ?? JOBS_PER_LENGTH;
  const dir = mkdtempSync(join(tmpdir(), 'bench-polling-'));
  const realStart = Date.now();
  const now = () => realStart + (Date.now() - realStart) * SPEED;
  const simulator = createSimulator({ port: 0, jobSeconds, now, concurrencyLimit: 100 });
  const upstreamUrl = await simulator.start();
  const counting = new CountingScenarioApi(new ScenarioClient({ baseUrl: upstreamUrl, apiKey: 'bench', apiSecret: 'bench' }), now);
  const store = await openSqliteStore(`file:${join(dir, 'gateway.db')}`);
  const engine = new VideoJobEngine({
    store,
    scenario: counting,
    media: new LocalMediaStorage(join(dir, 'media')),
    bus: new InProcessJobEventBus(),
    log: createLogger('silent'),
    now,
    tickMs: 10,
    settings: {
      modelId: 'model_wan-2-5-t2v',
      pollMinIntervalMs: 2000,
      pollMaxIntervalMs: 20000,
      upstreamMaxInFlight: 8,
      maxActiveJobsPerUser: 1000,
      generateRateLimitPerMinute: 100_000,
    },
  });
  try {
    await engine.start();
    const owner = (await store.ensureUser('bench')).user.id;
    const waitForEnd = async (ids: string[]) => {
      const deadline = Date.now() + (4 * jobSeconds * 1000) / SPEED + 60_000;
      for (;;) {
        const all = await store.getJobs(ids);
        if (all.every((job) => job?.status === 'SUCCEEDED' || job?.status === 'FAILED')) return;
        if (Date.now() > deadline) throw new Error('jobs did not finish in time');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    if (options.warmupJobs) {
      const warmup: string[] = [];
      for (let i = 0; i < options.warmupJobs; i++) {
        const outcome = await engine.createJob(owner, { prompt: `warm-up job ${i}` });
        if (outcome.kind !== 'created') throw new Error(outcome.kind);
        warmup.push(outcome.job.id);
      }
      await waitForEnd(warmup);
    }
    const ids: string[] = [];
    // Starts spread over two job lengths, so some run alone and some overlap.
    const spacingMs = (2 * jobSeconds * 1000) / jobs / SPEED;
    for (let i = 0; i < jobs; i++) {
      const outcome = await engine.createJob(owner, { prompt: `bench job ${i}` });
      if (outcome.kind !== 'created') throw new Error(outcome.kind);
      ids.push(outcome.job.id);
      await new Promise((r) => setTimeout(r, spacingMs));
    }
    await waitForEnd(ids);
    const done = (await store.getJobs(ids)).map((job) => job!);
    const failed = done.filter((job) => job.status !== 'SUCCEEDED');
    if (failed.length) throw new Error(`${failed.length} jobs failed: ${failed[0]!.error?.message}`);

    const requests = done.map((job) => counting.requestsByJob.get(job.upstreamJobId!) ?? 0);
    const lags: number[] = [];
    for (const job of done) {
      const upstream = await new ScenarioClient({ baseUrl: upstreamUrl, apiKey: 'bench', apiSecret: 'bench' }).getJob(job.upstreamJobId!);
      const history = (upstream.raw as { statusHistory?: Array<{ status: string; date: string }> }).statusHistory ?? [];
      const finishedAt = Date.parse(history.find((h) => h.status === 'success')!.date);
      lags.push((counting.successSeenAt.get(job.upstreamJobId!)! - finishedAt) / 1000);
    }
    return {
      jobSeconds,
      jobs,
      requestsMedian: round(median(requests)),
      requestsP95: round(quantile(requests, 0.95)),
      lagP95Seconds: round(quantile(lags, 0.95)),
      lagBudgetSeconds: Math.max(3, 0.15 * jobSeconds),
      perJob: requests.map((r, i) => ({ requests: round(r), lagSeconds: round(lags[i]!) })),
    };
  } finally {
    await engine.stop();
    await store.close();
    await simulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const lengths = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const seconds of lengths.length ? lengths : [60, 180, 300]) {
    console.log(JSON.stringify(await measurePolling(seconds)));
  }
}
