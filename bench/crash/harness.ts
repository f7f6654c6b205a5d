// The crash test (issue 6 §2): the simulator and the gateway as separate processes on one database; several users
// create jobs continuously over the GraphQL API with real tokens while jobs are queued, running and being stored;
// the gateway is killed with SIGKILL at random moments and restarted each time. On SQLite the gateway is one process;
// on PostgreSQL it is several replicas sharing the database, Redis and the media directory (CONTRACT §9), and each
// kill hits one of them, picked at random, while the others keep working. At the end, with every gateway drained and
// stopped, the harness checks what must hold whatever the kills did (checks.ts):
//   - jobs lost: every job a client was told about exists and is terminal; every upstream job has its gateway job;
//   - duplicate upstream submissions (the simulator counts submits per input; each job's input is unique);
//   - event sequence numbers 1..n per job, no gap, no duplicate;
//   - PRAGMA integrity_check on SQLite; on PostgreSQL, which has none, the store's own figures against its rows;
//   - every stored file has the sha256 its row records;
//   - SQLite: the time from each restart to the first upstream look at each job that was in flight (≤ 5 s);
//     PostgreSQL: the time from each kill to the first upstream look at each job the killed replica held, i.e. the
//     takeover by another replica once the lease lapses (≤ 20 s) (looks.ts).
// Upstream requests are timed by a recording proxy in the simulator process (bench/lib/simulator-process.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenFor } from '../../src/auth/tokens.ts';
import type { VideoJob } from '../../src/domain/video-job.ts';
import type { Store } from '../../src/store/store.ts';
import { startSimulator, type StartedSimulator } from '../lib/launch.ts';
import { sleep } from '../lib/proc.ts';
import { check, type Goal, type SimulatorCounts } from './checks.ts';
import { UpstreamFaults } from './faults.ts';
import { startClients, type Clients, type CrashUser } from './clients.ts';
import { IN_FLIGHT_PHASES, LeaseWatch, matchFirstLooks, RequestLog, summariseLooks, watch, type LookTimes, type WatchedJob } from './looks.ts';
import { openTopology, type Gateway, type StoreKind, type Topology } from './topology.ts';

export type { Goal } from './checks.ts';

export interface CrashTestOptions {
  kills: number;
  /**
   * `sqlite` (default): one gateway process on a SQLite file. `postgres`: `replicas` gateway processes on a fresh
   * database of the server TEST_DATABASE_URL names, with a fresh key prefix on TEST_REDIS_URL.
   */
  store?: StoreKind;
  /** Gateway processes; more than one needs `store: 'postgres'`. */
  replicas?: number;
  /** Users creating jobs at the same time. */
  users?: number;
  /** Length of a simulated job. */
  jobSeconds?: number;
  /** Seed of the random kill moments and pauses (and, with replicas, of the replica each kill hits). */
  seed?: number;
  /** Longest wait for every job to end after the last restart. */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
  /** Keep the temporary directory (database, media, logs) for inspection, and the PostgreSQL database and Redis keys. */
  keep?: boolean;
  /** Upstream faults queued at random between kills (faults.ts); default on. */
  faults?: boolean;
}

export interface CrashTestResult {
  seed: number;
  kills: number;
  /** PostgreSQL runs only. */
  replicas?: { count: number; store: 'postgres' };
  /**
   * How many kills found at least one job in each phase (from the database right after the kill): any unfinished job
   * on SQLite, the jobs the killed replica held on PostgreSQL.
   */
  killsWithPhase: Record<string, number>;
  /** Upstream faults queued between kills, by kind. */
  faultsQueued: Record<string, number>;
  dir: string;
  seconds: number;
  jobsCreated: number;
  jobsByStatus: Record<string, number>;
  failuresByCode: Record<string, number>;
  /** SQLite runs. */
  restartToFirstPollMs?: LookTimes & { over5s: number };
  /** PostgreSQL runs. */
  killToTakeoverMs?: LookTimes & { over20s: number };
  goals: Goal[];
  ok: boolean;
}

const RESTART_FIRST_POLL_GOAL_MS = 5_000;
const TAKEOVER_GOAL_MS = 20_000;
/** Longest wait for a replica picked to be killed to hold a lease (its steps are mostly short). */
const HOLDING_WAIT_MS = 5_000;
/** What the report says about SQLite's integrity check on PostgreSQL, rather than leave its row out silently. */
export const POSTGRES_INTEGRITY_NOTE =
  "PRAGMA integrity_check: not applicable (SQLite only); the `database:` rows check the PostgreSQL store's figures against its rows instead";

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

