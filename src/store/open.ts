// Opens the store DATABASE_URL names: PostgreSQL for postgres:// URLs, otherwise the SQLite file (the default).
import type { Store } from './store.ts';
import { openSqliteStore } from './sqlite/open.ts';

export interface OpenStoreOptions {
  /** The replica the store acts for (lease owner, heartbeats). */
  instanceId?: string;
  /** The gateway's own store (not a CLI's): on SQLite, the file is locked for this process. */
  exclusive?: boolean;
  /** REDIS_URL is set: on PostgreSQL, other replicas may share the database (CONTRACT §9). */
  sharedWithReplicas?: boolean;
  /** Receives every statement run through drizzle. */
  logger?: (sql: string, params: unknown[]) => void;
}

export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(databaseUrl)) {
    const { openPostgresStore } = await import('./postgres/open.ts');
    return openPostgresStore(databaseUrl, {
      instanceId: options.instanceId,
      logger: options.logger,
      // Only the gateway's own store takes the replica lock (a CLI beside it takes none), exclusively unless shared.
      exclusive: options.exclusive ? !options.sharedWithReplicas : undefined,
    });
  }
  return openSqliteStore(databaseUrl, options);
}
