// statements: SQL statements per `videoJobs` request for first = 1, 20 and 100, counted with the store's statement
// logger (every query goes through drizzle). A count, so it runs in this process: the API (yoga, the real schema and
// handler) over a store seeded with a history, without the engine loop.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { engineSettingsFrom } from '../../src/engine/context.ts';
import { VideoJobEngine } from '../../src/engine/engine.ts';
import { InProcessJobEventBus } from '../../src/events/job-event-bus.ts';
import { createGraphQLHandler } from '../../src/http/graphql-handler.ts';
import { createLogger } from '../../src/log.ts';
import { LocalMediaStorage } from '../../src/media/storage/local.ts';
import { ScenarioClient } from '../../src/scenario/client.ts';
import { openSqliteStore } from '../../src/store/sqlite/open.ts';
import { gqlData } from '../lib/gql.ts';
import { seedHistory } from '../lib/seed.ts';
import type { Scenario } from './context.ts';
import { HISTORY_QUERY } from './history.ts';

const PAGE_SIZES = [1, 20, 100];
/** The nested relations of HISTORY_QUERY that read the database: videos and events. */
const NESTED_RELATIONS = ['video_assets', 'job_events'];

function tableOf(sql: string): string {
  return /from "([a-z_]+)"/i.exec(sql)?.[1] ?? 'other';
}

export const statements: Scenario = async (ctx) => {
  const dir = ctx.tempDir('statements');
  const databaseUrl = `file:${join(dir, 'gateway.db')}`;
  const seeded = await seedHistory(databaseUrl, 500);
  const log: string[] = [];
  const store = await openSqliteStore(databaseUrl, { logger: (sql) => log.push(sql) });
  const config = loadConfig({ PORT: '0', DATABASE_URL: databaseUrl, MEDIA_DIR: join(dir, 'media'), LOG_LEVEL: 'silent', NODE_ENV: 'production', RESPONSE_CACHE_ENTRIES: '0' });
  const bus = new InProcessJobEventBus();
  const media = new LocalMediaStorage(config.mediaDir);
  const engine = new VideoJobEngine({
    store,
    // Never called: the engine is not started.
    scenario: new ScenarioClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'unused', apiSecret: 'unused' }),
    media,
    bus,
    log: createLogger('silent'),
    settings: engineSettingsFrom(config),
  });
  let url = '';
  // The response cache is off: this counts what executing the query costs, which a repeat within a second skips.
  const handler = await createGraphQLHandler({
    store,
    engine,
    bus,
    config,
    media,
    log: createLogger('silent'),
    upstreamMode: 'SIMULATED',
    publicUrl: () => url,
  });
  const server = createServer((req, res) => {
    if (!handler.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const counts: Record<number, Record<string, number>> = {};
    for (const first of PAGE_SIZES) {
      await gqlData(url, seeded.token, HISTORY_QUERY, { first }); // warm: nothing cached matters, but keep runs alike
      log.length = 0;
      const data = await gqlData<{ videoJobs: { edges: unknown[] } }>(url, seeded.token, HISTORY_QUERY, { first });
      if (data.videoJobs.edges.length !== first) throw new Error(`expected ${first} edges`);
      const byTable: Record<string, number> = {};
      for (const sql of log) byTable[tableOf(sql)] = (byTable[tableOf(sql)] ?? 0) + 1;
      counts[first] = byTable;
      ctx.log(`first ${first}: ${log.length} statements ${JSON.stringify(byTable)}`);
    }
    // The bearer-token lookup (api_tokens) belongs to the request, not to videoJobs.
    const perVideoJobs = (first: number) => Object.entries(counts[first]!).filter(([t]) => t !== 'api_tokens').reduce((s, [, n]) => s + n, 0);
    const figures = PAGE_SIZES.map((first) => {
      const n = perVideoJobs(first);
      return {
        measure: `statements per videoJobs(first: ${first}) with videos and events`,
        value: n,
        unit: '',
        baseline: `+1 bearer-token lookup per request; by table ${JSON.stringify(counts[first])}`,
        goal: `= 1 + ${NESTED_RELATIONS.length} nested relations = ${1 + NESTED_RELATIONS.length}, equal for every page size`,
        met: n === 1 + NESTED_RELATIONS.length && PAGE_SIZES.every((size) => perVideoJobs(size) === n),
      };
    });
    return {
      figures,
      notes: ['Counted by the store logger over one request each after one warm-up request; the query is the history scenario\'s (every field, videos and events).'],
      details: { counts },
    };
  } finally {
    await handler.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await store.close();
  }
};