export async function runCrashTest(options: CrashTestOptions): Promise<CrashTestResult> {
  const started = Date.now();
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = random(seed);
  const log = options.log ?? (() => {});
  const userCount = options.users ?? 4;
  const store = options.store ?? 'sqlite';
  const replicated = store === 'postgres';
  const dir = mkdtempSync(join(tmpdir(), 'crashtest-'));
  let topology: Topology | null = null;
  let simulator: StartedSimulator | null = null;
  let clients: Clients | null = null;
  let leases: LeaseWatch | null = null;
  try {
    topology = await openTopology({ store, replicas: options.replicas ?? 1, dir, keep: options.keep ?? false, log });
    const { reader } = topology;

    // Users with real tokens, made the way `npm run token -- create <name>` makes them.
    const users: CrashUser[] = [];
    for (let i = 0; i < userCount; i++) {
      const { user, token } = await createTokenFor(reader, `crash-user-${i + 1}`);
      users.push({ name: user.name, token, id: user.id });
    }

    simulator = await startSimulator({ jobSeconds: options.jobSeconds ?? 4, concurrency: 16, record: true, core: null });
    const recorder = new RequestLog(new URL(simulator.proxyUrl!).origin);
    const faults = new UpstreamFaults(simulator.url, rand, options.faults !== false);

    await topology.start(simulator.proxyUrl!);
    const { gateways } = topology;
    clients = startClients(
      users,
      gateways.map((gateway) => gateway.url),
      rand,
    );

    const watched: WatchedJob[] = [];
    const killsWithPhase: Record<string, number> = { waiting: 0, submitting: 0, polling: 0, mirroring: 0 };
    leases = replicated ? new LeaseWatch(reader) : null;
    let heldWaiting = 0;
    for (let kill = 1; kill <= options.kills; kill++) {
      const victim = replicated ? pick(gateways.filter((gateway) => gateway.child.alive), rand) : gateways[0]!;
      // Mostly once ready and working; sometimes while it is still starting (resuming jobs, replaying the queue). A
      // replica works on a job only under a lease, so one is killed, when it can be, while it holds one.
      const early = rand() < 0.15;
      await faults.queue();
      if (early) await sleep(100 + rand() * 900);
      else {
        await victim.waitReady(30_000);
        await sleep(300 + rand() * 2700);
        if (replicated) await holdingLease(reader, victim, HOLDING_WAIT_MS);
      }
      // The one process killed early is always still starting; a replica picked at random may be long ready.
      const starting = early && (!replicated || !(await victim.isReady()));
      await victim.kill();
      const killedAt = victim.life.endedAt!;

      // What the kill interrupted: every unfinished job of the one process, or what the killed replica held.
      const readAt = Date.now();
      const unfinished = await reader.listUnfinishedJobs();
      const hit = replicated ? unfinished.filter((job) => victim.leasedByThisLife(job)) : unfinished;
      for (const phase of Object.keys(killsWithPhase)) if (hit.some((j) => j.phase === phase)) killsWithPhase[phase]!++;
      victim.restart();
      for (const job of hit.filter((j) => IN_FLIGHT_PHASES.has(j.phase))) {
        // A replica killed while it held a job another kill left it: the earlier kill's wait for a look ends here, as
        // a restart killed again does on SQLite.
        if (replicated) for (const earlier of watched) if (earlier.jobId === job.id) earlier.life.endedAt ??= killedAt;
        const at = { number: kill, gateway: victim.name };
        const entry = replicated ? watch(at, job, killedAt, { spawnedAt: killedAt, endedAt: null }) : watch(at, job, victim.life.spawnedAt, victim.life);
        leases?.add(entry, job, readAt);
        watched.push(entry);
      }
      if (replicated) heldWaiting += hit.filter((j) => j.phase === 'waiting').length;
      const jobs = `${unfinished.length} unfinished (${summarisePhases(unfinished)})`;
      log(
        `kill ${kill}/${options.kills}${replicated ? ` of ${victim.name}` : ''}${starting ? ' (while starting)' : early ? ' (early, without waiting for a lease)' : ''}: ` +
          `${replicated ? `held ${hit.length} (${summarisePhases(hit)}) of ${jobs}` : jobs}, ${clients.created.length} jobs created so far`,
      );
    }

    // ---- drain: no new jobs; every job must end ----
    const clientsDone = clients.finish();
    await faults.reset();
    const notReady = (await Promise.all(gateways.map(async (gateway) => ((await gateway.waitReady(30_000)) ? null : gateway)))).filter((g) => g !== null);
    if (notReady.length > 0) throw new Error(`${notReady.map((g) => g.name).join(', ')} did not start after the last kill\n${notReady.map((g) => g.child.tail()).join('\n')}`);
    await clientsDone;
    const drainDeadline = Date.now() + (options.drainTimeoutMs ?? 120_000);
    let open = Infinity;
    while (Date.now() < drainDeadline) {
      open = (await reader.listUnfinishedJobs()).length;
      if (open === 0) break;
      await sleep(500);
    }
    log(`drained: ${open === 0 ? 'every job ended' : `${open} jobs still unfinished`} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await topology.stop();
    const stoppedAt = Date.now();
    for (const entry of watched) entry.life.endedAt ??= stoppedAt;
    await leases?.stop();

    // ---- checks ----
    matchFirstLooks(watched, await recorder.all());
    const simStats = (await (await fetch(`${new URL(simulator.url).origin}/_sim/stats`)).json()) as SimulatorCounts;
    const looks = replicated ? takeoverGoal(watched, heldWaiting) : restartGoal(watched);
    const result = await check({ store: reader, users, created: clients.created, unanswered: clients.unanswered, simStats, mediaDir: topology.mediaDir, looks: looks.goal });
    return {
      seed,
      kills: options.kills,
      ...(replicated ? { replicas: { count: gateways.length, store: 'postgres' as const } } : {}),
      killsWithPhase,
      faultsQueued: faults.queued,
      dir,
      seconds: (Date.now() - started) / 1000,
      jobsCreated: result.jobsCreated,
      jobsByStatus: result.jobsByStatus,
      failuresByCode: result.failuresByCode,
      ...looks.times,
      goals: result.goals,
      ok: result.goals.every((g) => g.met),
    };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${topology?.logTail() ?? ''}`);
  } finally {
    await leases?.stop();
    await clients?.finish();
    await topology?.close();
    await simulator?.child.stop();
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Returns once `gateway` holds a lease, or after `timeoutMs`. */
async function holdingLease(reader: Store, gateway: Gateway, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await reader.listUnfinishedJobs()).some((job) => gateway.leasedByThisLife(job))) return;
    await sleep(20);
  }
}

