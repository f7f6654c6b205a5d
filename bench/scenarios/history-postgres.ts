// history-postgres: the history scenario's uncached load (RESPONSE_CACHE_ENTRIES=0, so every request executes) on a
// gateway on PostgreSQL, divided by the same load on a gateway on SQLite in the same run, both with the same 10 000
// jobs (bench/lib/seed.ts writes the same rows to both). Runs alternate so that both see the same noise. Beside
// req/s, the CPU each request costs: the gateway process's own and, on PostgreSQL, the server's backends for the
// scenario's database (SQLite works inside the gateway process), which says where a shortfall comes from.
import { join } from 'node:path';
import { createBacking, PostgresCpu, servicesUnavailable, skippedOutcome } from '../lib/backing.ts';
import { Cleanup } from '../lib/cleanup.ts';
import { load, type LoadResult } from '../lib/http-load.ts';
import { startGateway, type StartedGateway } from '../lib/launch.ts';
import { startReplicas } from '../lib/replicas.ts';
import { seedHistory, seedPostgresHistory } from '../lib/seed.ts';
import { median } from '../lib/stats.ts';
import type { Scenario } from './context.ts';
import { checkHistoryPage, CONNECTIONS, HISTORY_JOBS, HISTORY_QUERY, RUN_SECONDS, WARMUP_SECONDS } from './history.ts';

const RATIO_GOAL = 0.5;

const FIGURES = [
  { measure: `req/s on PostgreSQL ÷ on SQLite, videoJobs(first: 20) uncached, ${CONNECTIONS} connections`, unit: '×', goal: `≥ ${RATIO_GOAL}` },
  { measure: `p99 latency on PostgreSQL, uncached, ${CONNECTIONS} connections`, unit: 'ms', goal: 'none: reported with SQLite’s' },
];

interface Cpu {
  userMs: number;
  systemMs: number;
}

interface Measured extends LoadResult {
  /** Gateway process CPU per completed request. */
  gatewayCpuMs: number;
  /** PostgreSQL backends' CPU per completed request (0 on SQLite). */
  databaseCpuMs: number;
}

async function measure(gateway: StartedGateway, target: Parameters<typeof load>[0], database: string | null): Promise<Measured> {
  const cpu = () => gateway.child.request<Cpu>('cpu').then((c) => c.userMs + c.systemMs);
  const cpuBefore = await cpu();
  const databaseCpu = database ? new PostgresCpu(database) : null;
  const result = await load(target);
  const databaseMs = databaseCpu?.stop() ?? 0;
  const gatewayMs = (await cpu()) - cpuBefore;
  const completed = Math.max(1, result.requestsPerSecond * target.seconds);
  return { ...result, gatewayCpuMs: gatewayMs / completed, databaseCpuMs: databaseMs / completed };
}

