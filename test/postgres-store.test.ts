// The PostgreSQL store's own rules, on a real server: migrations under a lock, the replica rule of CONTRACT §9,
// leases by the database's clock across several stores (replicas), admission and quotas that hold across them, the
// owner's data version moved by triggers, and search that lower-cases exactly as JavaScript does. The behaviour it
// shares with the SQLite store is the contract suite's (test/store-contract.ts).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { matchesFilter } from '../src/domain/job-filter.ts';
import type { VideoJob } from '../src/domain/video-job.ts';
import { openStore } from '../src/store/open.ts';
import { ADMISSION_LOCK, REPLICA_LOCK } from '../src/store/postgres/locks.ts';
import { jsLower, probeLowering } from '../src/store/postgres/lowering.ts';
import { openPostgresStore, type OpenPostgresStoreOptions, type PostgresStore } from '../src/store/postgres/open.ts';
import { DatabaseInUseError, type Store } from '../src/store/store.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { FakeClock, newJob } from './helpers/store-fixtures.ts';
import { PROJECT_ROOT } from './helpers/run-cli.ts';
import { hasPostgres } from './helpers/services.ts';

const NO_QUOTA = { maxActiveJobs: 1_000_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** After each test, last first: stores close before their database is dropped, and the server's connections are freed. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDatabase(options?: string): Promise<string> {
  const database = await createTestDatabase(options);
  cleanups.push(database.drop);
  return database.url;
}

async function open(url: string, options: OpenPostgresStoreOptions = {}): Promise<PostgresStore> {
  const store = await openPostgresStore(url, options);
  cleanups.push(() => store.close());
  return store;
}

/** The sessions holding the replica lock of the current database, and in which mode. */
const replicaLockHolders = (client: pg.Client) =>
  client.query<{ pid: number; mode: string }>(
    "SELECT pid, mode FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    [REPLICA_LOCK],
  );

/** A session on the database beside the stores, for what only the test does (catalog reads, killing a backend). */
async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function createdJob(store: Store, job = newJob('unused')): Promise<VideoJob> {
  const result = await store.createJob(job, NO_QUOTA);
  if (result.kind !== 'created') throw new Error(`expected a created job, got ${result.kind}`);
  return result.job;
}

/** `count` stores on one fresh database, each its own replica; the first has a user. */
async function replicasOf(count: number, options: OpenPostgresStoreOptions = {}) {
  const url = await freshDatabase();
  const clock = new FakeClock();
  const stores: PostgresStore[] = [];
  for (let i = 0; i < count; i++) stores.push(await open(url, { instanceId: `replica-${i}`, now: clock.now, ...options }));
  const { user } = await stores[0]!.ensureUser('alice');
  return { url, clock, stores, store: stores[0]!, user };
}