function pick<T>(items: T[], rand: () => number): T {
  return items[Math.floor(rand() * items.length)]!;
}

function summarisePhases(jobs: VideoJob[]): string {
  const counts: Record<string, number> = {};
  for (const job of jobs) counts[job.phase] = (counts[job.phase] ?? 0) + 1;
  return Object.entries(counts)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ') || 'none';
}

type LookGoal = { goal: Goal; times: Pick<CrashTestResult, 'restartToFirstPollMs' | 'killToTakeoverMs'> };

function lookGoal(name: string, goalMs: number, { times, over, misses }: ReturnType<typeof summariseLooks>, detail: string): Goal {
  const missed = misses.length ? `; over the goal: ${misses.slice(0, 5).join('; ')}` : '';
  return { name, value: times.max === null ? 'no sample' : `${times.max} ms`, goal: `≤ ${goalMs} ms`, met: over === 0 && times.samples > 0, detail: `${detail}${missed}` };
}

const percentiles = (times: LookTimes) => `(p50 ${times.p50} ms, p95 ${times.p95} ms)`;

function restartGoal(watched: WatchedJob[]): LookGoal {
  const summary = summariseLooks(watched, RESTART_FIRST_POLL_GOAL_MS);
  const detail = `${summary.times.samples} jobs × restarts measured ${percentiles(summary.times)}, ${summary.censored} not measurable (killed again within 5 s, before the first look)`;
  return {
    goal: lookGoal('restart → first upstream look at each in-flight job, max', RESTART_FIRST_POLL_GOAL_MS, summary, detail),
    times: { restartToFirstPollMs: { ...summary.times, over5s: summary.over } },
  };
}

function takeoverGoal(watched: WatchedJob[], heldWaiting: number): LookGoal {
  const summary = summariseLooks(watched, TAKEOVER_GOAL_MS);
  const detail =
    `${summary.times.samples} held jobs × kills measured ${percentiles(summary.times)}, ` +
    `${summary.censored} not measurable (the replica that took it over killed too, or the run ended, within 20 s of the kill and before the first look); ` +
    `${heldWaiting} held waiting jobs not timed (their next request, a submit, names no job)`;
  return {
    goal: lookGoal('kill → first upstream look at each job the killed replica held (takeover), max', TAKEOVER_GOAL_MS, summary, detail),
    times: { killToTakeoverMs: { ...summary.times, over20s: summary.over } },
  };
}

export function formatCrashReport(result: CrashTestResult): string {
  const lines = [
    `crash test: ${result.kills} SIGKILLs${result.replicas ? ` over ${result.replicas.count} PostgreSQL replicas` : ''} (seed ${result.seed}), ${result.jobsCreated} jobs created, ${Math.round(result.seconds)} s`,
    `  jobs by status: ${JSON.stringify(result.jobsByStatus)}; failures by code: ${JSON.stringify(result.failuresByCode)}`,
    `  kills that hit jobs ${result.replicas ? 'the killed replica held, by phase' : 'in each phase'}: ${JSON.stringify(result.killsWithPhase)}`,
    `  upstream faults queued between kills: ${JSON.stringify(result.faultsQueued)}`,
    ...(result.replicas ? [`  ${POSTGRES_INTEGRITY_NOTE}`] : []),
    '',
  ];
  const width = Math.max(...result.goals.map((g) => g.name.length));
  for (const goal of result.goals) {
    lines.push(`  ${goal.met ? 'ok    ' : 'MISSED'}  ${goal.name.padEnd(width)}  ${String(goal.value).padEnd(10)} goal ${goal.goal}${goal.detail ? `  (${goal.detail})` : ''}`);
  }
  lines.push('', result.ok ? 'every goal met' : 'SOME GOALS MISSED');
  return lines.join('\n');
}
