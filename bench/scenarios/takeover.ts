// takeover: how long 100 jobs in flight stay unpolled when the replica following them dies (CONTRACT §9: "taken over
// by another within 20 s"). Per run, on a fresh PostgreSQL database and Redis prefix: replica A starts alone and
// follows 100 long jobs; the simulator is told to hang A's next list call, so A's poll round, and its leases on all
// 100 jobs (renewed while the round waits), stay open: the worst case, a replica killed mid-round. B and C start, A is
// SIGKILLed while the database shows it holding every lease, and the recording proxy in front of the simulator times
// the first upstream look (a job read or a list page showing it) at each job after the kill.
//
// B and C follow no job of their own, so every look after the kill is a takeover; none may come before A's leases
// run out (they are fenced), which the figure checks against the lease expiry read just before the kill.
import { join } from 'node:path';
import { RemoteSimulator } from '../../src/simulator/remote.ts';
import type { VideoJob } from '../../src/domain/video-job.ts';
import { DEFAULT_LEASE_MS } from '../../src/store/store.ts';
import { createBacking, servicesUnavailable, skippedOutcome } from '../lib/backing.ts';
import { Cleanup } from '../lib/cleanup.ts';
import { startSimulator } from '../lib/launch.ts';
import { JobCreator } from '../lib/poller-load.ts';
import { sleep, waitUntil } from '../lib/proc.ts';
import { prepareReplicaDatabase, startReplicas, stopReplicas, upstreamEnv, type Replica } from '../lib/replicas.ts';
import { median } from '../lib/stats.ts';
import { isPoll, UpstreamRecord } from '../lib/upstream-record.ts';
import type { Scenario, ScenarioContext } from './context.ts';

const JOBS = 100;
/** Long enough that no job ends during a run (about a minute). */
const JOB_SECONDS = 300;
const GOAL_MS = 20_000;
const KILLED = 'takeover-a';

const FIGURE = { measure: `SIGKILL of the replica holding the leases of ${JOBS} polled jobs → every job polled again by another replica`, unit: 's', goal: `≤ ${GOAL_MS / 1000} s` };

interface TakeoverRun {
  /** Kill → the last job's first look, ms. */
  lastLookMs: number;
  firstLookMs: number;
  medianLookMs: number;
  /** Leases of A on the 100 jobs, read just before the kill. */
  leasesHeldAtKill: number;
  /** Kill → the latest expiry of those leases (by the database's clock), ms. */
  leaseLeftMs: number;
  /** Looks that came before the lease they had to wait for ran out (a fencing failure: should be 0). */
  looksBeforeExpiry: number;
  lookedAt: number;
}

const leasedBy = (owner: string, jobs: readonly VideoJob[], now: number) =>
  jobs.filter((job) => job.leaseOwner === owner && (job.leaseExpiresAt ?? 0) > now);

