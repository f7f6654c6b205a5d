// The SQLite store's own rules: where its file lives, its connection pragmas, one gateway per file, and query plans
// that search indexes. The behaviour it shares with every store is in test/store-contract.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseFilePath, openSqliteStore } from '../src/store/sqlite/open.ts';
import type { JobPageQuery } from '../src/store/store.ts';
import { describeStore } from './store-contract.ts';
import { newJob, StoreFiles, type Statement } from './helpers/store-fixtures.ts';

const files = new StoreFiles();
afterAll(() => files.cleanup());

const NO_QUOTA = { maxActiveJobs: 1_000_000 };

describeStore('SQLite', {
  open: (options) => files.open(undefined, undefined, options),
  openBeside: (store, options) => files.openBeside(store, options),
});

async function openWithUser(name = 'alice') {
  const opened = await files.open();
  const { user } = await opened.store.ensureUser(name);
  return { ...opened, user };
}

async function createdJob(store: Awaited<ReturnType<typeof files.open>>['store'], job = newJob('unused')) {
  const result = await store.createJob(job, NO_QUOTA);
  if (result.kind !== 'created') throw new Error(`expected a created job, got ${result.kind}`);
  return result.job;
}

describe('opening', () => {
  it('applies the migrations and sets the connection pragmas', async () => {
    const { store } = await files.open();
    expect(await store.isReady()).toBe(true);
    expect(store.readPragma('journal_mode')).toBe('wal');
    expect(store.readPragma('synchronous')).toBe(2); // FULL
    expect(store.readPragma('foreign_keys')).toBe(1);
    expect(store.readPragma('busy_timeout')).toBe(5000);
  });

  it('accepts file: URLs, plain paths and :memory:, creating the parent directory', async () => {
    expect(databaseFilePath('file:./data/gateway.db')).toBe('./data/gateway.db');
    expect(databaseFilePath('file:/abs/gateway.db')).toBe('/abs/gateway.db');
    expect(databaseFilePath('file:///abs/gateway.db')).toBe('/abs/gateway.db');
    expect(databaseFilePath('data/gateway.db')).toBe('data/gateway.db');
    expect(databaseFilePath(':memory:')).toBe(':memory:');

    const nested = path.join(files.dir, 'nested', 'deeper', 'gateway.db');
    const fromUrl = await openSqliteStore(`file:${nested}`);
    await fromUrl.ensureUser('ada');
    await fromUrl.close();
    expect(fs.existsSync(nested)).toBe(true);

    const plain = path.join(files.dir, 'plain', 'gateway.db');
    const fromPath = await openSqliteStore(plain);
    expect(await fromPath.isReady()).toBe(true);
    await fromPath.close();
    expect(fs.existsSync(plain)).toBe(true);

    const memory = await openSqliteStore(':memory:');
    expect(await memory.isReady()).toBe(true);
    expect(await memory.countUsers()).toBe(0);
    await memory.close();
  });

  it('keeps the data when the same file is opened again', async () => {
    const { store, file, user } = await openWithUser();
    const job = await createdJob(store, newJob(user.id, { idempotencyKey: 'k1' }));
    await store.updateJob(job.id, { status: 'QUEUED', upstreamJobId: 'up-1' });
    await store.close();

    const reopened = await openSqliteStore(file);
    expect(await reopened.isReady()).toBe(true);
    expect(await reopened.findUserByName('alice')).toEqual(user);
    expect(await reopened.getJob(job.id)).toMatchObject({ status: 'QUEUED', version: 2, upstreamJobId: 'up-1' });
    expect((await reopened.listEvents([job.id])).get(job.id)?.map((e) => e.seq)).toEqual([1, 2]);
    await reopened.close();
  });

  it('shares one file between two connections (e.g. the token CLI beside the server)', async () => {
    const { store, file, user } = await openWithUser();
    const second = await openSqliteStore(file);
    const job = await createdJob(second, newJob(user.id));
    expect((await store.updateJob(job.id, { status: 'QUEUED' }))?.version).toBe(2);
    expect((await second.getJob(job.id))?.status).toBe('QUEUED');
    await second.close();
  });

  it('isReady is false once the database is closed', async () => {
    const { store } = await files.open();
    await store.close();
    expect(await store.isReady()).toBe(false);
  });
});

