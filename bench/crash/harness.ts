// The crash test (issue 6 §2): the simulator and the gateway as separate processes on one database; several users
// create jobs continuously over the GraphQL API with real tokens while jobs are queued, running and being stored;
// the gateway is killed with SIGKILL at random moments and restarted each time. At the end, with the gateway drained
// and stopped, the harness checks what must hold whatever the kills did:
//   - jobs lost: every job a client was told about exists and is terminal; every upstream job has its gateway job;
//   - duplicate upstream submissions (the simulator counts submits per input; each job's input is unique);
//   - event sequence numbers 1..n per job, no gap, no duplicate;
//   - PRAGMA integrity_check;
//   - every stored file has the sha256 its row records;
//   - the time from each restart to the first upstream look at each job that was in flight (≤ 5 s).
// Upstream requests are timed by a recording proxy in the simulator process (bench/lib/simulator-process.ts).
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenFor } from '../../src/auth/tokens.ts';
import type { VideoJob } from '../../src/domain/video-job.ts';
import { isTerminal } from '../../src/domain/video-job.ts';
import { localId } from '../../src/schema/global-id.ts';
import { RemoteSimulator } from '../../src/simulator/remote.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/open.ts';
import { GENERATE } from '../lib/gql.ts';
import { startSimulator, type StartedSimulator } from '../lib/launch.ts';
import { freePort, sleep, spawnNode, type Child } from '../lib/proc.ts';
import { quantile } from '../lib/stats.ts';

export interface CrashTestOptions {
  kills: number;
  /** Users creating jobs at the same time. */
  users?: number;
  /** Length of a simulated job. */
  jobSeconds?: number;
  /** Seed of the random kill moments and pauses. */
  seed?: number;
  /** Longest wait for every job to end after the last restart. */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
  /** Keep the temporary directory (database, media, logs) for inspection. */
  keep?: boolean;
  /**
   * Upstream faults queued at random between kills (default on): a submit whose connection drops after upstream took
   * the job (the job stays `submitting` until reconciled), a cut download and a 503 on an asset read (it stays
   * `mirroring` while the retries back off). They keep jobs in the short-lived phases long enough for kills to land
   * there, and exercise reconciliation and temp-file cleanup under kills.
   */
  faults?: boolean;
}

export interface Goal {
  name: string;
  value: number | string;
  goal: string;
  met: boolean;
  detail?: string;
}

export interface CrashTestResult {
  seed: number;
  kills: number;
  jobsCreated: number;
  jobsByStatus: Record<string, number>;
  failuresByCode: Record<string, number>;
  /** How many kills found at least one job in each phase (from the database right after the kill). */
  killsWithPhase: Record<string, number>;
  /** Upstream faults queued between kills, by kind. */
  faultsQueued: Record<string, number>;
  restartToFirstPollMs: { samples: number; p50: number | null; p95: number | null; max: number | null; over5s: number };
  goals: Goal[];
  ok: boolean;
  dir: string;
  seconds: number;
}

const RESTART_FIRST_POLL_GOAL_MS = 5_000;
const MAX_ACTIVE_PER_USER = 3;
const IN_FLIGHT_PHASES = new Set(['submitting', 'polling', 'mirroring']);

/** mulberry32: small, seeded, good enough for kill moments. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CreatedJob {
  key: string;
  user: string;
  globalId: string;
  localId: string;
}

interface RecordedRequest {
  t: number;
  route: string;
  jobIds: string[];
  assetIds: string[];
}

/** A job that was in flight when the gateway was killed, waiting to be looked at after the restart. */
interface InFlightAtKill {
  restart: number;
  spawnedAt: number;
  jobId: string;
  phase: string;
  upstreamJobId: string | null;
  assetIds: string[];
  firstLookAt: number | null;
}

