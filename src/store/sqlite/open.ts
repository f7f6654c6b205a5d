// Opens the SQLite database behind the store: file location, connection pragmas, migrations.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { JS_LOWER_FUNCTION, jsLower } from './job-queries.ts';
import { lockDatabaseFile } from './process-lock.ts';
import * as schema from './schema.ts';
import { SqliteStore } from './sqlite-store.ts';

export { SqliteStore } from './sqlite-store.ts';

/** Resolved from this file, not from the cwd: tests, the CLI and the server start from different directories. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations/sqlite', import.meta.url));

export interface OpenSqliteStoreOptions {
  /** Receives every statement run through drizzle (the GraphQL layer counts statements per request with it). */
  logger?: (sql: string, params: unknown[]) => void;
  /** The clock for stored times; defaults to `Date.now`. */
  now?: () => number;
  /** The replica the store acts for (lease owner); random when not given. */
  instanceId?: string;
  leaseMs?: number;
  /**
   * The gateway's own store: the database file is locked for this process (a second gateway refuses to start), and
   * leases left by an earlier process (killed mid-step) are cleared, since no other process can hold one.
   */
  exclusive?: boolean;
}

const IN_MEMORY = ':memory:';

/** `file:./data/gateway.db`, `file:/abs/path`, `file:///abs/path`, a plain path, or `:memory:` → what better-sqlite3 opens. */
export function databaseFilePath(databaseUrl: string): string {
  if (databaseUrl === IN_MEMORY || databaseUrl === `file:${IN_MEMORY}`) return IN_MEMORY;
  if (databaseUrl.startsWith('file://')) return fileURLToPath(databaseUrl);
  if (databaseUrl.startsWith('file:')) return databaseUrl.slice('file:'.length);
  return databaseUrl;
}

function migrationCount(): number {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

function configureConnection(sqlite: Database.Database): void {
  // WAL lets readers run while a write is in progress; FULL syncs every commit, since a lost commit could
  // mean a job submitted upstream (and paid for) that the gateway no longer knows about.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.function(JS_LOWER_FUNCTION, { deterministic: true }, (value: unknown) =>
    jsLower(typeof value === 'string' ? value : value == null ? null : String(value)),
  );
}

export async function openSqliteStore(databaseUrl: string, options: OpenSqliteStoreOptions = {}): Promise<SqliteStore> {
  const file = databaseFilePath(databaseUrl);
  if (file !== IN_MEMORY) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  const unlock = options.exclusive && file !== IN_MEMORY ? lockDatabaseFile(path.resolve(file)) : () => {};
  let sqlite: Database.Database;
  try {
    sqlite = new Database(file);
  } catch (error) {
    unlock();
    throw error;
  }
  try {
    configureConnection(sqlite);
    const { logger } = options;
    const db = drizzle({
      client: sqlite,
      schema,
      logger: logger ? { logQuery: (query, params) => logger(query, params) } : false,
    });
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    const store = new SqliteStore(sqlite, db, {
      now: options.now,
      expectedMigrations: migrationCount(),
      instanceId: options.instanceId ?? randomUUID(),
      leaseMs: options.leaseMs,
      onClose: unlock,
    });
    if (options.exclusive) await store.clearDeadProcesses();
    return store;
  } catch (error) {
    sqlite.close();
    unlock();
    throw error;
  }
}