describe.skipIf(!hasPostgres)('PostgreSQL store', () => {
  describe('migrations', () => {
    it('are applied once under the lock when replicas start together', async () => {
      const url = await freshDatabase();
      const stores = await Promise.all([1, 2, 3].map((i) => open(url, { instanceId: `starting-${i}` })));
      for (const store of stores) expect(await store.isReady()).toBe(true);

      const journal = JSON.parse(readFileSync(new URL('../migrations/postgres/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
      await withClient(url, async (client) => {
        const applied = await client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
        expect(applied.rows[0].n).toBe(journal.entries.length);
        const tables = await client.query(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        );
        expect(tables.rows.map((row) => row.table_name)).toEqual([
          'api_tokens',
          'audio_assets',
          'job_events',
          'owner_data_versions',
          'replicas',
          'settings',
          'users',
          'video_assets',
          'video_jobs',
        ]);
      });
      // Opening again applies nothing more.
      await open(url);
      await withClient(url, async (client) => {
        expect((await client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n).toBe(journal.entries.length);
      });
    });

    it('order ids and names by code point, as SQLite does, even in a database with a linguistic collation', async () => {
      const url = await freshDatabase("TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
      const store = await open(url, { now: new FakeClock().now });
      for (const name of ['b', 'a', 'B']) await store.ensureUser(name);
      expect((await store.listUsers()).map((user) => user.name)).toEqual(['B', 'a', 'b']);
      const owner = (await store.findUserByName('a'))!;
      for (const id of ['job-a', 'job-B', 'job-_', 'job-b']) await createdJob(store, newJob(owner.id, { id }));
      const page = await store.listJobs({ ownerId: owner.id, order: 'CREATED_AT_ASC', limit: 10 });
      expect(page.jobs.map((job) => job.id)).toEqual(['job-B', 'job-_', 'job-a', 'job-b']);
      const cursor = { time: page.jobs[0]!.createdAt, id: 'job-_' };
      expect((await store.listJobs({ ownerId: owner.id, order: 'CREATED_AT_ASC', limit: 10, after: cursor })).jobs.map((job) => job.id)).toEqual(['job-a', 'job-b']);
    });
  });

  describe('the replica rule', () => {
    it('refuses a second replica without REDIS_URL, in one line naming REDIS_URL, and lets the CLI in', async () => {
      const url = await freshDatabase();
      const alone = await open(url, { exclusive: true });
      await expect(openPostgresStore(url, { exclusive: true })).rejects.toThrow(DatabaseInUseError);
      await expect(openPostgresStore(url, { exclusive: true })).rejects.toThrow(/^[^\n]*REDIS_URL[^\n]*$/);
      await expect(openPostgresStore(url, { exclusive: false })).rejects.toThrow(/replica without REDIS_URL holds this PostgreSQL database: set REDIS_URL/);
      const cli = await open(url);
      expect(await cli.countUsers()).toBe(0);

      await alone.close();
      expect(await alone.isReady()).toBe(false);
      await open(url, { exclusive: true });
    });

    it('lets replicas with REDIS_URL share the database, and refuses one without it beside them', async () => {
      const url = await freshDatabase();
      const shared = await Promise.all([1, 2, 3].map(() => open(url, { exclusive: false })));
      await expect(openPostgresStore(url, { exclusive: true })).rejects.toThrow(
        'another gateway replica is live on this PostgreSQL database and REDIS_URL is not set: set REDIS_URL on every replica to run several',
      );
      for (const store of shared) await store.close();
      await open(url, { exclusive: true });
    });

    it('maps the gateway options of openStore: exclusive alone without REDIS_URL, shared with it, none for a CLI', async () => {
      const url = await freshDatabase();
      const gateway = await openStore(url, { exclusive: true, sharedWithReplicas: true });
      cleanups.push(() => gateway.close());
      const beside = await openStore(url, { exclusive: true, sharedWithReplicas: true });
      cleanups.push(() => beside.close());
      await expect(openStore(url, { exclusive: true })).rejects.toThrow(DatabaseInUseError);
      const cli = await openStore(url);
      cleanups.push(() => cli.close());
      const modes = await withClient(url, async (client) => (await replicaLockHolders(client)).rows.map((row) => row.mode));
      expect(modes).toEqual(['ShareLock', 'ShareLock']);
    });

    it('frees the database at once when the holding process is SIGKILLed', async () => {
      const url = await freshDatabase();
      const script = `import { openPostgresStore } from './src/store/postgres/open.ts';
        await openPostgresStore(process.env.DATABASE_URL, { exclusive: true });
        process.stdout.write('ready\\n');
        setInterval(() => {}, 60_000);`;
      const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      cleanups.push(async () => holder.kill('SIGKILL'));
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (data: Buffer) => data.toString().includes('ready') && resolve());
        holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
      });
      await expect(openPostgresStore(url, { exclusive: true })).rejects.toThrow(DatabaseInUseError);
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
      // The kernel closes the socket; the server ends the session at once, and its locks with it.
      for (let attempt = 0; ; attempt++) {
        try {
          await open(url, { exclusive: true });
          break;
        } catch (error) {
          if (!(error instanceof DatabaseInUseError) || attempt >= 20) throw error;
          await sleep(50);
        }
      }
    });

    it('frees the database when the holder dies (its session, and with it the lock, ends); the next clears its leases', async () => {
      const url = await freshDatabase();
      const holder = await open(url, { exclusive: true, instanceId: 'dead' });
      const { user } = await holder.ensureUser('alice');
      const job = await createdJob(holder, newJob(user.id));
      expect(await holder.claimDueJobs({ phases: ['waiting'], dueBy: Number.MAX_SAFE_INTEGER, limit: 1 })).toHaveLength(1);
      await expect(openPostgresStore(url, { exclusive: true })).rejects.toThrow(DatabaseInUseError);
      // What a SIGKILL does to the holder's connection.
      await withClient(url, async (client) => {
        const { rows } = await replicaLockHolders(client);
        expect(rows).toHaveLength(1);
        await client.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      });
      const next = await open(url, { exclusive: true });
      expect(await next.getJob(job.id)).toMatchObject({ leaseOwner: null, leaseExpiresAt: null });
      // The holder, if it still ran, would know it lost the database: not ready.
      expect(await holder.isReady()).toBe(false);
      expect(await holder.countUsers()).toBe(1);
    });
  });

  describe('a lock session lost under a live replica', () => {
    it('is taken again: the replica is unready meanwhile and ready once it holds the database again', async () => {
      const url = await freshDatabase();
      const holder = await open(url, { exclusive: true });
      await withClient(url, async (client) => {
        const { rows } = await replicaLockHolders(client);
        await client.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      });
      const until = async (ready: boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while ((await holder.isReady()) !== ready) {
          if (Date.now() > deadline) throw new Error(`${what} within 10 s`);
          await sleep(50);
        }
      };
      await until(false, 'the lost lock was not noticed');
      await until(true, 'the lock was not taken again');
      await expect(openPostgresStore(url, { exclusive: true })).rejects.toThrow(DatabaseInUseError);
    });
  });

  describe('leases by the database clock', () => {
    async function dueJobs(count: number, replicas: number, options: OpenPostgresStoreOptions = {}) {
      const opened = await replicasOf(replicas, options);
      const { store, user, clock } = opened;
      const jobs: VideoJob[] = [];
      for (let i = 0; i < count; i++) {
        const job = await createdJob(store, newJob(user.id));
        jobs.push((await store.updateJob(job.id, { phase: 'polling', status: 'QUEUED', nextCheckAt: clock.time }))!);
      }
      return { ...opened, jobs };
    }

    it('never gives one job to two of four stores claiming at once', async () => {
      const { stores, clock, jobs } = await dueJobs(50, 4);
      const claimedBy = new Map<string, string[]>();
      await Promise.all(
        stores.map(async (store) => {
          for (;;) {
            const claimed = await store.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 3 });
            if (claimed.length === 0) return;
            for (const job of claimed) claimedBy.set(job.id, [...(claimedBy.get(job.id) ?? []), store.instanceId]);
          }
        }),
      );
      expect([...claimedBy.keys()].sort()).toEqual(jobs.map((job) => job.id).sort());
      expect([...claimedBy.values()].every((owners) => owners.length === 1)).toBe(true);
      // Each store's leases are in the database, under its name.
      const leases = await Promise.all(stores.map((store) => store.countLeases()));
      expect(leases.reduce((a, b) => a + b, 0)).toBe(50);
    });

    it('sets and checks leases by the database clock, not by the clock of stored times', async () => {
      const url = await freshDatabase();
      const future = new FakeClock(Date.now() + 365 * 86_400_000);
      const behind = await open(url, { instanceId: 'behind', now: new FakeClock(0).now, leaseMs: 5000 });
      const ahead = await open(url, { instanceId: 'ahead', now: future.now });
      const { user } = await behind.ensureUser('alice');
      const job = await createdJob(behind, newJob(user.id));
      const [claimed] = await behind.claimDueJobs({ phases: ['waiting'], dueBy: Number.MAX_SAFE_INTEGER, limit: 1 });
      const dbNow = await withClient(url, async (client) =>
        Number((await client.query('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now')).rows[0].now),
      );
      expect(claimed!.leaseExpiresAt! - dbNow).toBeGreaterThan(4000);
      expect(claimed!.leaseExpiresAt! - dbNow).toBeLessThanOrEqual(5000);
      // A store whose own clock is a year ahead still sees the lease as live.
      expect(await ahead.claimDueJobs({ phases: ['waiting'], dueBy: Number.MAX_SAFE_INTEGER, limit: 1 })).toEqual([]);
      expect(await ahead.updateJob(job.id, { queuePosition: 1 })).toBeNull();
    });

    it('lets another store take an expired lease over, and fences the stale owner off', async () => {
      const url = await freshDatabase();
      const clock = new FakeClock();
      const a = await open(url, { instanceId: 'a', now: clock.now, leaseMs: 300 });
      const b = await open(url, { instanceId: 'b', now: clock.now, leaseMs: 10_000 });
      const { user } = await a.ensureUser('alice');
      const job = await createdJob(a, newJob(user.id));
      await a.updateJob(job.id, { phase: 'polling', status: 'QUEUED', nextCheckAt: clock.time });
      const query = { phases: ['polling'] as const, dueBy: clock.time, limit: 1 };

      const [stale] = await a.claimDueJobs(query);
      expect(await b.claimDueJobs(query)).toEqual([]);
      expect(await b.updateJob(job.id, { progress: 0.1 })).toBeNull();
      await sleep(400);
      const [takenOver] = await b.claimDueJobs(query);
      expect(takenOver).toMatchObject({ id: job.id, leaseOwner: 'b', revision: stale!.revision + 1 });

      expect(await a.updateJob(job.id, { status: 'FAILED', phase: 'done' }, { ifRevision: stale!.revision })).toBeNull();
      expect(await a.updateJob(job.id, { status: 'FAILED', phase: 'done' })).toBeNull();
      expect(await a.updateJobs([{ id: job.id, patch: { progress: 0.9 } }])).toEqual([null]);
      expect(await a.renewLeases([job.id])).toEqual([]);
      await a.releaseLeases([job.id]);
      expect(await b.getJob(job.id)).toMatchObject({ status: 'QUEUED', leaseOwner: 'b', progress: 0 });

      expect(await b.updateJob(job.id, { progress: 0.25 }, { ifRevision: takenOver!.revision })).toMatchObject({ progress: 0.25, leaseOwner: 'b' });
    });

    it('renews a lease past its first expiry and releases it', async () => {
      const { stores, jobs, clock } = await dueJobs(2, 2, { leaseMs: 400 });
      const [a, b] = stores as [PostgresStore, PostgresStore];
      const claimed = await a.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 2 });
      expect(claimed.map((job) => job.id)).toEqual(jobs.map((job) => job.id));
      for (let i = 0; i < 4; i++) {
        await sleep(150);
        expect((await a.renewLeases([jobs[1]!.id, jobs[0]!.id, 'unknown'])).sort()).toEqual(jobs.map((job) => job.id).sort());
      }
      expect(await b.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 2 })).toEqual([]);
      expect(await b.renewLeases([jobs[0]!.id])).toEqual([]);
      await a.releaseLeases([jobs[0]!.id]);
      expect(await a.countLeases()).toBe(1);
      expect((await b.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 2 })).map((job) => job.id)).toEqual([jobs[0]!.id]);
    });
  });

  describe('admission across replicas', () => {
    async function waitingJobs(owners: string[], perOwner: number, replicas: number) {
      const opened = await replicasOf(replicas);
      const { store, clock } = opened;
      const ownerIds: string[] = [];
      for (const owner of owners) ownerIds.push((await store.ensureUser(owner)).user.id);
      for (const [index, ownerId] of ownerIds.entries()) {
        for (let i = 0; i < perOwner; i++) {
          clock.advance(1);
          await createdJob(store, newJob(ownerId, { prompt: `${owners[index]}-${i}` }));
        }
      }
      return opened;
    }

    it('never holds more than maxInFlight slots, even while three stores admit and finish jobs at once', async () => {
      const maxInFlight = 3;
      const { stores, url } = await waitingJobs(['a', 'b', 'c', 'd'], 6, 3);
      let highest = 0;
      let sampling = true;
      // The slots in use, as the database counts them, sampled all along on a session of its own.
      const sampler = withClient(url, async (client) => {
        while (sampling) {
          const { rows } = await client.query(
            `SELECT count(*)::int AS n FROM video_jobs WHERE phase IN ('submitting', 'polling')
               OR (phase = 'waiting' AND lease_owner IS NOT NULL AND lease_expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint)`,
          );
          highest = Math.max(highest, rows[0].n);
        }
      });
      const admitted: string[] = [];
      await Promise.all(
        stores.map(async (store) => {
          for (let round = 0; round < 12 && admitted.length < 24; round++) {
            const admission = await store.claimAdmissions(maxInFlight);
            expect(admission.admitted.length).toBeLessThanOrEqual(maxInFlight);
            for (const job of admission.admitted) {
              admitted.push(job.id);
              // Submitted, then finished upstream: the slot is held by the phase, then given back.
              await store.updateJob(job.id, { phase: 'polling', status: 'QUEUED' }, { ifRevision: job.revision });
              await store.releaseLeases([job.id]);
              await store.updateJob(job.id, { phase: 'done', status: 'SUCCEEDED', nextCheckAt: null });
            }
          }
        }),
      );
      sampling = false;
      await sampler;
      expect(highest).toBeGreaterThan(0);
      expect(highest).toBeLessThanOrEqual(maxInFlight);
      expect(new Set(admitted).size).toBe(admitted.length);
    });

    it('takes turns: an admission waits while another holds the admission lock', async () => {
      // The race the lock closes is narrow (a count before another's commit, a read after it): shown here directly.
      const { store, url } = await waitingJobs(['a'], 2, 1);
      await withClient(url, async (client) => {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [ADMISSION_LOCK]);
        let settled = false;
        const admission = store.claimAdmissions(1).finally(() => (settled = true));
        await sleep(300);
        expect(settled).toBe(false);
        await client.query('COMMIT');
        expect((await admission).admitted).toHaveLength(1);
      });
    });

    it('admits at most the free slots in total when three stores admit at once', async () => {
      const { stores, store } = await waitingJobs(['a', 'b', 'c', 'd'], 5, 3);
      const rounds = await Promise.all(Array.from({ length: 9 }, (_, i) => stores[i % 3]!.claimAdmissions(7)));
      const admitted = rounds.flatMap((round) => round.admitted);
      expect(admitted).toHaveLength(7);
      expect(new Set(admitted.map((job) => job.id)).size).toBe(7);
      expect(await store.countInFlight()).toBe(7);
    });

    it('serves owners round-robin whichever store admits', async () => {
      const { stores } = await waitingJobs(['a', 'b', 'c'], 3, 3);
      const served: string[] = [];
      for (let i = 0; i < 9; i++) {
        const store = stores[i % 3]!;
        const { admitted } = await store.claimAdmissions(1);
        expect(admitted).toHaveLength(1);
        served.push(admitted[0]!.prompt);
        await store.updateJob(admitted[0]!.id, { phase: 'done', status: 'CANCELED', nextCheckAt: null });
        await store.releaseLeases([admitted[0]!.id]);
      }
      expect(served).toEqual(['a-0', 'b-0', 'c-0', 'a-1', 'b-1', 'c-1', 'a-2', 'b-2', 'c-2']);
    });
  });

  describe('createJob across replicas', () => {
    it('creates exactly maxActiveJobs of 20 concurrent creates, and one job per idempotency key', async () => {
      const { stores, user } = await replicasOf(3);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => stores[i % 3]!.createJob(newJob(user.id), { maxActiveJobs: 6 })),
      );
      expect(results.filter((result) => result.kind === 'created')).toHaveLength(6);
      expect(results.filter((result) => result.kind === 'quota').map((result) => result.kind === 'quota' && result.activeJobs)).toEqual(
        Array(14).fill(6),
      );

      const keyed = await Promise.all(
        Array.from({ length: 20 }, (_, i) => stores[i % 3]!.createJob(newJob(user.id, { idempotencyKey: 'same-key' }), NO_QUOTA)),
      );
      expect(keyed.filter((result) => result.kind === 'created')).toHaveLength(1);
      expect(keyed.filter((result) => result.kind === 'existing')).toHaveLength(19);
      expect(new Set(keyed.map((result) => (result.kind === 'quota' ? null : result.job.id))).size).toBe(1);
      expect(await stores[1]!.countJobs(user.id)).toBe(7);
    });

    it('answers "existing" when the key is inserted by a writer it did not wait for', async () => {
      const { store, url, user } = await replicasOf(1);
      const template = await createdJob(store, newJob(user.id));
      const racing = newJob(user.id, { idempotencyKey: 'raced' });
      await withClient(url, async (client) => {
        await client.query('BEGIN');
        // A copy of a job row under the key, not yet committed: the store's lookup cannot see it, its insert waits on it.
        await client.query(
          `INSERT INTO video_jobs SELECT (jsonb_populate_record(v, jsonb_build_object('id', 'raced-job', 'idempotency_key', 'raced'))).*
             FROM video_jobs v WHERE id = $1`,
          [template.id],
        );
        const creating = store.createJob(racing, NO_QUOTA);
        await sleep(300);
        await client.query('COMMIT');
        expect(await creating).toMatchObject({ kind: 'existing', job: { id: 'raced-job', idempotencyKey: 'raced' } });
      });
      expect(await store.getJob(racing.id)).toBeNull();
    });
  });

  describe("the owner's data version", () => {
    it('moves on visible writes from any replica, not on scheduling state or claims, and on delete', async () => {
      const { stores, user } = await replicasOf(2);
      const [a, b] = stores as [PostgresStore, PostgresStore];
      await a.addToken(user.id, 'token-hash');
      const version = async () => (await a.findViewerByTokenHash('token-hash'))!.dataVersion;
      expect(await version()).toBe(0);
      const job = await createdJob(b, newJob(user.id));
      const afterCreate = await version();
      expect(afterCreate).toBe(1);
      await b.updateJob(job.id, { progress: 0.5 });
      expect(await version()).toBe(2);
      await b.updateJob(job.id, { nextCheckAt: 12345 });
      await b.updateJobs([{ id: job.id, patch: { pollFailures: 2 } }]);
      await a.claimDueJobs({ phases: ['waiting'], dueBy: Number.MAX_SAFE_INTEGER, limit: 1 });
      await a.releaseLeases([job.id]);
      expect(await version()).toBe(2);
      await a.deleteJob(job.id);
      expect(await version()).toBe(3);
      expect((await b.findViewerByTokenHash('token-hash'))?.user).toEqual(user);
    });
  });

  describe('search', () => {
    const PROMPTS = ['été à Paris', 'STRASSE im Regen', 'eine straße', 'ΟΔΟΣ', 'İstanbul', 'KELVIN: \u212a', '\u1c89 new letter', '𐵐 garay'];
    const NEEDLES = ['ÉTÉ', 'été', 'straße', 'STRASSE', 'strasse', 'οδος', 'οδοσ', 'ΟΔΟΣ', 'i̇stanbul', 'istanbul', 'kelvin: k', '\u1c8a', '𐵰', '𐵐'];

    it('finds what JavaScript toLowerCase() finds, beyond ASCII', async () => {
      const { store, user } = await replicasOf(1);
      const jobs: VideoJob[] = [];
      for (const prompt of PROMPTS) jobs.push(await createdJob(store, newJob(user.id, { prompt })));
      const found = async (search: string) =>
        (await store.listJobs({ ownerId: user.id, order: 'CREATED_AT_ASC', limit: 100, filter: { search } })).jobs.map((job) => job.prompt);
      expect(await found('ÉTÉ')).toEqual(['été à Paris']);
      expect(await found('straße')).toEqual(['eine straße']);
      expect(await found('STRASSE')).toEqual(['STRASSE im Regen']);
      for (const search of NEEDLES) {
        const expected = jobs.filter((job) => matchesFilter(job, { search })).map((job) => job.prompt);
        expect({ search, found: await found(search) }).toEqual({ search, found: expected });
        expect(await store.countJobs(user.id, { search })).toBe(expected.length);
      }
    });

    it('lower-cases every code point as this runtime does', async () => {
      const url = await freshDatabase();
      await open(url);
      const pool = new pg.Pool({ connectionString: url });
      try {
        const lowering = await probeLowering(pool);
        const db = drizzle({ client: pool });
        // Every code point the database changes; together with those JavaScript changes, every one that could differ.
        const { rows } = await db.execute<{ cp: number; lowered: string }>(sql`
          SELECT cp, lowered FROM (
            SELECT cp, ${jsLower(sql`chr(cp)`, lowering)} AS lowered
            FROM generate_series(1, 1114111) AS cp WHERE cp NOT BETWEEN 55296 AND 57343
          ) AS t WHERE lowered <> chr(cp)`);
        const database = new Map(rows.map((row) => [Number(row.cp), row.lowered]));
        const differences: string[] = [];
        for (let cp = 1; cp <= 0x10ffff; cp++) {
          if (cp >= 0xd800 && cp <= 0xdfff) continue;
          const char = String.fromCodePoint(cp);
          const expected = char.toLowerCase();
          const actual = database.get(cp) ?? char;
          if (actual !== expected) differences.push(`U+${cp.toString(16)}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
        }
        expect(differences).toEqual([]);
        // Context: the final sigma.
        const sigma = await db.execute<{ lowered: string }>(sql`SELECT ${jsLower(sql`${'ΟΔΟΣ ΑΣ.'}::text`, lowering)} AS lowered`);
        expect(sigma.rows[0]!.lowered).toBe('ΟΔΟΣ ΑΣ.'.toLowerCase());
      } finally {
        await pool.end();
      }
    });
  });
});
