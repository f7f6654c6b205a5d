// A fresh PostgreSQL database per test file (or per test), on the server TEST_DATABASE_URL names.
import pg from 'pg';
import { databaseUrlFor, TEST_DATABASE_URL, uniqueName } from './services.ts';

/** Runs one statement on the test server's maintenance database (CREATE / DROP DATABASE). */
export async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database (`options`: more of CREATE DATABASE, e.g. a locale); `drop()` removes it, closing whatever
 * connections are still open on it.
 */
export async function createTestDatabase(options = ''): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('gw_test');
  await adminQuery(`CREATE DATABASE "${name}" ${options}`);
  return { url: databaseUrlFor(name), drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
