// PostgreSQL and Redis for the replica scenarios (CONTRACT §9): each scenario gets a database and a Redis key prefix
// of its own, removed when it ends, so that runs never see each other's rows, leases, heartbeats or events (other
// benches and tests share both servers). Without either service the scenario is reported as skipped, never as met.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { ScenarioResult } from './report.ts';
import { cpuTimeMsOf } from './proc.ts';

/**
 * The server's maintenance database, named with its user: databases are created and dropped through it. The tests'
 * variables serve too, since `npm test` runs the crash test through here.
 */
export const POSTGRES_ADMIN_URL =
  process.env.BENCH_POSTGRES_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const PROBE_TIMEOUT_MS = 3_000;

async function postgresProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL not usable at ${new URL(POSTGRES_ADMIN_URL).host}: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisProblem(): Promise<string | null> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: PROBE_TIMEOUT_MS });
  // The socket's own error (ECONNREFUSED…) says more than the rejection ("Connection is closed").
  let cause: string | null = null;
  redis.on('error', (error: Error) => (cause ??= error.message));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `Redis not usable at ${new URL(REDIS_URL).host}: ${cause ?? (error instanceof Error ? error.message : String(error))}`;
  } finally {
    redis.disconnect();
  }
}

/** Why the replica scenarios cannot run here, or null when both services answer. */
export async function servicesUnavailable(): Promise<string | null> {
  const problems = (await Promise.all([postgresProblem(), redisProblem()])).filter((p) => p !== null);
  return problems.length ? problems.join('; ') : null;
}

/** The figures a scenario would have measured, each marked skipped with the reason (verdict "—", not met). */
export function skippedOutcome(reason: string, figures: Array<{ measure: string; unit: string; goal: string }>): Omit<ScenarioResult, 'scenario' | 'at' | 'seconds'> {
  return {
    figures: figures.map((f) => ({ ...f, value: null, baseline: `skipped: ${reason}`, met: null })),
    notes: [`Skipped: ${reason}.`],
    details: { skipped: reason },
  };
}

export interface Backing {
  /** The database's name (also what its server processes show in `ps`). */
  database: string;
  databaseUrl: string;
  keyPrefix: string;
  /** DATABASE_URL, REDIS_URL and REDIS_KEY_PREFIX for a gateway on this backing. */
  env: Record<string, string>;
  /** Drops the database (closing what is still connected) and deletes the prefix's keys. */
  drop(): Promise<void>;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

export async function createBacking(label: string): Promise<Backing> {
  const unique = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const database = `bench_${label.replace(/[^a-z0-9]/gi, '_')}_${unique}`.toLowerCase();
  const keyPrefix = `bench-${label}-${unique}:`;
  await admin(`CREATE DATABASE "${database}"`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  return {
    database,
    databaseUrl,
    keyPrefix,
    env: { DATABASE_URL: databaseUrl, REDIS_URL, REDIS_KEY_PREFIX: keyPrefix },
    async drop() {
      const results = await Promise.allSettled([admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`), deleteKeys(keyPrefix)]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/** CPU time (ms) of each PostgreSQL server process working for `database` (its backends, named in their command line). */
function backendCpuMs(database: string): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (command.startsWith('postgres: ') && command.includes(` ${database} `)) byPid.set(Number(entry), cpuTimeMsOf(Number(entry)) ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return byPid;
}

const BACKEND_SAMPLE_MS = 200;

/**
 * The CPU the PostgreSQL server spends for one database over a window, so that a figure can say how much of the
 * server's work a request or a poll round caused. Sampled while it runs: the pool closes idle connections, and a
 * backend that exits takes its counters with it (at most one sample interval of its work is lost).
 */
export class PostgresCpu {
  private readonly last: Map<number, number>;
  private totalMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly database: string) {
    this.last = backendCpuMs(database);
    this.timer = setInterval(() => this.sample(), BACKEND_SAMPLE_MS);
  }

  private sample(): void {
    for (const [pid, ms] of backendCpuMs(this.database)) {
      // A backend first seen now started during the window: all of its time is the window's.
      this.totalMs += Math.max(0, ms - (this.last.get(pid) ?? 0));
      this.last.set(pid, ms);
    }
  }

  /** Stops sampling; returns the CPU milliseconds since construction. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.totalMs;
  }
}
