// history: `videoJobs(first: 20)` with videos and events, from a database of 10 000 jobs, at 50 connections; req/s
// divided by a bare graphql-yoga hello server's in the same run, and the gateway's p99. Both servers on the server
// core, autocannon in this process on the load core; runs alternate (hello, gateway) so both see the same noise.
import { join } from 'node:path';
import { gqlData } from '../lib/gql.ts';
import { load, type LoadResult } from '../lib/http-load.ts';
import { startGateway, startHello } from '../lib/launch.ts';
import { seedHistory } from '../lib/seed.ts';
import { median } from '../lib/stats.ts';
import type { Scenario } from './context.ts';

export const HISTORY_JOBS = 10_000;
const CONNECTIONS = 50;
const WARMUP_SECONDS = 4;
const RUN_SECONDS = 8;

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

export const history: Scenario = async (ctx) => {
  const dir = ctx.tempDir('history');
  const databaseUrl = `file:${join(dir, 'gateway.db')}`;
  ctx.log(`seeding ${HISTORY_JOBS} jobs`);
  const seeded = await seedHistory(databaseUrl, HISTORY_JOBS);

  const hello = await startHello();
  const gateway = await startGateway({ env: { DATABASE_URL: databaseUrl, MEDIA_DIR: join(dir, 'media'), LOG_LEVEL: 'info' } });
  try {
    // The page is what the benchmark claims it is.
    const page = await gqlData<{ videoJobs: { edges: Array<{ node: { videos: unknown[]; events: unknown[] } }> } }>(
      gateway.url,
      seeded.token,
      HISTORY_QUERY,
      { first: 20 },
    );
    const nodes = page.videoJobs.edges.map((e) => e.node);
    if (nodes.length !== 20 || nodes.some((n) => n.videos.length !== 1 || n.events.length !== 5)) throw new Error('unexpected history page');
    const responseBytes = JSON.stringify(page).length;

    const gatewayLoad = { url: `${gateway.url}/graphql`, body: JSON.stringify({ query: HISTORY_QUERY, variables: { first: 20 } }), token: seeded.token, connections: CONNECTIONS };
    const helloLoad = { url: `${hello.url}/graphql`, body: JSON.stringify({ query: '{ hello }' }), connections: CONNECTIONS };
    ctx.log('warming up');
    await load({ ...helloLoad, seconds: WARMUP_SECONDS });
    await load({ ...gatewayLoad, seconds: WARMUP_SECONDS });

    const helloRuns: LoadResult[] = [];
    const gatewayRuns: LoadResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      helloRuns.push(await load({ ...helloLoad, seconds: RUN_SECONDS }));
      gatewayRuns.push(await load({ ...gatewayLoad, seconds: RUN_SECONDS }));
      ctx.log(
        `run ${run + 1}: hello ${helloRuns[run]!.requestsPerSecond.toFixed(0)} req/s, gateway ${gatewayRuns[run]!.requestsPerSecond.toFixed(0)} req/s, p99 ${gatewayRuns[run]!.p99Ms} ms`,
      );
    }
    const failures = gatewayRuns.reduce((sum, r) => sum + r.errors + r.non2xx, 0);
    const ratios = gatewayRuns.map((r, i) => r.requestsPerSecond / helloRuns[i]!.requestsPerSecond);
    const ratio = median(ratios);
    const p99 = median(gatewayRuns.map((r) => r.p99Ms));
    const helloRps = median(helloRuns.map((r) => r.requestsPerSecond));
    const gatewayRps = median(gatewayRuns.map((r) => r.requestsPerSecond));
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
          baseline: `hello p99 ${median(helloRuns.map((r) => r.p99Ms))} ms`,
          goal: '≤ 100 ms',
          met: p99 <= 100 && failures === 0,
          runs: gatewayRuns.map((r) => r.p99Ms),
        },
      ],
      notes: [
        `${HISTORY_JOBS} finished jobs of one user, each with 1 stored video and 5 events; page of 20 with every field (${Math.round(responseBytes / 1024)} KB JSON); NODE_ENV=production, LOG_LEVEL=info.`,
        `${ctx.runs} alternating runs of ${RUN_SECONDS} s after ${WARMUP_SECONDS} s of warm-up each; ${failures} failed or non-2xx responses.`,
      ],
      details: { helloRuns, gatewayRuns, responseBytes },
    };
  } finally {
    await gateway.child.stop();
    await hello.child.stop();
  }
};
