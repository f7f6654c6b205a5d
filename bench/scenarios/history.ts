// history: `videoJobs(first: 20)` with videos and events, from a database of 10 000 jobs, at 50 connections; req/s
// divided by a bare graphql-yoga hello server's in the same run, and the gateway's p99; and the same with the
// response cache off, for comparison. All servers on the server core, autocannon in this process on the load core;
// runs alternate (hello, gateway, gateway without cache) so all see the same noise.
import { join } from 'node:path';
import { gqlData } from '../lib/gql.ts';
import { load, type LoadResult } from '../lib/http-load.ts';
import { startGateway, startHello } from '../lib/launch.ts';
import { seedHistory } from '../lib/seed.ts';
import { median } from '../lib/stats.ts';
import type { Scenario } from './context.ts';

export const HISTORY_JOBS = 10_000;
export const CONNECTIONS = 50;
export const WARMUP_SECONDS = 4;
export const RUN_SECONDS = 8;

export const HISTORY_QUERY = `query History($first: Int!) {
  videoJobs(first: $first) {
    edges { cursor node {
      id version status upstreamStatus progress prompt negativePrompt size width height durationSeconds seed
      createdAt updatedAt completedAt creativeUnitsCost etaSeconds
      error { code message }
      videos { id url urlExpiresAt thumbnailUrl mimeType byteSize width height durationSeconds frameRate }
      events { seq at status upstreamStatus progress message }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Throws unless the page is what the benchmark claims it is; returns its size in bytes of JSON. */
export async function checkHistoryPage(url: string, token: string): Promise<number> {
  const page = await gqlData<{ videoJobs: { edges: Array<{ node: { videos: unknown[]; events: unknown[] } }> } }>(url, token, HISTORY_QUERY, { first: 20 });
  const nodes = page.videoJobs.edges.map((e) => e.node);
  if (nodes.length !== 20 || nodes.some((n) => n.videos.length !== 1 || n.events.length !== 5)) throw new Error(`unexpected history page from ${url}`);
  return JSON.stringify(page).length;
}

export const history: Scenario = async (ctx) => {
  const dir = ctx.tempDir('history');
  ctx.log(`seeding ${HISTORY_JOBS} jobs, twice`);
  // Two gateways, each on its own copy of the history (one process owns a database): the goal is measured as
  // deployed; the second one, with the response cache off, shows what executing every request costs.
  const databaseUrl = (name: string) => `file:${join(dir, name, 'gateway.db')}`;
  const seeded = await seedHistory(databaseUrl('cached'), HISTORY_JOBS);
  const seededUncached = await seedHistory(databaseUrl('uncached'), HISTORY_JOBS);

  const hello = await startHello();
  const gateway = await startGateway({ env: { DATABASE_URL: databaseUrl('cached'), MEDIA_DIR: join(dir, 'cached', 'media'), LOG_LEVEL: 'info' } });
  const uncached = await startGateway({
    env: { DATABASE_URL: databaseUrl('uncached'), MEDIA_DIR: join(dir, 'uncached', 'media'), LOG_LEVEL: 'info', RESPONSE_CACHE_ENTRIES: '0' },
  });
  try {
    const responseBytes = await checkHistoryPage(gateway.url, seeded.token);

    const body = JSON.stringify({ query: HISTORY_QUERY, variables: { first: 20 } });
    const gatewayLoad = { url: `${gateway.url}/graphql`, body, token: seeded.token, connections: CONNECTIONS };
    const uncachedLoad = { url: `${uncached.url}/graphql`, body, token: seededUncached.token, connections: CONNECTIONS };
    const helloLoad = { url: `${hello.url}/graphql`, body: JSON.stringify({ query: '{ hello }' }), connections: CONNECTIONS };
    ctx.log('warming up');
    for (const target of [helloLoad, gatewayLoad, uncachedLoad]) await load({ ...target, seconds: WARMUP_SECONDS });

    const helloRuns: LoadResult[] = [];
    const gatewayRuns: LoadResult[] = [];
    const uncachedRuns: LoadResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      helloRuns.push(await load({ ...helloLoad, seconds: RUN_SECONDS }));
      gatewayRuns.push(await load({ ...gatewayLoad, seconds: RUN_SECONDS }));
      uncachedRuns.push(await load({ ...uncachedLoad, seconds: RUN_SECONDS }));
      ctx.log(
        `run ${run + 1}: hello ${helloRuns[run]!.requestsPerSecond.toFixed(0)} req/s, gateway ${gatewayRuns[run]!.requestsPerSecond.toFixed(0)} req/s ` +
          `(p99 ${gatewayRuns[run]!.p99Ms} ms), cache off ${uncachedRuns[run]!.requestsPerSecond.toFixed(0)} req/s (p99 ${uncachedRuns[run]!.p99Ms} ms)`,
      );
    }
    const failures = [...gatewayRuns, ...uncachedRuns].reduce((sum, r) => sum + r.errors + r.non2xx, 0);
    const ratiosOf = (runs: LoadResult[]) => runs.map((r, i) => r.requestsPerSecond / helloRuns[i]!.requestsPerSecond);
    const ratios = ratiosOf(gatewayRuns);
    const uncachedRatios = ratiosOf(uncachedRuns);
    const ratio = median(ratios);
    const p99 = median(gatewayRuns.map((r) => r.p99Ms));
    const helloRps = median(helloRuns.map((r) => r.requestsPerSecond));
    const gatewayRps = median(gatewayRuns.map((r) => r.requestsPerSecond));
    const uncachedRps = median(uncachedRuns.map((r) => r.requestsPerSecond));
    const helloP99 = median(helloRuns.map((r) => r.p99Ms));
    return {
      figures: [
        {
          measure: 'req/s ÷ hello server, 50 connections',
          value: ratio,
          unit: '×',
          baseline: `hello ${Math.round(helloRps)} req/s; gateway ${Math.round(gatewayRps)} req/s`,
          goal: '≥ 0.45',
          met: ratio >= 0.45 && failures === 0,
          runs: ratios,
        },
        {
          measure: 'p99 latency, 50 connections',
          value: p99,
          unit: 'ms',
          baseline: `hello p99 ${helloP99} ms`,
          goal: '≤ 100 ms',
          met: p99 <= 100 && failures === 0,
          runs: gatewayRuns.map((r) => r.p99Ms),
        },
        {
          measure: 'req/s ÷ hello server with the response cache off (every request executes)',
          value: median(uncachedRatios),
          unit: '×',
          baseline: `hello ${Math.round(helloRps)} req/s; gateway with RESPONSE_CACHE_ENTRIES=0 ${Math.round(uncachedRps)} req/s, p99 ${median(uncachedRuns.map((r) => r.p99Ms))} ms`,
          goal: 'none: shown for comparison',
          met: null,
          runs: uncachedRatios,
        },
      ],
      notes: [
        `${HISTORY_JOBS} finished jobs of one user, each with 1 stored video and 5 events; page of 20 with every field (${Math.round(responseBytes / 1024)} KB JSON); NODE_ENV=production, LOG_LEVEL=info.`,
        'Every request is the same page with the same token, as a history page reloaded by many tabs or clients: the gateway answers repeats within the same second from its response cache (src/http/response-cache.ts), after the token lookup; one request per second executes.',
        `${ctx.runs} alternating runs of ${RUN_SECONDS} s (hello, gateway, gateway with the cache off) after ${WARMUP_SECONDS} s of warm-up each; ${failures} failed or non-2xx responses.`,
      ],
      details: { helloRuns, gatewayRuns, uncachedRuns, responseBytes },
    };
  } finally {
    await gateway.child.stop();
    await uncached.child.stop();
    await hello.child.stop();
  }
};
