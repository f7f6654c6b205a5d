// Opens the PostgreSQL database behind the store: the replica rule of CONTRACT §9, migrations under a lock, the pool.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { DatabaseInUseError } from '../store.ts';
import { MIGRATION_LOCK, REPLICA_LOCK } from './locks.ts';
import { probeLowering } from './lowering.ts';
import { PostgresStore } from './postgres-store.ts';

export { PostgresStore } from './postgres-store.ts';

/** Resolved from this file, not from the cwd: tests, the CLI and the server start from different directories. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations/postgres', import.meta.url));

export interface OpenPostgresStoreOptions {
  /** The replica the store acts for (lease owner, heartbeats); random when not given. */
  instanceId?: string;
  /** Receives every statement run through drizzle (the GraphQL layer counts statements per request with it). */
  logger?: (sql: string, params: unknown[]) => void;
  leaseMs?: number;
  /** The clock of stored job times (tests pass a fake one); leases and heartbeats always use the database's clock. */
  now?: () => number;
  /**
   * The replica rule (CONTRACT §9), for the gateway's own store: `true` (no REDIS_URL) holds the database alone,
   * refuses to start beside any other replica and clears the leases a dead predecessor left; `false` (REDIS_URL set)
   * shares it with other replicas that share it. Absent (the CLI, tests): no replica lock at all.
   */
  exclusive?: boolean;
}

function migrationCount(): number {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/**
 * A connection the server drops (a restart, pg_terminate_backend) must not crash the process with an unhandled 'error'
 * event: the pool replaces idle connections, and the next query on a dead one fails on its own.
 */
const ignoreDroppedConnection = (): void => {};

/** Applies the pending migrations, one process at a time: replicas that start together wait for each other here. */
export async function migratePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', ignoreDroppedConnection);
  await client.connect();
  try {
    // A session lock: drizzle runs the migrations in a transaction of its own on this connection.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    // Ending the session releases the lock, also when a migration failed.
    await client.end();
  }
}

interface ReplicaLock {
  /** False once the lock's session has ended (a database restart, a terminated backend): the lock went with it. */
  held(): boolean;
  release(): Promise<void>;
}

const NO_REPLICA_LOCK: ReplicaLock = { held: () => true, release: async () => {} };

/** A lock whose session ended is taken again this often, until the store closes. */
const REPLICA_LOCK_RETRY_MS = 2_000;

/**
 * Takes the replica lock on a connection held for the process's life: a process that dies (even SIGKILLed) loses the
 * connection and with it the lock, so a restart never waits. A session that ends under a live process (a database
 * restart, a terminated backend) is taken again; until then the store is not ready (/readyz), so a load balancer stops
 * sending it requests, and a replica that took the database meanwhile keeps it.
 */
async function holdReplicaLock(url: string, exclusive: boolean): Promise<ReplicaLock> {
  let client = await takeReplicaLock(url, exclusive);
  let held = true;
  let released = false;
  let retry: NodeJS.Timeout | undefined;
  const watch = (session: pg.Client) =>
    session.once('end', () => {
      if (released) return;
      held = false;
      retry = setTimeout(retake, REPLICA_LOCK_RETRY_MS);
    });
  const retake = () => {
    takeReplicaLock(url, exclusive).then(
      (session) => {
        if (released) return void session.end();
        client = session;
        held = true;
        watch(session);
      },
      () => {
        if (!released) retry = setTimeout(retake, REPLICA_LOCK_RETRY_MS);
      },
    );
  };
  watch(client);
  return {
    held: () => held,
    release: async () => {
      released = true;
      clearTimeout(retry);
      await client.end();
    },
  };
}

async function takeReplicaLock(url: string, exclusive: boolean): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', ignoreDroppedConnection);
  await client.connect();
  try {
    const take = exclusive ? 'pg_try_advisory_lock' : 'pg_try_advisory_lock_shared';
    const { rows } = await client.query<{ taken: boolean }>(`SELECT ${take}($1) AS taken`, [REPLICA_LOCK]);
    if (!rows[0]!.taken) {
      throw new DatabaseInUseError(
        exclusive
          ? 'another gateway replica is live on this PostgreSQL database and REDIS_URL is not set: set REDIS_URL on every replica to run several'
          : 'a gateway replica without REDIS_URL holds this PostgreSQL database: set REDIS_URL on every replica to run several',
      );
    }
  } catch (error) {
    await client.end();
    throw error;
  }
  return client;
}

export async function openPostgresStore(url: string, options: OpenPostgresStoreOptions = {}): Promise<PostgresStore> {
  // The replica rule first: a start that is refused must not migrate the database under the replica that holds it.
  const replicaLock = options.exclusive === undefined ? NO_REPLICA_LOCK : await holdReplicaLock(url, options.exclusive);
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', ignoreDroppedConnection);
  try {
    await migratePostgres(url);
    const { logger } = options;
    const db = drizzle({ client: pool, logger: logger ? { logQuery: (query, params) => logger(query, params) } : false });
    const store = new PostgresStore(pool, db, {
      instanceId: options.instanceId ?? randomUUID(),
      now: options.now,
      leaseMs: options.leaseMs,
      expectedMigrations: migrationCount(),
      lowering: await probeLowering(pool),
      replicaLockHeld: replicaLock.held,
      onClose: replicaLock.release,
    });
    // Alone on the database, every lease left is a dead process's: its jobs are taken up at once, not when it expires.
    if (options.exclusive) await store.clearDeadProcesses();
    return store;
  } catch (error) {
    await pool.end();
    await replicaLock.release();
    throw error;
  }
}
