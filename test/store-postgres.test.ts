// The store contract on PostgreSQL: the same suite as SQLite's (test/store-contract.ts). Each store opened gets a
// database of its own, cloned from one migrated template (much faster than migrating each).
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { openPostgresStore } from '../src/store/postgres/open.ts';
import type { Store } from '../src/store/store.ts';
import { describeStore, type OpenedStore } from './store-contract.ts';
import { adminQuery, createTestDatabase } from './helpers/postgres.ts';
import { databaseUrlFor, hasPostgres, uniqueName } from './helpers/services.ts';
import { FakeClock, type Statement } from './helpers/store-fixtures.ts';

let template: Awaited<ReturnType<typeof createTestDatabase>> | null = null;
const databases: string[] = [];
const opened = new Map<Store, { url: string; clock: FakeClock }>();
/** Stores opened by the running test: closed after it, so that the server's 100 connections are never exhausted. */
let openedInTest: Store[] | null = null;

beforeAll(async () => {
  if (!hasPostgres) return;
  template = await createTestDatabase();
  // Migrated once; a template must have no open connection while it is cloned.
  await (await openPostgresStore(template.url)).close();
});

beforeEach(() => {
  openedInTest = [];
});

afterEach(async () => {
  const stores = openedInTest ?? [];
  openedInTest = null;
  await Promise.all(stores.map((store) => store.close()));
  for (const store of stores) opened.delete(store);
});

afterAll(async () => {
  await Promise.all([...opened.keys()].map((store) => store.close()));
  for (const name of databases) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await template?.drop();
});

async function openOn(url: string, clock: FakeClock, options: { instanceId?: string; leaseMs?: number } = {}): Promise<OpenedStore> {
  const statements: Statement[] = [];
  const store = await openPostgresStore(url, { now: clock.now, logger: (sql, params) => statements.push({ sql, params }), ...options });
  opened.set(store, { url, clock });
  openedInTest?.push(store);
  return { store, clock, statements };
}

describe.skipIf(!hasPostgres)('on PostgreSQL', () => {
  describeStore('PostgreSQL', {
    async open(options) {
      const name = uniqueName('gw_contract');
      await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${new URL(template!.url).pathname.slice(1)}"`);
      databases.push(name);
      return openOn(databaseUrlFor(name), new FakeClock(), options);
    },
    async openBeside(store, options) {
      const { url, clock } = opened.get(store)!;
      return (await openOn(url, clock, options)).store;
    },
  });
});
