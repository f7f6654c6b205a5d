// fanout: one job update delivered to 10 000 jobUpdated subscribers (10 000 connections in the load generator
// process): each subscriber's latency from the update's commit to the message's arrival, its p99 and the time to the
// last delivery (bench/lib/fanout-runs.ts); and 1 → 1 latency at idle (one subscriber, one update, nothing else
// going on). Gateway and clients share the machine's clock.
//
// The update is a cancel of a PENDING job, from the bench over HTTP, newest first (see bench/lib/fanout-runs.ts).
import { cancel } from '../lib/gql.ts';
import { startWsClients } from '../lib/launch.ts';
import { fanoutFigures, measureFanoutRuns } from '../lib/fanout-runs.ts';
import { sleep } from '../lib/proc.ts';
import { median, quantile } from '../lib/stats.ts';
import { createWaitingJobs, JOB_UPDATED, startHeldJobsGateway } from '../lib/subscription-setup.ts';
import type { Scenario } from './context.ts';

export const FANOUT_SUBSCRIBERS = 10_000;
const IDLE_SAMPLES_PER_RUN = 10;

interface Collected {
  received: number;
  expected: number;
  latencies: number[];
}

export const fanout: Scenario = async (ctx) => {
  const setup = await startHeldJobsGateway(ctx.tempDir('fanout'));
  const clients = await startWsClients();
  try {
    const { url } = setup.gateway;
    // Creation order = queue order; the newest is canceled first. Idle jobs first (canceled last), then one fan-out
    // job per run, then the warm-up job.
    const idleJobs = await createWaitingJobs(url, setup.token, ctx.runs * IDLE_SAMPLES_PER_RUN + 2, 'idle');
    const fanoutJobs = await createWaitingJobs(url, setup.token, ctx.runs + 1, 'fanout');
    const order = [...fanoutJobs].reverse(); // warm-up first

    ctx.log(`opening ${FANOUT_SUBSCRIBERS} subscribers`);
    const opened = await clients.request<{ opened: number; failed: number; firstError: string | null; ms: number }>(
      'open',
      { url: setup.wsUrl, token: setup.token, count: FANOUT_SUBSCRIBERS, concurrency: 100, query: JOB_UPDATED, variables: { id: order[0] } },
      300_000,
    );
    if (opened.failed > 0) ctx.log(`${opened.failed} connections failed: ${opened.firstError}`);
    ctx.log(`${opened.opened} subscribers in ${opened.ms} ms`);

    const runs = await measureFanoutRuns({ clients, token: setup.token, jobIds: order, cancelUrl: () => url, log: ctx.log });
    await clients.request('close', {}, 60_000);

    // 1 → 1 at idle: one connection, one subscription, one update at a time.
    const idle: number[][] = [];
    const idleOrder = [...idleJobs].reverse();
    let next = 0;
    for (let run = 0; run <= ctx.runs; run++) {
      const samples: number[] = [];
      const count = run === 0 ? 2 : IDLE_SAMPLES_PER_RUN; // the first two warm up
      for (let i = 0; i < count; i++) {
        const id = idleOrder[next++]!;
        await clients.request('open', { url: setup.wsUrl, token: setup.token, count: 1, concurrency: 1, query: JOB_UPDATED, variables: { id } });
        await clients.request('arm', { opId: 's0', status: 'CANCELED' });
        await sleep(200);
        await cancel(url, setup.token, id);
        const collected = await clients.request<Collected>('collect', { opId: 's0', timeoutMs: 10_000 });
        samples.push(...collected.latencies);
        await clients.request('close');
      }
      if (run > 0) idle.push(samples);
    }
    const idleMedians = idle.map((samples) => median(samples));
    const idleP95 = quantile(idle.flat(), 0.95);
    ctx.log(`1 → 1 at idle: medians ${idleMedians.join(', ')} ms, p95 ${idleP95} ms`);

    const idleMedian = median(idleMedians);
    return {
      figures: [
        ...fanoutFigures(runs, { subscribers: FANOUT_SUBSCRIBERS, goalMs: 1000 }),
        {
          measure: '1 → 1 latency at idle, commit to arrival (median)',
          value: idleMedian,
          unit: 'ms',
          baseline: `p95 of all ${idle.flat().length} samples ${Math.round(idleP95)} ms`,
          goal: '≤ 20 ms',
          met: idleMedian <= 20,
          runs: idleMedians,
        },
      ],
      notes: [
        `${FANOUT_SUBSCRIBERS} connections, one subscription each; each run subscribes all of them to a new PENDING job, then cancels it over HTTP (a warm-up run first). Latency = arrival time in the client process − the job's updatedAt (ms clock, same machine).`,
        `1 → 1: ${IDLE_SAMPLES_PER_RUN} updates per run, each on a new connection and job, 200 ms after subscribing.`,
      ],
      details: { opened, runs, idle },
    };
  } finally {
    await clients.request('close', {}, 60_000).catch(() => undefined);
    await clients.stop();
    await setup.gateway.child.stop();
  }
};
