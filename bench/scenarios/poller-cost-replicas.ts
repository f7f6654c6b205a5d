// poller-cost-replicas: the poller-cost measurement (1 000 jobs in flight against a simulator process, CPU over fixed
// windows from each process's own cpuUsage, upstream requests counted by the simulator) with the jobs followed by 3
// replicas on PostgreSQL + Redis, against 1 replica on PostgreSQL in the same run. Each topology gets a fresh database,
// Redis prefix and simulator, and the same timeline after the last job is submitted (settling, then the windows): a
// poll round answers every followed job, so rounds come as often as the youngest job's interval allows, and that
// interval stretches with its age; the youngest jobs are equally old in both windows even when creation is slower.
//
// Which replica polls a job is decided by the claims, not by where it was created (round-robin over the replicas
// here); each replica's own /metrics says how many upstream requests it made.
import { createBacking, PostgresCpu, servicesUnavailable, skippedOutcome } from '../lib/backing.ts';
import { Cleanup } from '../lib/cleanup.ts';
import { startSimulator } from '../lib/launch.ts';
import { cpuShares, JobCreator, jobsInFlight, upstreamRequestCount, upstreamRequestsByRoute } from '../lib/poller-load.ts';
import { sleep, waitUntil } from '../lib/proc.ts';
import { prepareReplicaDatabase, startReplicas, stopReplicas, upstreamEnv } from '../lib/replicas.ts';
import { median } from '../lib/stats.ts';
import type { Scenario, ScenarioContext } from './context.ts';
import { IDLE_WINDOW_MS, JOB_SECONDS, JOBS_IN_FLIGHT, SETTLE_MS, WINDOW_MS } from './poller-cost.ts';

const REPLICAS = 3;
const CPU_GOAL = 10;

const FIGURES = [
  { measure: `CPU of each of ${REPLICAS} replicas (PostgreSQL + Redis), ${JOBS_IN_FLIGHT} jobs in flight, the busiest`, unit: '% of a core', goal: `≤ ${CPU_GOAL} %` },
  { measure: `upstream requests per job in flight, ${REPLICAS} replicas ÷ 1 replica on PostgreSQL`, unit: '×', goal: '≤ 1.0' },
];

interface Topology {
  replicas: string[];
  idle: number[];
  /** Per window, each replica's share of a core. */
  shares: number[][];
  /** Per window, upstream requests per second (simulator). */
  rates: number[];
  /** Per window, PostgreSQL backends' CPU for the database, share of a core. */
  databaseShares: number[];
  /** Upstream requests each replica made over all windows, by route (its /metrics). */
  byReplica: Array<Record<string, number>>;
  stillInFlight: number;
  createSeconds: number;
}

async function measureTopology(ctx: ScenarioContext, count: number): Promise<Topology> {
  const cleanup = new Cleanup(ctx.log);
  const label = `${count} replica${count > 1 ? 's' : ''}`;
  try {
    const backing = await createBacking(`poller${count}`);
    cleanup.defer('PostgreSQL database and Redis keys', () => backing.drop());
    const db = await prepareReplicaDatabase(backing, ctx.tempDir(`poller-cost-replicas-${count}`));
    cleanup.defer('reader', () => db.reader.close());
    const simulator = await startSimulator({ jobSeconds: JOB_SECONDS, concurrency: 5 * JOBS_IN_FLIGHT });
    cleanup.defer('simulator', () => simulator.child.stop());
    const replicas = await startReplicas({
      backing,
      names: Array.from({ length: count }, (_, i) => `poller${count}-r${i}`),
      env: {
        ...upstreamEnv(simulator.url),
        UPSTREAM_MAX_IN_FLIGHT: String(JOBS_IN_FLIGHT),
        MAX_ACTIVE_JOBS_PER_USER: String(2 * JOBS_IN_FLIGHT),
        GENERATE_RATE_LIMIT_PER_MINUTE: '100000',
      },
      mediaDir: db.mediaDir,
    });
    cleanup.defer('replicas', () => stopReplicas(replicas));
    const children = replicas.map((r) => r.child);

    await sleep(2000);
    const idle = await cpuShares(children, IDLE_WINDOW_MS);
    ctx.log(`${label}, idle: ${idle.map((s) => (s * 100).toFixed(2)).join(' / ')} % of a core`);

    const createdAt = Date.now();
    await new JobCreator(replicas.map((r) => r.url), db.token, 'poller cost job').upTo(JOBS_IN_FLIGHT);
    await waitUntil(async () => (await jobsInFlight(replicas[0]!.url, db.token)) >= JOBS_IN_FLIGHT, 180_000, `${JOBS_IN_FLIGHT} jobs in flight`, 500);
    const submittedAt = Date.now();
    const createSeconds = (submittedAt - createdAt) / 1000;
    ctx.log(`${label}: ${JOBS_IN_FLIGHT} jobs created and submitted in ${createSeconds.toFixed(1)} s`);
    await sleep(SETTLE_MS);

    const shares: number[][] = [];
    const rates: number[] = [];
    const databaseShares: number[] = [];
    const metricsBefore = await Promise.all(replicas.map((r) => upstreamRequestsByRoute(r.url)));
    for (let run = 0; run < ctx.runs; run++) {
      const before = await upstreamRequestCount(simulator.url);
      const databaseCpu = new PostgresCpu(backing.database);
      const windowStart = Date.now();
      shares.push(await cpuShares(children, WINDOW_MS));
      databaseShares.push(databaseCpu.stop() / (Date.now() - windowStart));
      rates.push(((await upstreamRequestCount(simulator.url)) - before) / (WINDOW_MS / 1000));
      ctx.log(
        `${label}, window ${run + 1}: ${shares[run]!.map((s) => (s * 100).toFixed(2)).join(' / ')} % of a core, PostgreSQL ${(databaseShares[run]! * 100).toFixed(2)} %, ` +
          `${rates[run]!.toFixed(1)} upstream requests/s, jobs ${Math.round((Date.now() - submittedAt) / 1000)}–${Math.round((Date.now() - createdAt) / 1000)} s old`,
      );
    }
    const metricsAfter = await Promise.all(replicas.map((r) => upstreamRequestsByRoute(r.url)));
    const byReplica = metricsAfter.map((after, i) =>
      Object.fromEntries(Object.entries(after).map(([route, n]) => [route, n - (metricsBefore[i]![route] ?? 0)]).filter(([, n]) => (n as number) > 0)),
    );
    const stillInFlight = await jobsInFlight(replicas[0]!.url, db.token);
    return { replicas: replicas.map((r) => r.name), idle, shares, rates, databaseShares, byReplica, stillInFlight, createSeconds };
  } finally {
    await cleanup.run();
  }
}

