// poller-cost: CPU and heap of the gateway following 1 000 jobs in flight against the simulator (a separate process
// on the load core, long jobs so none ends during the measurement). CPU as a share of one core over fixed windows,
// against the same gateway idle just before. Heap per job is the marginal cost: heap after a full GC with 1 000 jobs
// in flight minus heap with 100 in flight, divided by 900, so that the code compiled for the work itself (several MB,
// once) is not counted per job; the difference from the idle gateway is given beside it.
import { join } from 'node:path';
import { createTokenFor } from '../../src/auth/tokens.ts';
import { openSqliteStore } from '../../src/store/sqlite/open.ts';
import { startGateway, startSimulator } from '../lib/launch.ts';
import { cpuShares, JobCreator, jobsInFlight, upstreamRequestCount } from '../lib/poller-load.ts';
import { sleep, waitUntil } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import type { Scenario } from './context.ts';

export const JOBS_IN_FLIGHT = 1_000;
const FIRST_JOBS = 100;
export const JOB_SECONDS = 1_800;
export const IDLE_WINDOW_MS = 10_000;
export const WINDOW_MS = 20_000;
export const SETTLE_MS = 10_000;

interface Memory {
  heapUsed: number;
  rss: number;
}

export const pollerCost: Scenario = async (ctx) => {
  const dir = ctx.tempDir('poller-cost');
  const databaseUrl = `file:${join(dir, 'gateway.db')}`;
  const store = await openSqliteStore(databaseUrl);
  const { token } = await createTokenFor(store, 'bench');
  await store.close();
  const simulator = await startSimulator({ jobSeconds: JOB_SECONDS, concurrency: 5 * JOBS_IN_FLIGHT });
  const gateway = await startGateway({
    env: {
      DATABASE_URL: databaseUrl,
      MEDIA_DIR: join(dir, 'media'),
      LOG_LEVEL: 'info',
      SCENARIO_API_URL: simulator.url,
      SCENARIO_SDK_API_KEY: 'bench-key',
      SCENARIO_SDK_API_SECRET: 'bench-secret',
      UPSTREAM_MAX_IN_FLIGHT: String(JOBS_IN_FLIGHT),
      MAX_ACTIVE_JOBS_PER_USER: String(2 * JOBS_IN_FLIGHT),
      GENERATE_RATE_LIMIT_PER_MINUTE: '100000',
    },
  });
  const cpuShare = async (windowMs: number) => (await cpuShares([gateway.child], windowMs))[0]!;
  try {
    await sleep(2000);
    const idleCpu = await cpuShare(IDLE_WINDOW_MS);
    const idleMemory = await gateway.child.request<Memory>('memory');
    ctx.log(`idle: ${(idleCpu * 100).toFixed(2)} % of a core, heap ${(idleMemory.heapUsed / 2 ** 20).toFixed(1)} MiB`);

    const createdAt = Date.now();
    const jobs = new JobCreator([gateway.url], token, 'poller cost job');
    const inFlight = () => jobsInFlight(gateway.url, token);
    await jobs.upTo(FIRST_JOBS);
    await waitUntil(async () => (await inFlight()) >= FIRST_JOBS, 60_000, `${FIRST_JOBS} jobs in flight`, 250);
    await sleep(SETTLE_MS / 2);
    const firstMemory = await gateway.child.request<Memory>('memory');
    await jobs.upTo(JOBS_IN_FLIGHT);
    await waitUntil(async () => (await inFlight()) >= JOBS_IN_FLIGHT, 120_000, `${JOBS_IN_FLIGHT} jobs in flight`, 500);
    ctx.log(`${JOBS_IN_FLIGHT} jobs created and submitted in ${((Date.now() - createdAt) / 1000).toFixed(1)} s`);
    await sleep(SETTLE_MS);

    const shares: number[] = [];
    const rates: number[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const before = await upstreamRequestCount(simulator.url);
      const share = await cpuShare(WINDOW_MS);
      const rate = ((await upstreamRequestCount(simulator.url)) - before) / (WINDOW_MS / 1000);
      shares.push(share);
      rates.push(rate);
      ctx.log(`window ${run + 1}: ${(share * 100).toFixed(2)} % of a core, ${rate.toFixed(1)} upstream requests/s, jobs ${Math.round((Date.now() - createdAt) / 1000)} s old at most`);
    }
    const stillInFlight = await inFlight();
    const loaded = await gateway.child.request<Memory>('memory');
    const heapPerJobKB = (loaded.heapUsed - firstMemory.heapUsed) / (JOBS_IN_FLIGHT - FIRST_JOBS) / 1024;
    const heapPerJobFromIdleKB = (loaded.heapUsed - idleMemory.heapUsed) / JOBS_IN_FLIGHT / 1024;
    const cpu = median(shares) * 100;
    return {
      figures: [
        {
          measure: `gateway CPU with ${JOBS_IN_FLIGHT} jobs in flight`,
          value: cpu,
          unit: '% of a core',
          baseline: `idle gateway ${(idleCpu * 100).toFixed(2)} %; ${median(rates).toFixed(1)} upstream requests/s`,
          goal: '≤ 10 %',
          met: cpu <= 10 && stillInFlight >= JOBS_IN_FLIGHT,
          runs: shares.map((s) => s * 100),
        },
        {
          measure: `gateway heap per job in flight, marginal (${FIRST_JOBS} → ${JOBS_IN_FLIGHT} jobs, after GC)`,
          value: heapPerJobKB,
          unit: 'KB',
          baseline: `heap ${(idleMemory.heapUsed / 2 ** 20).toFixed(1)} MiB idle, ${(firstMemory.heapUsed / 2 ** 20).toFixed(1)} MiB with ${FIRST_JOBS}, ${(loaded.heapUsed / 2 ** 20).toFixed(1)} MiB with ${JOBS_IN_FLIGHT} (${heapPerJobFromIdleKB.toFixed(1)} KB per job counted from idle, compiled code included)`,
          goal: '≤ 2 KB',
          met: heapPerJobKB <= 2,
        },
      ],
      notes: [
        `Simulator in its own process on the load core (jobs of ${JOB_SECONDS} s, concurrency cap raised); gateway in LIVE mode against it, UPSTREAM_MAX_IN_FLIGHT=${JOBS_IN_FLIGHT}, LOG_LEVEL=info, default poll bounds; ${ctx.runs} windows of ${WINDOW_MS / 1000} s after ${SETTLE_MS / 1000} s of settling; ${stillInFlight} jobs still in flight at the end.`,
      ],
      details: { idleCpu, shares, rates, idleMemory, firstMemory, loaded },
    };
  } finally {
    await gateway.child.stop();
    await simulator.child.stop();
  }
};