describe('query plans', () => {
  const lastStatement = (statements: Statement[]) => statements.at(-1)!;

  it('the claim, admission and in-flight queries search the phase index instead of scanning', async () => {
    const { store, statements } = await openWithUser();
    const planOf = async (run: () => Promise<unknown>) => {
      statements.length = 0;
      await run();
      // Every read of jobs the call made (admission reads the in-flight count and then the waiting jobs).
      const reads = statements.filter((s) => /^select .* from "video_jobs"/i.test(s.sql));
      expect(reads.length).toBeGreaterThan(0);
      return reads.map(({ sql, params }) => store.explainQueryPlan(sql, params).join('\n')).join('\n');
    };

    const due = await planOf(() => store.claimDueJobs({ phases: ['polling', 'mirroring'], dueBy: Date.now(), limit: 50 }));
    expect(due).not.toMatch(/SCAN video_jobs/);
    expect(due).toMatch(/SEARCH video_jobs USING INDEX video_jobs_phase_next_check_idx \(phase=\? AND next_check_at<\?\)/);

    for (const run of [() => store.claimAdmissions(8), () => store.countInFlight()]) {
      const plan = await planOf(run);
      expect(plan).not.toMatch(/SCAN video_jobs/);
      expect(plan).toMatch(/video_jobs_phase_next_check_idx \(phase=\?/);
    }
  });

  it('history pages search the owner indexes', async () => {
    const { store, statements, user } = await openWithUser();
    const planOf = async (query: JobPageQuery) => {
      await store.listJobs(query);
      const { sql, params } = lastStatement(statements);
      return store.explainQueryPlan(sql, params).join('\n');
    };
    const cursor = { time: 1, id: 'x' };
    expect(await planOf({ ownerId: user.id, order: 'CREATED_AT_DESC', after: cursor, limit: 10 })).toMatch(
      /SEARCH video_jobs USING INDEX video_jobs_owner_created_idx \(owner_id=\? AND \(created_at,id\)<\(\?,\?\)\)/,
    );
    expect(await planOf({ ownerId: user.id, order: 'UPDATED_AT_DESC', before: cursor, limit: 10, fromEnd: true })).toMatch(
      /SEARCH video_jobs USING INDEX video_jobs_owner_updated_idx/,
    );
    expect(await planOf({ ownerId: user.id, order: 'CREATED_AT_ASC', filter: { status: ['FAILED'] }, limit: 10 })).toMatch(
      /SEARCH video_jobs USING INDEX video_jobs_owner_status_created_idx \(owner_id=\? AND status=\?\)/,
    );
  });
});


describe('one gateway per file', () => {
  it("the gateway's own store clears leases left by an earlier process, which can no longer hold any", async () => {
    const { store, file, clock } = await files.open(undefined, undefined, { instanceId: 'killed-process' });
    const { user } = await store.ensureUser('alice');
    const job = await createdJob(store, newJob(user.id));
    await store.updateJob(job.id, { phase: 'polling', status: 'QUEUED', nextCheckAt: clock.time });
    expect(await store.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 1 })).toHaveLength(1);
    const restarted = await openSqliteStore(`file:${file}`, { instanceId: 'restarted', exclusive: true });
    try {
      expect(await restarted.getJob(job.id)).toMatchObject({ leaseOwner: null, leaseExpiresAt: null });
      expect(await restarted.claimDueJobs({ phases: ['polling'], dueBy: Date.now(), limit: 1 })).toHaveLength(1);
    } finally {
      await restarted.close();
    }
    expect(fs.existsSync(`${file}.gateway-lock.pid`)).toBe(false);
    // Released: the next gateway takes it.
    const next = await openSqliteStore(`file:${file}`, { exclusive: true });
    await next.close();
  });
});
