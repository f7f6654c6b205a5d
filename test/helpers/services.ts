// The real PostgreSQL and Redis of this machine, for the tests that need them (CONTRACT §9). Each test file gets its
// own database (created here, dropped after) and its own Redis key prefix. Outside CI a missing service makes those
// tests skip and say so; under CI=true it fails the run.
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

const underCi = () => process.env.CI === 'true';

/** True when something accepts TCP connections at the URL's host and port within a second. */
function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function available(name: string, url: string, defaultPort: number): Promise<boolean> {
  if (await reachable(url, defaultPort)) return true;
  const message = `${name} is not reachable at ${new URL(url).host}`;
  if (underCi()) throw new Error(`${message}: CI=true requires it (CONTRACT §9)`);
  console.warn(`SKIPPED: ${message}; the tests that need it are skipped (set CI=true to make this a failure)`);
  return false;
}

/** Whether PostgreSQL is there (top-level await in a test file, then `describe.skipIf(!hasPostgres)`). */
export const hasPostgres = await available('PostgreSQL', TEST_DATABASE_URL, 5432);
export const hasRedis = await available('Redis', TEST_REDIS_URL, 6379);

/** A fresh name for a test's database or Redis key prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** The URL of database `name` on the test server. */
export function databaseUrlFor(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