/** Requests per job in flight per minute, from a rate in requests per second. */
const perJobPerMinute = (rate: number) => (rate * 60) / JOBS_IN_FLIGHT;
const percent = (share: number) => `${(share * 100).toFixed(2)} %`;

export const pollerCostReplicas: Scenario = async (ctx) => {
  const unavailable = await servicesUnavailable();
  if (unavailable) return skippedOutcome(unavailable, FIGURES);
  const one = await measureTopology(ctx, 1);
  const many = await measureTopology(ctx, REPLICAS);

  // A replica's figure is its median over the windows; the goal holds for each, so the busiest is compared.
  const perReplica = many.replicas.map((_, i) => median(many.shares.map((window) => window[i]!)));
  const busiest = Math.max(...perReplica) * 100;
  const oneCpu = median(one.shares.map((window) => window[0]!));
  const manyRate = median(many.rates);
  const oneRate = median(one.rates);
  const ratio = manyRate / oneRate;
  const complete = one.stillInFlight >= JOBS_IN_FLIGHT && many.stillInFlight >= JOBS_IN_FLIGHT;
  const routes = (t: Topology) => t.byReplica.map((r, i) => `${t.replicas[i]}: ${JSON.stringify(r)}`).join('; ');
  return {
    figures: [
      {
        ...FIGURES[0]!,
        value: busiest,
        baseline: `replicas ${perReplica.map(percent).join(' / ')} (idle ${many.idle.map(percent).join(' / ')}); one replica on PostgreSQL ${percent(oneCpu)} (idle ${percent(one.idle[0]!)}); PostgreSQL server for the database ${percent(median(many.databaseShares))} with ${REPLICAS} replicas, ${percent(median(one.databaseShares))} with one`,
        met: busiest <= CPU_GOAL && complete,
        runs: many.shares.map((window) => Math.max(...window) * 100),
      },
      {
        ...FIGURES[1]!,
        value: ratio,
        baseline: `${REPLICAS} replicas ${manyRate.toFixed(2)} req/s = ${perJobPerMinute(manyRate).toFixed(3)} per job per minute; 1 replica ${oneRate.toFixed(2)} req/s = ${perJobPerMinute(oneRate).toFixed(3)} per job per minute`,
        met: ratio <= 1.0 && complete,
        runs: many.rates.map((rate, i) => rate / (one.rates[i] ?? oneRate)),
      },
    ],
    notes: [
      `Per topology: a fresh PostgreSQL database and Redis prefix; the simulator in its own process on the load core (jobs of ${JOB_SECONDS} s, concurrency cap raised); the replicas (bench gateway processes) on the server core in LIVE mode against it, UPSTREAM_MAX_IN_FLIGHT=${JOBS_IN_FLIGHT} (gateway-wide), LOG_LEVEL=info, default poll bounds, REDIS_URL set in both; ${JOBS_IN_FLIGHT} jobs created over GraphQL round-robin over the replicas (${one.createSeconds.toFixed(0)} s with one, ${many.createSeconds.toFixed(0)} s with ${REPLICAS}); ${ctx.runs} windows of ${WINDOW_MS / 1000} s after ${SETTLE_MS / 1000} s of settling; one replica measured first, then ${REPLICAS}.`,
      `Upstream requests per replica over the windows (its /metrics, by route): ${REPLICAS} replicas: ${routes(many)}; one replica: ${routes(one)}. Still in flight at the end: ${many.stillInFlight} and ${one.stillInFlight}.`,
      `PostgreSQL server CPU is that of the backends serving the topology's database (not pinned, either core), a share of one core.`,
    ],
    details: { one, many },
  };
};