async function takeoverRun(ctx: ScenarioContext, run: number): Promise<TakeoverRun> {
  const cleanup = new Cleanup(ctx.log);
  try {
    const backing = await createBacking('takeover');
    cleanup.defer('PostgreSQL database and Redis keys', () => backing.drop());
    const db = await prepareReplicaDatabase(backing, ctx.tempDir(`takeover-${run}`));
    cleanup.defer('reader', () => db.reader.close());
    const simulator = await startSimulator({ jobSeconds: JOB_SECONDS, concurrency: 2 * JOBS, record: true });
    cleanup.defer('simulator', () => simulator.child.stop());
    const replicas: Replica[] = [];
    cleanup.defer('replicas', () => stopReplicas(replicas));
    const start = async (names: string[]) => {
      const env = { ...upstreamEnv(simulator.proxyUrl!), UPSTREAM_MAX_IN_FLIGHT: String(JOBS), MAX_ACTIVE_JOBS_PER_USER: String(2 * JOBS), GENERATE_RATE_LIMIT_PER_MINUTE: '100000' };
      const started = await startReplicas({ backing, names, env, mediaDir: db.mediaDir });
      replicas.push(...started);
      return started;
    };

    const [a] = await start([KILLED]);
    await new JobCreator([a!.url], db.token, 'takeover job').upTo(JOBS);
    const record = new UpstreamRecord(simulator.proxyUrl!);
    const polledByA = new Set<string>();
    const jobs = await waitUntil(
      async () => {
        const unfinished = await db.reader.listUnfinishedJobs();
        for (const r of (await record.newRecords()).filter(isPoll)) for (const id of r.jobIds) polledByA.add(id);
        const following = unfinished.filter((job) => job.phase === 'polling' && job.upstreamJobId !== null);
        return following.length === JOBS && following.every((job) => polledByA.has(job.upstreamJobId!)) ? following : null;
      },
      90_000,
      `all ${JOBS} jobs polling and polled by A`,
      250,
    );
    ctx.log(`run ${run + 1}: ${JOBS} jobs in flight, polled by A alone`);
    const current = async () => (await db.reader.getJobs(jobs.map((job) => job.id))).filter((job): job is VideoJob => job !== null);

    // A's next round waits on a list call that never answers, holding (and renewing) its leases meanwhile.
    const upstream = new RemoteSimulator(simulator.url);
    await upstream.hang('listJobs', { count: 1 });
    await waitUntil(
      async () => {
        const hung = (await upstream.stats()).requests.listJobs?.hung ?? 0;
        return hung > 0 && leasedBy(KILLED, await current(), Date.now()).length === JOBS;
      },
      60_000,
      "A's poll round to hang holding every lease",
      100,
    );
    await start(['takeover-b', 'takeover-c']);
    await sleep(1000); // B and C in their scheduler loops

    const held = leasedBy(KILLED, await current(), Date.now());
    const leaseEnds = new Map(held.map((job) => [job.upstreamJobId!, job.leaseExpiresAt!]));
    await record.newRecords(); // what came before the kill is not a takeover
    const killedAt = Date.now();
    a!.child.signal('SIGKILL');
    await a!.child.exited;
    ctx.log(`run ${run + 1}: A killed holding ${held.length}/${JOBS} leases, ${((Math.max(...leaseEnds.values()) - killedAt) / 1000).toFixed(1)} s of lease left`);

    const firstLook = new Map<string, number>();
    const wanted = new Set(jobs.map((job) => job.upstreamJobId!));
    await waitUntil(
      async () => {
        for (const r of (await record.newRecords()).filter(isPoll)) {
          for (const id of r.jobIds) if (wanted.has(id) && !firstLook.has(id)) firstLook.set(id, r.t);
        }
        return firstLook.size === wanted.size;
      },
      3 * GOAL_MS,
      `every one of the ${JOBS} jobs polled after the kill`,
      100,
    );
    const delays = [...firstLook.values()].map((t) => t - killedAt);
    const result: TakeoverRun = {
      lastLookMs: Math.max(...delays),
      firstLookMs: Math.min(...delays),
      medianLookMs: median(delays),
      leasesHeldAtKill: held.length,
      leaseLeftMs: Math.max(...leaseEnds.values()) - killedAt,
      looksBeforeExpiry: [...firstLook].filter(([id, t]) => leaseEnds.has(id) && t < leaseEnds.get(id)!).length,
      lookedAt: firstLook.size,
    };
    ctx.log(
      `run ${run + 1}: every job polled again ${(result.lastLookMs / 1000).toFixed(2)} s after the kill (first ${(result.firstLookMs / 1000).toFixed(2)} s); ${result.looksBeforeExpiry} looks before the lease ran out`,
    );
    return result;
  } finally {
    await cleanup.run();
  }
}

export const takeover: Scenario = async (ctx) => {
  const unavailable = await servicesUnavailable();
  if (unavailable) return skippedOutcome(unavailable, [FIGURE]);
  const runs: TakeoverRun[] = [];
  for (let run = 0; run < ctx.runs; run++) runs.push(await takeoverRun(ctx, run));
  const last = median(runs.map((r) => r.lastLookMs)) / 1000;
  const worst = Math.max(...runs.map((r) => r.lastLookMs)) / 1000;
  const fenced = runs.every((r) => r.looksBeforeExpiry === 0);
  const leased = runs.every((r) => r.leasesHeldAtKill === JOBS);
  return {
    figures: [
      {
        ...FIGURE,
        value: last,
        baseline: `lease left at the kill ${(median(runs.map((r) => r.leaseLeftMs)) / 1000).toFixed(1)} s (leases last ${DEFAULT_LEASE_MS / 1000} s, renewed while a step runs); first look ${(median(runs.map((r) => r.firstLookMs)) / 1000).toFixed(1)} s; worst run ${worst.toFixed(1)} s; A held ${runs.map((r) => r.leasesHeldAtKill).join('/')} of ${JOBS} leases`,
        met: last <= GOAL_MS / 1000 && worst <= GOAL_MS / 1000 && fenced && leased,
        runs: runs.map((r) => r.lastLookMs / 1000),
      },
    ],
    notes: [
      `Leased case, the worst: A is killed in the middle of a poll round (its list call hung by the simulator's fault), holding the lease of every one of the ${JOBS} jobs; the others may take a job only once its lease has run out. ${fenced ? 'No job was looked at before its lease ran out.' : 'Some jobs were looked at before their lease ran out: a fencing failure.'}`,
      `Per run: a fresh database and Redis prefix; the simulator (${JOB_SECONDS} s jobs, concurrency ${2 * JOBS}) with the recording proxy (SIM_RECORD=1) on the load core; replicas A, B, C (bench gateway processes) on the server core, UPSTREAM_MAX_IN_FLIGHT=${JOBS}, default poll bounds and lease length. A starts alone, creates and polls the ${JOBS} jobs; B and C start while A's round hangs; A is SIGKILLed 1 s after they are up. A look = a job read or a list page showing the job, timed at the proxy.`,
    ],
    details: { runs },
  };
};
