// fanout-replicas: the fanout measurement (bench/lib/fanout-runs.ts) with the 10 000 jobUpdated subscribers spread
// over 3 replicas on PostgreSQL + Redis (3 334 / 3 333 / 3 333 connections), the cancel sent to each replica in turn:
// a third of the subscribers get the update from the replica that committed it, the others through Redis. Then, as
// the baseline, today's single process (SQLite, the fanout scenario's setup) with the same 10 000 subscribers.
//
// The replicas share one upstream (a simulator process) so that the job holding the only slot stays followed by
// whichever replica claims it; every other job waits, PENDING, until canceled.
import { join } from 'node:path';
import { createBacking, servicesUnavailable, skippedOutcome } from '../lib/backing.ts';
import { Cleanup } from '../lib/cleanup.ts';
import { fanoutFigures, measureFanoutRuns, type FanoutRun } from '../lib/fanout-runs.ts';
import { startSimulator, startWsClients } from '../lib/launch.ts';
import type { Child } from '../lib/proc.ts';
import { prepareReplicaDatabase, startReplicas, stopReplicas, upstreamEnv } from '../lib/replicas.ts';
import { median } from '../lib/stats.ts';
import { createWaitingJobs, HELD_JOBS_ENV, holdTheOnlyUpstreamSlot, JOB_UPDATED, startHeldJobsGateway, wsUrlOf } from '../lib/subscription-setup.ts';
import type { Scenario } from './context.ts';
import { FANOUT_SUBSCRIBERS } from './fanout.ts';

const REPLICAS = 3;
const GOAL_MS = 1000;
const WHERE = ` over ${REPLICAS} replicas (PostgreSQL + Redis)`;

/** Opens `count` subscribers to `jobId` split evenly over `urls`, each tagged with its target's name. */
async function openSpread(clients: Child, targets: Array<{ name: string; url: string }>, token: string, count: number, jobId: string, log: (m: string) => void) {
  let opened = 0;
  let ms = 0;
  for (let i = 0; i < targets.length; i++) {
    const share = Math.floor(count / targets.length) + (i < count % targets.length ? 1 : 0);
    const reply = await clients.request<{ opened: number; failed: number; firstError: string | null; ms: number }>(
      'open',
      { url: wsUrlOf(targets[i]!.url), token, count: share, concurrency: 100, query: JOB_UPDATED, variables: { id: jobId }, tag: targets[i]!.name },
      300_000,
    );
    if (reply.failed > 0) log(`${reply.failed} connections to ${targets[i]!.name} failed: ${reply.firstError}`);
    opened = reply.opened;
    ms += reply.ms;
  }
  log(`${opened} subscribers open in ${ms} ms`);
  return { opened, ms };
}

/** Jobs to cancel, warm-up first: newest first, so that no other waiting job moves up the queue meanwhile. */
async function fanoutOrder(url: string, token: string, runs: number): Promise<string[]> {
  return (await createWaitingJobs(url, token, runs + 1, 'fanout')).reverse();
}

async function singleProcessBaseline(dir: string, runs: number, log: (m: string) => void): Promise<FanoutRun[]> {
  const setup = await startHeldJobsGateway(dir);
  const clients = await startWsClients();
  try {
    const order = await fanoutOrder(setup.gateway.url, setup.token, runs);
    await openSpread(clients, [{ name: 'single', url: setup.gateway.url }], setup.token, FANOUT_SUBSCRIBERS, order[0]!, log);
    return await measureFanoutRuns({ clients, token: setup.token, jobIds: order, cancelUrl: () => setup.gateway.url, log, cpuOf: [setup.gateway.child] });
  } finally {
    await clients.request('close', {}, 60_000).catch(() => undefined);
    await clients.stop();
    await setup.gateway.child.stop();
  }
}