export const historyPostgres: Scenario = async (ctx) => {
  const unavailable = await servicesUnavailable();
  if (unavailable) return skippedOutcome(unavailable, FIGURES);
  const cleanup = new Cleanup(ctx.log);
  try {
    const dir = ctx.tempDir('history-postgres');
    const backing = await createBacking('history');
    cleanup.defer('PostgreSQL database and Redis keys', () => backing.drop());
    const sqliteUrl = `file:${join(dir, 'sqlite', 'gateway.db')}`;
    ctx.log(`seeding ${HISTORY_JOBS} jobs into SQLite and into PostgreSQL database ${backing.database}`);
    const sqliteSeed = await seedHistory(sqliteUrl, HISTORY_JOBS);
    const seedStarted = Date.now();
    const postgresSeed = await seedPostgresHistory(backing.databaseUrl, HISTORY_JOBS);
    ctx.log(`PostgreSQL seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    const uncached = { LOG_LEVEL: 'info', RESPONSE_CACHE_ENTRIES: '0' };
    const sqlite = await startGateway({ env: { ...uncached, DATABASE_URL: sqliteUrl, MEDIA_DIR: join(dir, 'sqlite', 'media') } });
    cleanup.defer('SQLite gateway', () => sqlite.child.stop());
    // A replica as deployed beside others (REDIS_URL set); the read path does not touch Redis.
    const [postgres] = await startReplicas({ backing, names: ['history-pg'], env: uncached, mediaDir: join(dir, 'postgres', 'media') });
    cleanup.defer('PostgreSQL gateway', () => postgres!.child.stop());

    const sqliteBytes = await checkHistoryPage(sqlite.url, sqliteSeed.token);
    const postgresBytes = await checkHistoryPage(postgres!.url, postgresSeed.token);
    if (sqliteBytes !== postgresBytes) throw new Error(`pages differ in size: SQLite ${sqliteBytes} B, PostgreSQL ${postgresBytes} B`);

    const body = JSON.stringify({ query: HISTORY_QUERY, variables: { first: 20 } });
    const sqliteLoad = { url: `${sqlite.url}/graphql`, body, token: sqliteSeed.token, connections: CONNECTIONS };
    const postgresLoad = { url: `${postgres!.url}/graphql`, body, token: postgresSeed.token, connections: CONNECTIONS };
    ctx.log('warming up');
    for (const target of [sqliteLoad, postgresLoad]) await load({ ...target, seconds: WARMUP_SECONDS });

    const sqliteRuns: Measured[] = [];
    const postgresRuns: Measured[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      sqliteRuns.push(await measure(sqlite, { ...sqliteLoad, seconds: RUN_SECONDS }, null));
      postgresRuns.push(await measure(postgres!, { ...postgresLoad, seconds: RUN_SECONDS }, backing.database));
      const [s, p] = [sqliteRuns[run]!, postgresRuns[run]!];
      ctx.log(
        `run ${run + 1}: SQLite ${s.requestsPerSecond.toFixed(0)} req/s (p99 ${s.p99Ms} ms, gateway ${s.gatewayCpuMs.toFixed(2)} ms CPU/req), ` +
          `PostgreSQL ${p.requestsPerSecond.toFixed(0)} req/s (p99 ${p.p99Ms} ms, gateway ${p.gatewayCpuMs.toFixed(2)} + server ${p.databaseCpuMs.toFixed(2)} ms CPU/req)`,
      );
    }
    const failures = [...sqliteRuns, ...postgresRuns].reduce((sum, r) => sum + r.errors + r.non2xx, 0);
    const ratios = postgresRuns.map((r, i) => r.requestsPerSecond / sqliteRuns[i]!.requestsPerSecond);
    const ratio = median(ratios);
    const med = (runs: Measured[], pick: (r: Measured) => number) => median(runs.map(pick));
    const sqliteRps = med(sqliteRuns, (r) => r.requestsPerSecond);
    const postgresRps = med(postgresRuns, (r) => r.requestsPerSecond);
    const sqliteP99 = med(sqliteRuns, (r) => r.p99Ms);
    const postgresP99 = med(postgresRuns, (r) => r.p99Ms);
    const cpu = {
      sqliteGatewayMs: med(sqliteRuns, (r) => r.gatewayCpuMs),
      postgresGatewayMs: med(postgresRuns, (r) => r.gatewayCpuMs),
      postgresServerMs: med(postgresRuns, (r) => r.databaseCpuMs),
    };
    return {
      figures: [
        {
          ...FIGURES[0]!,
          value: ratio,
          baseline: `SQLite ${Math.round(sqliteRps)} req/s; PostgreSQL ${Math.round(postgresRps)} req/s`,
          met: ratio >= RATIO_GOAL && failures === 0,
          runs: ratios,
        },
        {
          ...FIGURES[1]!,
          value: postgresP99,
          baseline: `SQLite p99 ${sqliteP99} ms (runs: ${sqliteRuns.map((r) => r.p99Ms).join(', ')})`,
          met: null,
          runs: postgresRuns.map((r) => r.p99Ms),
        },
      ],
      notes: [
        `${HISTORY_JOBS} finished jobs of one user (1 video, 5 events each), the same rows in both stores (PostgreSQL ANALYZEd after the load); the history scenario's page of 20 with every field (${Math.round(postgresBytes / 1024)} KB JSON, identical size from both); both gateways with RESPONSE_CACHE_ENTRIES=0, NODE_ENV=production, LOG_LEVEL=info, on the server core; the PostgreSQL one with REDIS_URL set, as a replica runs.`,
        `${ctx.runs} alternating runs of ${RUN_SECONDS} s (SQLite, PostgreSQL) after ${WARMUP_SECONDS} s of warm-up each, autocannon with ${CONNECTIONS} connections in the bench process on the load core; ${failures} failed or non-2xx responses.`,
        `CPU per request (medians): SQLite gateway ${cpu.sqliteGatewayMs.toFixed(2)} ms (SQLite included, in-process); PostgreSQL gateway ${cpu.postgresGatewayMs.toFixed(2)} ms plus ${cpu.postgresServerMs.toFixed(2)} ms in the PostgreSQL server's backends for this database (not pinned: they run on either core, beside the load generator or the gateway).`,
      ],
      details: { sqliteRuns, postgresRuns, cpu, responseBytes: postgresBytes },
    };
  } finally {
    await cleanup.run();
  }
};
