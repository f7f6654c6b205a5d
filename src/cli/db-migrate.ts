// `npm run db:migrate`: applies the migrations of the store DATABASE_URL names, without starting the gateway
// (CONTRACT §9). The gateway applies them itself at start; this is for deployments that migrate as a separate step.
import { ConfigError, loadConfig } from '../config.ts';
import { isPostgresUrl } from '../store/open.ts';
import { migratePostgres } from '../store/postgres/open.ts';
import { databaseFilePath, openSqliteStore } from '../store/sqlite/open.ts';

/** The database a URL names, for messages: never its password. Null when the URL cannot be parsed. */
function describe(databaseUrl: string): string | null {
  if (!isPostgresUrl(databaseUrl)) return `SQLite ${databaseFilePath(databaseUrl)}`;
  if (!URL.canParse(databaseUrl)) return null;
  const url = new URL(databaseUrl);
  url.password = '';
  url.search = '';
  return `PostgreSQL ${url.toString()}`;
}

/** The first line of an error's message; a refused connection may come as an AggregateError without one. */
function reason(error: unknown): string {
  const { message, code } = error as { message?: string; code?: string };
  return (message || code || String(error)).split('\n')[0]!;
}

async function main(): Promise<number> {
  let databaseUrl: string;
  try {
    ({ databaseUrl } = loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  const where = describe(databaseUrl);
  if (where === null) return fail('invalid configuration: DATABASE_URL is not a valid postgres:// URL');
  try {
    if (isPostgresUrl(databaseUrl)) await migratePostgres(databaseUrl);
    // Opening the SQLite store applies its migrations.
    else await (await openSqliteStore(databaseUrl)).close();
  } catch (error) {
    return fail(`cannot migrate ${where}: ${reason(error)}`);
  }
  process.stdout.write(`migrations applied to ${where}\n`);
  return 0;
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 1;
}

process.exitCode = await main();