export async function runCrashTest(options: CrashTestOptions): Promise<CrashTestResult> {
  const started = Date.now();
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = random(seed);
  const log = options.log ?? (() => {});
  const userCount = options.users ?? 4;
  const dir = mkdtempSync(join(tmpdir(), 'crashtest-'));
  const databaseUrl = `file:${join(dir, 'gateway.db')}`;
  const mediaDir = join(dir, 'media');

  // Users with real tokens, made the way `npm run token -- create <name>` makes them.
  const users: Array<{ name: string; token: string; id: string }> = [];
  {
    const store = await openSqliteStore(databaseUrl);
    for (let i = 0; i < userCount; i++) {
      const { user, token } = await createTokenFor(store, `crash-user-${i + 1}`);
      users.push({ name: user.name, token, id: user.id });
    }
    await store.close();
  }

  const simulator: StartedSimulator = await startSimulator({ jobSeconds: options.jobSeconds ?? 4, concurrency: 16, record: true, core: null });
  const recorder = new RequestLog(new URL(simulator.proxyUrl!).origin);
  const upstream = new RemoteSimulator(simulator.url);
  const faultsQueued: Record<string, number> = { 'submit dropped after processing': 0, 'download cut': 0, 'asset read 503': 0 };
  const queueFaults = async () => {
    if (options.faults === false) return;
    if (rand() < 0.3) {
      await upstream.dropConnection('submit', { when: 'after', count: 1 });
      faultsQueued['submit dropped after processing']!++;
    }
    if (rand() < 0.3) {
      await upstream.truncateBody('download', { count: 1 });
      faultsQueued['download cut']!++;
    }
    if (rand() < 0.2) {
      await upstream.respondWith('getAsset', { status: 503, count: 1 });
      faultsQueued['asset read 503']!++;
    }
  };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const gatewayEnv = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    MEDIA_DIR: mediaDir,
    SCENARIO_API_URL: simulator.proxyUrl!,
    SCENARIO_SDK_API_KEY: 'crash-test-key',
    SCENARIO_SDK_API_SECRET: 'crash-test-secret',
    UPSTREAM_MAX_IN_FLIGHT: '5',
    MAX_ACTIVE_JOBS_PER_USER: String(MAX_ACTIVE_PER_USER),
    GENERATE_RATE_LIMIT_PER_MINUTE: '1000',
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
  };
  let gateway: Child | null = null;
  let gatewayLogs = '';
  let starts = 0;
  const spawnGateway = () => {
    // The real entry point, in one process (`node --import tsx src/main.ts`, what `npm start` runs behind npm and tsx),
    // so that SIGKILL hits the gateway itself.
    const child = spawnNode('src/main.ts', [], { env: gatewayEnv, core: null });
    gateway = child;
    const number = ++starts;
    void child.exited.then(({ signal }) => {
      gatewayLogs = (gatewayLogs + child.stdout + child.stderr).slice(-200_000);
      if (options.keep) writeFileSync(join(dir, `gateway-${String(number).padStart(2, '0')}.log`), `${child.stdout}${child.stderr}\n(exit: ${signal ?? 'code'})\n`);
    });
    return child;
  };
  const waitReady = async (child: Child, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && child.alive) {
      try {
        if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok) return true;
      } catch {
        // not yet
      }
      await sleep(25);
    }
    return false;
  };

  // ---- clients: each user creates jobs one after another, retrying the same idempotency key until it is answered ----
  const created: CreatedJob[] = [];
  const unanswered: string[] = [];
  let creating = true;
  const client = async (user: (typeof users)[number], index: number) => {
    for (let n = 0; creating; n++) {
      const key = `${user.name}-${n}`;
      const input = {
        prompt: `crash test ${key}: a paper boat on a rainy street`,
        durationSeconds: rand() < 0.5 ? 5 : 10,
        size: rand() < 0.75 ? 'LANDSCAPE_720P' : 'PORTRAIT_720P',
        idempotencyKey: key,
      };
      const deadline = Date.now() + 90_000;
      let answered = false;
      while (!answered && Date.now() < deadline) {
        try {
          const response = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
            body: JSON.stringify({ query: GENERATE, variables: { input } }),
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await response.json()) as { data?: { generateVideo?: { __typename: string; job?: { id: string } } } };
          const result = body.data?.generateVideo;
          if (result?.__typename === 'GenerateVideoSuccess') {
            const globalId = result.job!.id;
            created.push({ key, user: user.name, globalId, localId: localId(globalId, 'VideoJob') ?? globalId });
            answered = true;
          } else {
            // Quota (the user's jobs are still running), rate limit, or the gateway is not ready: the same key later.
            await sleep(250 + rand() * 500);
          }
        } catch {
          // Killed mid-request or not listening: the same key again, once it is back.
          await sleep(150 + rand() * 150);
        }
      }
      if (!answered) unanswered.push(key);
      await sleep(50 + rand() * 300 + index * 10);
    }
  };

  const inFlight: InFlightAtKill[] = [];
  const killsWithPhase: Record<string, number> = { waiting: 0, submitting: 0, polling: 0, mirroring: 0 };
  const restartLives: Array<{ spawnedAt: number; endedAt: number }> = [];
  let clients: Promise<void>[] = [];
  try {
    let child = spawnGateway();
    let spawnedAt = Date.now();
    if (!(await waitReady(child, 30_000))) throw new Error(`gateway did not start\n${child.tail()}`);
    clients = users.map((user, index) => client(user, index));

    for (let kill = 1; kill <= options.kills; kill++) {
      // Mostly once ready and working; sometimes while it is still starting (resuming jobs, replaying the queue).
      const early = rand() < 0.15;
      await queueFaults();
      if (early) await sleep(100 + rand() * 900);
      else {
        await waitReady(child, 30_000);
        await sleep(300 + rand() * 2700);
      }
      child.signal('SIGKILL');
      await child.exited;
      restartLives.push({ spawnedAt, endedAt: Date.now() });

      // What was in flight at the moment of the kill.
      const unfinished = await readUnfinished(databaseUrl);
      for (const phase of Object.keys(killsWithPhase)) if (unfinished.some((j) => j.phase === phase)) killsWithPhase[phase]!++;
      child = spawnGateway();
      spawnedAt = Date.now();
      for (const job of unfinished.filter((j) => IN_FLIGHT_PHASES.has(j.phase))) {
        inFlight.push({ restart: kill, spawnedAt, jobId: job.id, phase: job.phase, upstreamJobId: job.upstreamJobId, assetIds: job.upstreamAssetIds, firstLookAt: null });
      }
      log(
        `kill ${kill}/${options.kills}${early ? ' (while starting)' : ''}: ${unfinished.length} unfinished (${summarisePhases(unfinished)}), ${created.length} jobs created so far`,
      );
    }

    // ---- drain: no new jobs; every job must end ----
    creating = false;
    await upstream.resetFaults();
    if (!(await waitReady(child, 30_000))) throw new Error(`gateway did not start after the last kill\n${child.tail()}`);
    await Promise.all(clients);
    const drainDeadline = Date.now() + (options.drainTimeoutMs ?? 120_000);
    let open = Infinity;
    while (Date.now() < drainDeadline) {
      open = (await readUnfinished(databaseUrl)).length;
      if (open === 0) break;
      await sleep(500);
    }
    log(`drained: ${open === 0 ? 'every job ended' : `${open} jobs still unfinished`} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await child.stop('SIGTERM', 15_000);
    restartLives.push({ spawnedAt, endedAt: Date.now() });

    // ---- checks ----
    const requests = await recorder.all();
    matchFirstLooks(inFlight, requests);
    const simStats = (await (await fetch(`${new URL(simulator.url).origin}/_sim/stats`)).json()) as {
      submits: number;
      duplicateInputs: string[];
      jobs: Array<{ jobId: string; status: string }>;
    };
    const store = await openSqliteStore(databaseUrl);
    try {
      const result = await check({
        store,
        users,
        created,
        unanswered,
        simStats,
        mediaDir,
        inFlight,
        restartLives,
      });
      const seconds = (Date.now() - started) / 1000;
      return { seed, kills: options.kills, killsWithPhase, faultsQueued, dir, seconds, ...result, ok: result.goals.every((g) => g.met) };
    } finally {
      await store.close();
    }
  } catch (error) {
    creating = false;
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- gateway log tail ---\n${(gatewayLogs + ((gateway as Child | null)?.stdout ?? '')).slice(-3000)}`);
  } finally {
    creating = false;
    if (gateway && (gateway as Child).alive) (gateway as Child).signal('SIGKILL');
    await Promise.allSettled(clients);
    await simulator.child.stop();
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function summarisePhases(jobs: VideoJob[]): string {
  const counts: Record<string, number> = {};
  for (const job of jobs) counts[job.phase] = (counts[job.phase] ?? 0) + 1;
  return Object.entries(counts)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ') || 'none';
}

/** The unfinished jobs, read through the store: right after a kill, or beside the running gateway (WAL: a second connection reads a consistent snapshot). */
async function readUnfinished(databaseUrl: string): Promise<VideoJob[]> {
  const store = await openSqliteStore(databaseUrl);
  try {
    return await store.listUnfinishedJobs();
  } finally {
    await store.close();
  }
}

class RequestLog {
  private next = 0;
  private readonly records: RecordedRequest[] = [];
  constructor(private readonly origin: string) {}

  async all(): Promise<RecordedRequest[]> {
    for (let page = 0; page < 1000; page++) {
      const body = (await (await fetch(`${this.origin}/_rec/log?from=${this.next}`)).json()) as { next: number; records: RecordedRequest[] };
      this.records.push(...body.records);
      if (body.records.length === 0) break;
      this.next = body.next;
    }
    return this.records;
  }
}

/** The first upstream request after each restart that looked at each job that was in flight at the kill. */
function matchFirstLooks(inFlight: InFlightAtKill[], requests: RecordedRequest[]): void {
  for (const job of inFlight) {
    for (const request of requests) {
      if (request.t < job.spawnedAt) continue;
      const looks =
        job.phase === 'submitting'
          ? request.route === 'listJobs' // reconciliation searches the list
          : job.phase === 'mirroring'
            ? request.route === 'getAsset' && request.assetIds.some((id) => job.assetIds.includes(id))
            : (request.route === 'getJob' || request.route === 'listJobs') && job.upstreamJobId !== null && request.jobIds.includes(job.upstreamJobId);
      if (looks) {
        job.firstLookAt = request.t;
        break;
      }
    }
  }
}

interface CheckInput {
  store: SqliteStore;
  users: Array<{ name: string; id: string }>;
  created: CreatedJob[];
  unanswered: string[];
  simStats: { submits: number; duplicateInputs: string[]; jobs: Array<{ jobId: string; status: string }> };
  mediaDir: string;
  inFlight: InFlightAtKill[];
  restartLives: Array<{ spawnedAt: number; endedAt: number }>;
}

async function check(input: CheckInput): Promise<Omit<CrashTestResult, 'seed' | 'kills' | 'killsWithPhase' | 'faultsQueued' | 'dir' | 'seconds' | 'ok'>> {
  const { store } = input;
  const goals: Goal[] = [];
  // Every job of every user, whether or not a client saw its id.
  const all: VideoJob[] = [];
  for (const user of input.users) {
    all.push(...(await store.listJobs({ ownerId: user.id, order: 'CREATED_AT_ASC', limit: 1_000_000 })).jobs);
  }
  const byId = new Map(all.map((job) => [job.id, job]));
  const createdIds = new Set(input.created.map((c) => c.localId));
  const missing = input.created.filter((c) => !byId.has(c.localId));
  const stuck = all.filter((job) => !isTerminal(job.status));
  const unknownToClients = all.filter((job) => !createdIds.has(job.id));
  const claimed = new Set(all.map((job) => job.upstreamJobId).filter((id): id is string => id !== null));
  const orphans = input.simStats.jobs.filter((job) => !claimed.has(job.jobId));

  const jobsByStatus: Record<string, number> = {};
  const failuresByCode: Record<string, number> = {};
  for (const job of all) {
    jobsByStatus[job.status] = (jobsByStatus[job.status] ?? 0) + 1;
    if (job.error) failuresByCode[job.error.code] = (failuresByCode[job.error.code] ?? 0) + 1;
  }

  goals.push({
    name: 'jobs lost: created but missing',
    value: missing.length + input.unanswered.length,
    goal: '0',
    met: missing.length + input.unanswered.length === 0,
    detail: [...missing.map((m) => m.key), ...input.unanswered.map((k) => `${k} (never answered)`)].slice(0, 10).join(', '),
  });
  goals.push({
    name: 'jobs lost: stuck (not terminal after the drain)',
    value: stuck.length,
    goal: '0',
    met: stuck.length === 0,
    detail: stuck
      .slice(0, 10)
      .map((j) => `${j.id} ${j.status}/${j.phase}`)
      .join(', '),
  });
  goals.push({
    name: 'jobs lost: upstream jobs no gateway job claims (paid, not followed)',
    value: orphans.length,
    goal: '0',
    met: orphans.length === 0,
    detail: orphans
      .slice(0, 10)
      .map((j) => `${j.jobId} ${j.status}`)
      .join(', '),
  });
  goals.push({
    name: 'duplicate upstream submissions (same input submitted twice)',
    value: input.simStats.duplicateInputs.length,
    goal: '0',
    met: input.simStats.duplicateInputs.length === 0,
    detail: `${input.simStats.submits} submits for ${all.length} jobs (${claimed.size} with an upstream job)`,
  });

  // Events: 1..n per job.
  const events = await store.listEvents(all.map((j) => j.id));
  let badSequences = 0;
  const badExamples: string[] = [];
  for (const job of all) {
    const seqs = (events.get(job.id) ?? []).map((e) => e.seq);
    const ok = seqs.length > 0 && seqs.every((seq, i) => seq === i + 1);
    if (!ok) {
      badSequences++;
      if (badExamples.length < 5) badExamples.push(`${job.id}: ${seqs.join(',')}`);
    }
  }
  goals.push({ name: 'jobs with duplicate or missing event seq', value: badSequences, goal: '0', met: badSequences === 0, detail: badExamples.join('; ') });

  const integrity = store.integrityCheck();
  goals.push({ name: 'PRAGMA integrity_check', value: integrity.join('; '), goal: 'ok', met: integrity.length === 1 && integrity[0] === 'ok' });

  // Stored files against their recorded sha256; every SUCCEEDED job has its video.
  const assets = await store.listVideoAssets(all.map((j) => j.id));
  let badFiles = 0;
  let files = 0;
  const badFileExamples: string[] = [];
  for (const job of all) {
    const rows = assets.get(job.id) ?? [];
    if (job.status === 'SUCCEEDED' && rows.length === 0) {
      badFiles++;
      badFileExamples.push(`${job.id}: SUCCEEDED without a video`);
    }
    for (const asset of rows) {
      files++;
      const actual = await sha256Of(join(input.mediaDir, asset.filePath)).catch(() => null);
      if (actual !== asset.sha256) {
        badFiles++;
        if (badFileExamples.length < 5) badFileExamples.push(`${asset.filePath}: ${actual ?? 'missing'}`);
      }
    }
  }
  const leftovers = temporaryFiles(join(input.mediaDir, 'videos'));
  goals.push({
    name: 'stored files whose sha256 does not match',
    value: badFiles,
    goal: '0',
    met: badFiles === 0,
    detail: `${files} files checked${badFileExamples.length ? `; ${badFileExamples.join('; ')}` : ''}`,
  });
  goals.push({ name: 'temporary files left by interrupted downloads', value: leftovers, goal: '0', met: leftovers === 0 });

  // Restart → first upstream look at each job that was in flight at the kill.
  const samples: number[] = [];
  let over = 0;
  let censored = 0;
  for (const job of input.inFlight) {
    const life = input.restartLives.find((l) => l.spawnedAt === job.spawnedAt);
    const endedAt = life?.endedAt ?? Infinity;
    if (job.firstLookAt !== null && job.firstLookAt <= endedAt) {
      const ms = job.firstLookAt - job.spawnedAt;
      samples.push(ms);
      if (ms > RESTART_FIRST_POLL_GOAL_MS) over++;
    } else if (endedAt - job.spawnedAt > RESTART_FIRST_POLL_GOAL_MS) {
      // Ran more than 5 s after the restart without looking at the job.
      over++;
      samples.push(endedAt - job.spawnedAt);
    } else censored++;
  }
  const restartToFirstPollMs = {
    samples: samples.length,
    p50: samples.length ? Math.round(quantile(samples, 0.5)) : null,
    p95: samples.length ? Math.round(quantile(samples, 0.95)) : null,
    max: samples.length ? Math.max(...samples) : null,
    over5s: over,
  };
  goals.push({
    name: 'restart → first upstream look at each in-flight job, max',
    value: restartToFirstPollMs.max === null ? 'no sample' : `${restartToFirstPollMs.max} ms`,
    goal: '≤ 5000 ms',
    met: over === 0 && samples.length > 0,
    detail: `${samples.length} jobs × restarts measured (p50 ${restartToFirstPollMs.p50} ms, p95 ${restartToFirstPollMs.p95} ms), ${censored} not measurable (killed again within 5 s, before the first look)`,
  });
  if (unknownToClients.length) {
    goals.push({
      name: 'jobs no client was told about',
      value: unknownToClients.length,
      goal: '0',
      met: unknownToClients.length === 0,
      detail: unknownToClients.slice(0, 5).map((j) => j.id).join(', '),
    });
  }
  return { jobsCreated: input.created.length, jobsByStatus, failuresByCode, restartToFirstPollMs, goals };
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

function temporaryFiles(dir: string): number {
  let count = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return 0;
  }
  for (const entry of entries) if (/\.part-[0-9a-f]+$/.test(entry)) count++;
  return count;
}

export function formatCrashReport(result: CrashTestResult): string {
  const lines = [
    `crash test: ${result.kills} SIGKILLs (seed ${result.seed}), ${result.jobsCreated} jobs created, ${Math.round(result.seconds)} s`,
    `  jobs by status: ${JSON.stringify(result.jobsByStatus)}; failures by code: ${JSON.stringify(result.failuresByCode)}`,
    `  kills that hit jobs in each phase: ${JSON.stringify(result.killsWithPhase)}`,
    `  upstream faults queued between kills: ${JSON.stringify(result.faultsQueued)}`,
    '',
  ];
  const width = Math.max(...result.goals.map((g) => g.name.length));
  for (const goal of result.goals) {
    lines.push(`  ${goal.met ? 'ok    ' : 'MISSED'}  ${goal.name.padEnd(width)}  ${String(goal.value).padEnd(10)} goal ${goal.goal}${goal.detail ? `  (${goal.detail})` : ''}`);
  }
  lines.push('', result.ok ? 'every goal met' : 'SOME GOALS MISSED');
  return lines.join('\n');
}