export const fanoutReplicas: Scenario = async (ctx) => {
  const unavailable = await servicesUnavailable();
  if (unavailable) {
    const skipped = fanoutFigures([], { subscribers: FANOUT_SUBSCRIBERS, where: WHERE, goalMs: GOAL_MS });
    return skippedOutcome(unavailable, skipped);
  }
  const cleanup = new Cleanup(ctx.log);
  try {
    const dir = ctx.tempDir('fanout-replicas');
    const backing = await createBacking('fanout');
    cleanup.defer('PostgreSQL database and Redis keys', () => backing.drop());
    const db = await prepareReplicaDatabase(backing, dir);
    cleanup.defer('reader', () => db.reader.close());
    const simulator = await startSimulator({ jobSeconds: 3600, concurrency: 16 });
    cleanup.defer('simulator', () => simulator.child.stop());
    const replicas = await startReplicas({
      backing,
      names: Array.from({ length: REPLICAS }, (_, i) => `fanout-r${i}`),
      env: { ...HELD_JOBS_ENV, ...upstreamEnv(simulator.url) },
      mediaDir: db.mediaDir,
    });
    cleanup.defer('replicas', () => stopReplicas(replicas));
    await holdTheOnlyUpstreamSlot(replicas[0]!.url, db.token);
    const order = await fanoutOrder(replicas[0]!.url, db.token, ctx.runs);

    const clients = await startWsClients();
    cleanup.defer('load generator', async () => {
      await clients.request('close', {}, 60_000).catch(() => undefined);
      await clients.stop();
    });
    ctx.log(`opening ${FANOUT_SUBSCRIBERS} subscribers over ${REPLICAS} replicas`);
    const opened = await openSpread(clients, replicas, db.token, FANOUT_SUBSCRIBERS, order[0]!, ctx.log);
    // Run r (0 = warm-up) commits on replica r mod 3: each replica is the committing one in turn.
    const committer = (run: number) => replicas[run % REPLICAS]!;
    const runs = await measureFanoutRuns({
      clients,
      token: db.token,
      jobIds: order,
      cancelUrl: (run) => committer(run).url,
      log: ctx.log,
      cpuOf: replicas.map((r) => r.child),
    });
    await clients.request('close', {}, 60_000);
    await cleanup.run(); // the replicas and their database, before the baseline measures on the same cores

    // Subscribers on the committing replica get the update in-process; the others through Redis.
    const local = runs.map((run, i) => run.byTag[committer(i + 1).name]!);
    const remote = runs.map((run, i) => {
      const others = Object.entries(run.byTag).filter(([tag]) => tag !== committer(i + 1).name);
      return { p99: Math.max(...others.map(([, t]) => t.p99)), last: Math.max(...others.map(([, t]) => t.last)) };
    });
    const split = `on the committing replica p99 ${Math.round(median(local.map((t) => t.p99)))} ms, on the other two (through Redis) p99 ${Math.round(median(remote.map((t) => t.p99)))} ms`;
    ctx.log(split);

    ctx.log(`baseline: one process (SQLite), ${FANOUT_SUBSCRIBERS} subscribers`);
    const single = await singleProcessBaseline(ctx.tempDir('fanout-single'), ctx.runs, ctx.log);
    const [p99Figure, lastFigure] = fanoutFigures(runs, { subscribers: FANOUT_SUBSCRIBERS, where: WHERE, goalMs: GOAL_MS });
    const sum = (values: number[]) => values.reduce((x, y) => x + y, 0);
    const cpu = {
      replicasTotalMs: median(runs.map((r) => sum(r.cpuMs))),
      committerMs: median(runs.map((r, i) => r.cpuMs[(i + 1) % REPLICAS]!)),
      singleMs: median(single.map((r) => sum(r.cpuMs))),
    };
    const singleP99 = median(single.map((r) => r.p99));
    const singleLast = median(single.map((r) => r.last));
    return {
      figures: [
        { ...p99Figure!, baseline: `${p99Figure!.baseline}; ${split}; one process (SQLite), same run: p99 ${singleP99} ms` },
        { ...lastFigure!, baseline: `${lastFigure!.baseline}; one process (SQLite), same run: last ${singleLast} ms` },
      ],
      notes: [
        `${REPLICAS} replicas (bench gateway processes, INSTANCE_ID fanout-r0..r2) on one PostgreSQL database and one Redis key prefix, all on the server core; one simulator process on the load core; ${opened.opened} graphql-ws connections from the load generator, ${Math.ceil(FANOUT_SUBSCRIBERS / REPLICAS)}/${Math.floor(FANOUT_SUBSCRIBERS / REPLICAS)}/${Math.floor(FANOUT_SUBSCRIBERS / REPLICAS)} per replica, one subscription each.`,
        `Each run subscribes all of them to a new PENDING job and cancels it over HTTP on replica (run mod ${REPLICAS}), after a warm-up run; latency = arrival in the client process − the job's updatedAt (stamped by the committing replica; one machine clock).`,
        `CPU of one fan-out (cancel to last arrival, medians): ${cpu.replicasTotalMs} ms over the ${REPLICAS} replicas together (${cpu.committerMs} ms on the committing one), ${cpu.singleMs} ms for the single process; the replicas share the server core, so their deliveries queue behind each other as the single process's do.`,
        `Baseline: the fanout scenario's single SQLite process with the same ${FANOUT_SUBSCRIBERS} subscribers, measured after the replicas were stopped: p99 ${single.map((r) => r.p99).join(', ')} ms, last ${single.map((r) => r.last).join(', ')} ms per run.`,
      ],
      details: { opened, runs, local, remote, single, cpu },
    };
  } finally {
    await cleanup.run();
  }
};
