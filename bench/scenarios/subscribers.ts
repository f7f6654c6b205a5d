// subscribers: graphql-ws subscribers one gateway process holds (clients in the load generator process, one
// connection and one jobUpdated subscription each), and the gateway's RSS per subscriber: (RSS holding N − RSS
// before, both after a full GC) / N. Each run starts a fresh gateway, so the runs do not share freed memory.
import { startWsClients } from '../lib/launch.ts';
import { rssOf, sleep } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import { createWaitingJobs, JOB_UPDATED, startHeldJobsGateway } from '../lib/subscription-setup.ts';
import type { Scenario } from './context.ts';

export const SUBSCRIBERS = 10_000;
const WARMUP_SUBSCRIBERS = 1_000;
/** Longer than the gateway's keep-alive ping interval (12 s): the held connections must answer pings. */
const HOLD_MS = 14_000;

interface MemoryReply {
  rss: number;
  heapUsed: number;
  external: number;
  newSpace: number;
}

export const subscribers: Scenario = async (ctx) => {
  const runs: Array<{
    held: number;
    stillOpen: number;
    listeners: number;
    rssPerSubscriberKB: number;
    heapPerSubscriberKB: number;
    newSpaceGrowthKB: number;
    openMs: number;
    rssBefore: number;
    rssAfter: number;
  }> = [];
  for (let run = 0; run < ctx.runs; run++) {
    const setup = await startHeldJobsGateway(ctx.tempDir('subscribers'));
    const clients = await startWsClients();
    try {
      const [jobId] = await createWaitingJobs(setup.gateway.url, setup.token, 1, 'watched');
      const open = (count: number) =>
        clients.request<{ opened: number; failed: number; firstError: string | null; ms: number }>(
          'open',
          { url: setup.wsUrl, token: setup.token, count, concurrency: 100, query: JOB_UPDATED, variables: { id: jobId } },
          300_000,
        );
      // Warm-up: the code paths of connecting and subscribing, then back to no client.
      await open(WARMUP_SUBSCRIBERS);
      await clients.request('close', {}, 60_000);
      await sleep(1000);
      const before = await setup.gateway.child.request<MemoryReply>('memory');
      const opened = await open(SUBSCRIBERS);
      if (opened.failed > 0) ctx.log(`${opened.failed} connections failed: ${opened.firstError}`);
      const after = await setup.gateway.child.request<MemoryReply>('memory');
      const listeners = (await setup.gateway.child.request<{ listeners: number }>('listeners')).listeners;
      ctx.log(`run ${run + 1}: ${opened.opened} subscribers in ${opened.ms} ms; RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB; /proc RSS ${((rssOf(setup.gateway.child.pid) ?? 0) / 2 ** 20).toFixed(0)} MiB`);
      // Held through a keep-alive ping round: still open on both sides.
      await sleep(HOLD_MS);
      const stillOpen = (await clients.request<{ ready: number }>('subscribe', { opId: 'probe', query: '{ __typename }', variables: {}, timeoutMs: 20_000 }, 120_000)).ready;
      const listenersAfterHold = (await setup.gateway.child.request<{ listeners: number }>('listeners')).listeners;
      runs.push({
        held: Math.min(opened.opened, listeners),
        stillOpen: Math.min(stillOpen, listenersAfterHold),
        listeners,
        rssPerSubscriberKB: (after.rss - before.rss) / opened.opened / 1024,
        heapPerSubscriberKB: (after.heapUsed - before.heapUsed) / opened.opened / 1024,
        newSpaceGrowthKB: (after.newSpace - before.newSpace) / opened.opened / 1024,
        openMs: opened.ms,
        rssBefore: before.rss,
        rssAfter: after.rss,
      });
      ctx.log(`run ${run + 1}: ${runs.at(-1)!.stillOpen} still open after ${HOLD_MS / 1000} s; ${runs.at(-1)!.rssPerSubscriberKB.toFixed(1)} KB RSS per subscriber`);
    } finally {
      await clients.request('close', {}, 60_000).catch(() => undefined);
      await clients.stop();
      await setup.gateway.child.stop();
    }
  }
  const held = median(runs.map((r) => r.stillOpen));
  const rssKB = median(runs.map((r) => r.rssPerSubscriberKB));
  const heapKB = median(runs.map((r) => r.heapPerSubscriberKB));
  return {
    figures: [
      {
        measure: `graphql-ws subscribers held by one gateway process (${HOLD_MS / 1000} s, through keep-alive pings)`,
        value: held,
        unit: '',
        baseline: `${SUBSCRIBERS} opened per run from another process; open in ${Math.round(median(runs.map((r) => r.openMs)) / 1000)} s`,
        goal: '≥ 10 000',
        met: held >= 10_000,
        runs: runs.map((r) => r.stillOpen),
      },
      {
        measure: 'gateway RSS per subscriber',
        value: rssKB,
        unit: 'KB',
        baseline: `RSS after GC ${Math.round(median(runs.map((r) => r.rssBefore)) / 2 ** 20)} MiB with none → ${Math.round(median(runs.map((r) => r.rssAfter)) / 2 ** 20)} MiB with ${SUBSCRIBERS}; of it per subscriber: heap objects ${heapKB.toFixed(1)} KB, young-generation growth ${median(runs.map((r) => r.newSpaceGrowthKB)).toFixed(1)} KB`,
        goal: '≤ 24 KB',
        met: rssKB <= 24,
        runs: runs.map((r) => r.rssPerSubscriberKB),
      },
    ],
    notes: [
      `One WebSocket and one jobUpdated subscription per subscriber, all on one PENDING job, from the load generator process on the other core; ${WARMUP_SUBSCRIBERS} subscribers opened and closed first as warm-up.`,
    ],
    details: { runs },
  };
};
