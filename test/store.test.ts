import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { matchesFilter, type VideoJobFilter, type VideoJobOrder } from '../src/domain/job-filter.ts';
import type { JobStatus, VideoJob } from '../src/domain/video-job.ts';
import { databaseFilePath, openSqliteStore } from '../src/store/sqlite/open.ts';
import type { JobCursor, JobPage, JobPageQuery } from '../src/store/store.ts';
import { newJob, StoreFiles, videoAsset, type Statement } from './helpers/store-fixtures.ts';

const files = new StoreFiles();
afterAll(() => files.cleanup());

const NO_QUOTA = { maxActiveJobs: 1_000_000 };

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

describe('users, tokens, settings and audio', () => {
  it('ensureUser creates a user once', async () => {
    const { store, clock } = await files.open();
    const first = await store.ensureUser('alice');
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({ name: 'alice', createdAt: clock.time });
    const again = await store.ensureUser('alice');
    expect(again).toEqual({ user: first.user, created: false });
    expect(await store.findUserByName('alice')).toEqual(first.user);
    expect(await store.findUserByName('nobody')).toBeNull();
    expect(await store.countUsers()).toBe(1);
  });

  it('finds users by active token and revokes every token of a user', async () => {
    const { store } = await files.open();
    const { user: alice } = await store.ensureUser('alice');
    const { user: bob } = await store.ensureUser('bob');
    await store.addToken(alice.id, 'hash-a1');
    await store.addToken(alice.id, 'hash-a2');
    await store.addToken(bob.id, 'hash-b1');
    await expect(store.addToken(bob.id, 'hash-a1')).rejects.toThrow(/UNIQUE/);

    expect(await store.findUserByTokenHash('hash-a2')).toEqual(alice);
    expect(await store.findUserByTokenHash('unknown')).toBeNull();
    expect(await store.listUsers()).toEqual([
      { ...alice, activeTokens: 2 },
      { ...bob, activeTokens: 1 },
    ]);

    expect(await store.revokeTokens(alice.id)).toBe(2);
    expect(await store.revokeTokens(alice.id)).toBe(0);
    expect(await store.findUserByTokenHash('hash-a1')).toBeNull();
    expect(await store.findUserByTokenHash('hash-b1')).toEqual(bob);
    expect((await store.listUsers()).map((u) => u.activeTokens)).toEqual([0, 1]);

    await store.addToken(alice.id, 'hash-a3');
    expect(await store.findUserByTokenHash('hash-a3')).toEqual(alice);
  });

  it('getOrCreateSetting creates the value once and keeps it across reopening', async () => {
    const { store, file } = await files.open();
    const create = vi.fn(() => 'secret-1');
    expect(await store.getOrCreateSetting('media_secret', create)).toBe('secret-1');
    expect(await store.getOrCreateSetting('media_secret', () => 'secret-2')).toBe('secret-1');
    expect(create).toHaveBeenCalledTimes(1);
    expect(await store.getOrCreateSetting('other', () => 'x')).toBe('x');
    await store.close();

    const reopened = await openSqliteStore(file);
    expect(await reopened.getOrCreateSetting('media_secret', () => 'secret-3')).toBe('secret-1');
    await reopened.close();
  });

  it('stores audio and sets its upstream id', async () => {
    const { store, user } = await openWithUser();
    const audio = {
      id: 'audio-1',
      ownerId: user.id,
      fileName: 'song.mp3',
      mimeType: 'audio/mpeg',
      byteSize: 4096,
      durationSeconds: 3.5,
      sha256: 'cd'.repeat(32),
      filePath: 'audio/audio-1.mp3',
      upstreamAssetId: null,
      createdAt: 123,
    };
    await store.addAudio(audio);
    await store.addAudio({ ...audio, id: 'audio-2', durationSeconds: null });
    expect(await store.getAudios(['audio-2', 'missing', 'audio-1'])).toEqual([
      { ...audio, id: 'audio-2', durationSeconds: null },
      null,
      audio,
    ]);
    await store.setAudioUpstreamId('audio-1', 'asset_up_1');
    expect((await store.getAudios(['audio-1']))[0]?.upstreamAssetId).toBe('asset_up_1');
  });
});

describe('createJob', () => {
  it('inserts a PENDING job with version 1 and event 1', async () => {
    const { store, user, clock } = await openWithUser();
    const input = newJob(user.id, { idempotencyKey: 'key-1', negativePrompt: 'blur', audioId: 'audio-9', seedDrawn: true });
    const result = await store.createJob(input, { maxActiveJobs: 3 });
    const expected: VideoJob = {
      ...input,
      version: 1,
      status: 'PENDING',
      phase: 'waiting',
      upstreamStatus: null,
      upstreamJobId: null,
      progress: 0,
      queuePosition: null,
      error: null,
      creativeUnitsCost: null,
      createdAt: clock.time,
      updatedAt: clock.time,
      submittedAt: null,
      completedAt: null,
      nextCheckAt: clock.time,
      upstreamRequest: null,
      upstreamPayload: null,
      submitAttempts: 0,
      submitStartedAt: null,
      pollFailures: 0,
      notFoundCount: 0,
      lastUpstreamChangeAt: null,
      stalled: false,
      upstreamSucceededAt: null,
      upstreamAssetIds: [],
      mirrorAttempts: 0,
    };
    expect(result).toEqual({ kind: 'created', job: expected });
    expect(await store.getJob(input.id)).toEqual(expected);
    expect((await store.listEvents([input.id])).get(input.id)).toEqual([
      { jobId: input.id, seq: 1, at: clock.time, status: 'PENDING', upstreamStatus: null, progress: 0, message: 'Accepted by the gateway' },
    ]);
  });

  it('returns the existing job for a repeated idempotency key, per owner', async () => {
    const { store, user } = await openWithUser();
    const { user: bob } = await store.ensureUser('bob');
    const first = await createdJob(store, newJob(user.id, { idempotencyKey: 'same' }));
    const repeated = await store.createJob(newJob(user.id, { idempotencyKey: 'same', prompt: 'other' }), NO_QUOTA);
    expect(repeated).toEqual({ kind: 'existing', job: first });
    expect(await store.findJobByIdempotencyKey(user.id, 'same')).toEqual(first);
    expect(await store.findJobByIdempotencyKey(user.id, 'unknown')).toBeNull();

    const bobs = await store.createJob(newJob(bob.id, { idempotencyKey: 'same' }), NO_QUOTA);
    expect(bobs.kind).toBe('created');
    // Jobs without a key never collide.
    await createdJob(store, newJob(user.id));
    await createdJob(store, newJob(user.id));
    expect(await store.countJobs(user.id)).toBe(3);
  });

  it('refuses over quota, counting only active jobs, but still answers a repeated key', async () => {
    const { store, user } = await openWithUser();
    const guard = { maxActiveJobs: 2 };
    const a = await store.createJob(newJob(user.id, { idempotencyKey: 'a' }), guard);
    await store.createJob(newJob(user.id), guard);
    const refused = await store.createJob(newJob(user.id), guard);
    expect(refused).toEqual({ kind: 'quota', activeJobs: 2 });
    expect(await store.countActiveJobs(user.id)).toBe(2);

    const repeated = await store.createJob(newJob(user.id, { idempotencyKey: 'a' }), guard);
    expect(repeated.kind).toBe('existing');
    if (a.kind !== 'created' || repeated.kind !== 'existing') throw new Error('unexpected');
    expect(repeated.job.id).toBe(a.job.id);

    // QUEUED and IN_PROGRESS count, terminal statuses do not.
    await store.updateJob(a.job.id, { status: 'IN_PROGRESS' });
    expect((await store.createJob(newJob(user.id), guard)).kind).toBe('quota');
    await store.updateJob(a.job.id, { status: 'SUCCEEDED', phase: 'done' });
    expect(await store.countActiveJobs(user.id)).toBe(1);
    expect((await store.createJob(newJob(user.id), guard)).kind).toBe('created');
  });
});

describe('updateJob', () => {
  let opened: Awaited<ReturnType<typeof openWithUser>>;
  let job: VideoJob;
  const seqs = async () => (await opened.store.listEvents([job.id])).get(job.id)!.map((event) => event.seq);

  beforeEach(async () => {
    opened = await openWithUser();
    job = await createdJob(opened.store, newJob(opened.user.id));
  });

  it('bumps the version and updatedAt; a queuePosition-only change adds no event', async () => {
    const now = opened.clock.advance(500);
    const updated = await opened.store.updateJob(job.id, { queuePosition: 3 });
    expect(updated).toEqual({ ...job, queuePosition: 3, version: 2, updatedAt: now });
    expect(await seqs()).toEqual([1]);
  });

  it('adds an event when status, upstream status or progress change, or with a message', async () => {
    const { store, clock } = opened;
    await store.updateJob(job.id, { status: 'QUEUED', upstreamStatus: 'queued' });
    await store.updateJob(job.id, { upstreamStatus: 'warming-up' });
    await store.updateJob(job.id, { status: 'IN_PROGRESS', upstreamStatus: 'in-progress', progress: 0.25 });
    await store.updateJob(job.id, { progress: 0.5 });
    await store.updateJob(job.id, { progress: 0.5, pollFailures: 1 }); // nothing public changed
    const at = clock.advance(10);
    await store.updateJob(job.id, { stalled: true }, { message: 'No progress for 5 minutes' });

    const events = (await store.listEvents([job.id])).get(job.id)!;
    expect(events.map(({ seq, status, upstreamStatus, progress, message }) => [seq, status, upstreamStatus, progress, message])).toEqual([
      [1, 'PENDING', null, 0, 'Accepted by the gateway'],
      [2, 'QUEUED', 'queued', 0, null],
      [3, 'QUEUED', 'warming-up', 0, null],
      [4, 'IN_PROGRESS', 'in-progress', 0.25, null],
      [5, 'IN_PROGRESS', 'in-progress', 0.5, null],
      [6, 'IN_PROGRESS', 'in-progress', 0.5, 'No progress for 5 minutes'],
    ]);
    expect(events.at(-1)!.at).toBe(at);
    expect((await store.getJob(job.id))!.version).toBe(7);
  });

  it('keeps event numbers gapless over many updates', async () => {
    for (let i = 1; i <= 60; i++) {
      const patch = i % 3 === 0 ? { queuePosition: i } : { progress: i / 100 };
      await opened.store.updateJob(job.id, patch, i % 7 === 0 ? { message: `step ${i}` } : undefined);
    }
    // Event 1, one per progress change (40), one per message on a queue-only step (21 and 42).
    const eventCount = 1 + 40 + 2;
    expect(await seqs()).toEqual(Array.from({ length: eventCount }, (_, i) => i + 1));
    expect((await opened.store.getJob(job.id))!.version).toBe(61);
  });

  it('returns null on a version conflict or an unknown job, changing nothing', async () => {
    const { store } = opened;
    expect(await store.updateJob(job.id, { status: 'QUEUED' }, { ifVersion: 5 })).toBeNull();
    expect(await store.getJob(job.id)).toEqual(job);
    expect(await seqs()).toEqual([1]);
    expect(await store.updateJob('missing', { status: 'QUEUED' })).toBeNull();

    const applied = await store.updateJob(job.id, { status: 'QUEUED' }, { ifVersion: 1 });
    expect(applied).toMatchObject({ status: 'QUEUED', version: 2 });
    expect(await store.updateJob(job.id, { status: 'IN_PROGRESS' }, { ifVersion: 1 })).toBeNull();
  });

  it('round-trips JSON and boolean fields, and ignores identity fields spread into a patch', async () => {
    const { store } = opened;
    const patch = {
      error: { code: 'UPSTREAM_FAILED' as const, message: 'boom', hint: null, retryable: false },
      upstreamRequest: { prompt: 'x', nested: { a: [1, 2] } },
      upstreamPayload: { status: 'failure', list: [null, true] },
      upstreamAssetIds: ['asset_1', 'asset_2'],
      stalled: true,
      creativeUnitsCost: 12.5,
    };
    const updated = await store.updateJob(job.id, patch);
    expect(updated).toMatchObject(patch);
    expect(await store.getJob(job.id)).toEqual(updated);

    // A whole job spread into a patch must not roll back the version or change the identity.
    const sneaky = { ...updated!, id: 'other', ownerId: 'x', version: 1, createdAt: 0, prompt: 'changed', queuePosition: 9 };
    const again = await store.updateJob(job.id, sneaky);
    expect(again).toMatchObject({ id: job.id, ownerId: job.ownerId, version: 3, createdAt: job.createdAt, prompt: job.prompt, queuePosition: 9 });
  });

  it('stores video assets with the change', async () => {
    const { store } = opened;
    const assets = [videoAsset(job, 1), videoAsset(job, 0)];
    await store.updateJob(job.id, { status: 'SUCCEEDED', phase: 'done' }, { videoAssets: assets });
    expect((await store.listVideoAssets([job.id])).get(job.id)).toEqual([assets[1], assets[0]]);
    expect(await store.getVideoAsset(assets[0].id)).toEqual(assets[0]);
  });

  it('keeps upstream job ids unique', async () => {
    const { store, user } = opened;
    const other = await createdJob(store, newJob(user.id));
    await store.updateJob(job.id, { upstreamJobId: 'up-1' });
    await expect(store.updateJob(other.id, { upstreamJobId: 'up-1' })).rejects.toThrow(/UNIQUE/);
    expect((await store.getJob(other.id))!.version).toBe(1);
    expect((await store.findJobByUpstreamId('up-1'))?.id).toBe(job.id);
    expect(await store.findJobByUpstreamId('up-2')).toBeNull();
  });
});

describe('deleteJob', () => {
  it('removes the job with its events and assets and returns the assets', async () => {
    const { store, user } = await openWithUser();
    const job = await createdJob(store, newJob(user.id));
    const kept = await createdJob(store, newJob(user.id));
    const assets = [videoAsset(job, 0), videoAsset(job, 1)];
    await store.updateJob(job.id, { status: 'SUCCEEDED', phase: 'done' }, { videoAssets: assets });
    await store.updateJob(kept.id, { status: 'QUEUED' }, { videoAssets: [videoAsset(kept, 0)] });

    expect(await store.deleteJob(job.id)).toEqual(assets);
    expect(await store.getJob(job.id)).toBeNull();
    expect(await store.getVideoAsset(assets[0].id)).toBeNull();
    const events = await store.listEvents([job.id, kept.id]);
    expect(events.get(job.id)).toEqual([]);
    expect(events.get(kept.id)).toHaveLength(2);
    expect((await store.listVideoAssets([kept.id])).get(kept.id)).toHaveLength(1);
    expect(await store.deleteJob(job.id)).toEqual([]);
  });
});

describe('getJobs, listEvents and listVideoAssets', () => {
  it('getJobs answers in the order asked, with null for unknown ids', async () => {
    const { store, user } = await openWithUser();
    const a = await createdJob(store, newJob(user.id));
    const b = await createdJob(store, newJob(user.id));
    expect(await store.getJobs([b.id, 'missing', a.id, b.id])).toEqual([b, null, a, b]);
    expect(await store.getJobs([])).toEqual([]);
  });

  it('reads events and assets of any number of jobs in one statement', async () => {
    const { store, user, statements } = await openWithUser();
    const jobs: VideoJob[] = [];
    for (let i = 0; i < 100; i++) jobs.push(await createdJob(store, newJob(user.id)));
    await store.updateJob(jobs[0].id, { status: 'QUEUED' }, { videoAssets: [videoAsset(jobs[0], 1), videoAsset(jobs[0], 0)] });
    await store.updateJob(jobs[0].id, { progress: 0.5 });

    const statementsOf = async (read: () => Promise<unknown>) => {
      statements.length = 0;
      await read();
      return statements.length;
    };
    const ids = jobs.map((job) => job.id);
    expect(await statementsOf(() => store.listEvents(ids.slice(0, 1)))).toBe(1);
    expect(await statementsOf(() => store.listEvents(ids))).toBe(1);
    expect(await statementsOf(() => store.listVideoAssets(ids.slice(0, 1)))).toBe(1);
    expect(await statementsOf(() => store.listVideoAssets(ids))).toBe(1);
    expect(await statementsOf(() => store.getJobs(ids))).toBe(1);

    const events = await store.listEvents([...ids, 'missing']);
    expect(events.size).toBe(101);
    expect(events.get('missing')).toEqual([]);
    expect(events.get(ids[0])!.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events.get(ids[99])!.map((e) => e.seq)).toEqual([1]);
    const assets = await store.listVideoAssets(ids);
    expect(assets.get(ids[0])!.map((a) => a.outputIndex)).toEqual([0, 1]);
    expect(assets.get(ids[1])).toEqual([]);

    // Above 500 ids the read is chunked.
    const many = Array.from({ length: 501 }, (_, i) => (i < 100 ? ids[i] : `missing-${i}`));
    expect(await statementsOf(() => store.listEvents(many))).toBe(2);
    expect((await store.listEvents(many)).get(ids[0])).toHaveLength(3);
  });
});

describe('engine queries', () => {
  it('lists due, waiting and unfinished jobs and counts in-flight ones', async () => {
    const { store, user, clock } = await openWithUser();
    const t0 = clock.time;
    const make = async (patch: Parameters<typeof store.updateJob>[1]) => {
      clock.advance(1);
      const job = await createdJob(store, newJob(user.id));
      return (await store.updateJob(job.id, patch))!;
    };
    const waitingLater = await make({ nextCheckAt: t0 + 50_000 });
    const waitingNow = await make({});
    const pollingDue = await make({ phase: 'polling', status: 'QUEUED', nextCheckAt: t0 + 300 });
    const mirroringDue = await make({ phase: 'mirroring', status: 'IN_PROGRESS', nextCheckAt: t0 + 100 });
    const submittingDue = await make({ phase: 'submitting', nextCheckAt: t0 + 200 });
    const pollingLater = await make({ phase: 'polling', status: 'QUEUED', nextCheckAt: t0 + 10_000 });
    await make({ phase: 'done', status: 'SUCCEEDED', nextCheckAt: null });

    const ids = (jobs: VideoJob[]) => jobs.map((job) => job.id);
    expect(ids(await store.listDueJobs(t0 + 1000, 10))).toEqual(ids([mirroringDue, submittingDue, pollingDue]));
    expect(ids(await store.listDueJobs(t0 + 1000, 2))).toEqual(ids([mirroringDue, submittingDue]));
    expect(ids(await store.listDueJobs(t0 + 200, 10))).toEqual(ids([mirroringDue, submittingDue]));
    expect(await store.listDueJobs(t0, 10)).toEqual([]);
    expect(ids(await store.listWaitingJobs())).toEqual(ids([waitingLater, waitingNow]));
    expect(await store.countInFlight()).toBe(3);
    expect(ids(await store.listUnfinishedJobs())).toEqual(
      ids([waitingLater, waitingNow, pollingDue, mirroringDue, submittingDue, pollingLater]),
    );
  });

  it('recentRunDurations gives succeeded runs, newest first', async () => {
    const { store, user } = await openWithUser();
    const finish = async (submittedAt: number | null, upstreamSucceededAt: number | null, status: JobStatus = 'SUCCEEDED') => {
      const job = await createdJob(store, newJob(user.id, { size: 'PORTRAIT_1080P', durationSeconds: 10 }));
      await store.updateJob(job.id, { status, submittedAt, upstreamSucceededAt });
    };
    await finish(1_000, 61_000);
    await finish(2_000, 92_500);
    await finish(3_000, null);
    await finish(null, 50_000);
    await finish(1_000, 99_000, 'FAILED');
    expect(await store.recentRunDurations(10)).toEqual([
      { seconds: 90.5, size: 'PORTRAIT_1080P', durationSeconds: 10 },
      { seconds: 60, size: 'PORTRAIT_1080P', durationSeconds: 10 },
    ]);
    expect(await store.recentRunDurations(1)).toHaveLength(1);
  });
});

describe('query plans', () => {
  const lastStatement = (statements: Statement[]) => statements.at(-1)!;

  it('the due-job, waiting and in-flight queries search the phase index instead of scanning', async () => {
    const { store, statements } = await openWithUser();
    const planOf = async (run: () => Promise<unknown>) => {
      await run();
      const { sql, params } = lastStatement(statements);
      return store.explainQueryPlan(sql, params).join('\n');
    };

    const due = await planOf(() => store.listDueJobs(Date.now(), 50));
    expect(due).not.toMatch(/SCAN video_jobs/);
    expect(due).toMatch(/SEARCH video_jobs USING INDEX video_jobs_phase_next_check_idx \(phase=\? AND next_check_at<\?\)/);

    for (const run of [() => store.listWaitingJobs(), () => store.countInFlight()]) {
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

// ---- Listing: every result is compared with a reference built from matchesFilter and plain sorting ----

const ORDERS: VideoJobOrder[] = ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC'];

const timeOf = (job: VideoJob, order: VideoJobOrder) => (order === 'UPDATED_AT_DESC' ? job.updatedAt : job.createdAt);
const cursorOf = (job: VideoJob, order: VideoJobOrder): JobCursor => ({ time: timeOf(job, order), id: job.id });

/** Negative when `a` comes before `b` in the order. */
function compareInOrder(order: VideoJobOrder, a: JobCursor, b: JobCursor): number {
  const ascending = a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return order === 'CREATED_AT_ASC' ? ascending : -ascending;
}

function expectedPage(all: VideoJob[], query: JobPageQuery): JobPage {
  const window = all
    .filter((job) => job.ownerId === query.ownerId && matchesFilter(job, query.filter))
    .sort((a, b) => compareInOrder(query.order, cursorOf(a, query.order), cursorOf(b, query.order)))
    .filter((job) => !query.after || compareInOrder(query.order, cursorOf(job, query.order), query.after) > 0)
    .filter((job) => !query.before || compareInOrder(query.order, cursorOf(job, query.order), query.before) < 0);
  const jobs = query.fromEnd ? window.slice(Math.max(0, window.length - query.limit)) : window.slice(0, query.limit);
  return { jobs, hasMore: window.length > query.limit };
}

describe('listJobs and countJobs', () => {
  let opened: Awaited<ReturnType<typeof openWithUser>>;
  let aliceJobs: VideoJob[];
  const ids = (page: JobPage) => page.jobs.map((job) => job.id);

  beforeAll(async () => {
    opened = await openWithUser();
    const { store, user, clock } = opened;
    const { user: bob } = await store.ensureUser('bob');
    const specs: Array<{ job: Parameters<typeof newJob>[1]; status?: JobStatus; sameTime?: boolean }> = [
      { job: { prompt: 'A red fox runs through snow' }, status: 'SUCCEEDED' },
      { job: { prompt: 'A CAT on a roof', size: 'PORTRAIT_720P' }, status: 'FAILED' },
      { job: { prompt: 'Été à Paris', durationSeconds: 10, audioId: 'audio-1' } },
      { job: { prompt: '100% real footage', negativePrompt: 'Blurry cat' }, status: 'QUEUED', sameTime: true },
      { job: { prompt: '100 percent real', size: 'LANDSCAPE_1080P' }, status: 'QUEUED', sameTime: true },
      { job: { prompt: 'snake_case river', durationSeconds: 10 }, status: 'IN_PROGRESS', sameTime: true },
      { job: { prompt: 'snakeXcase river', audioId: 'audio-2' }, status: 'CANCELED' },
      { job: { prompt: 'back\\slash art', negativePrompt: 'ÉTÉ' }, status: 'SUCCEEDED' },
      { job: { prompt: 'plain clouds', size: 'PORTRAIT_1080P', durationSeconds: 10 } },
      { job: { prompt: 'a dog, a CAT and a fox' }, status: 'FAILED' },
    ];
    aliceJobs = [];
    for (const spec of specs) {
      if (!spec.sameTime) clock.advance(1000);
      aliceJobs.push(await createdJob(store, newJob(user.id, spec.job)));
    }
    await createdJob(store, newJob(bob.id, { prompt: 'A CAT from bob' }));
    // Later changes reorder the jobs by updatedAt (two of them at the same instant).
    for (const [index, status] of specs.map((spec, i) => [i, spec.status] as const).reverse()) {
      if (!status) continue;
      if (index % 3 !== 0) clock.advance(7);
      await store.updateJob(aliceJobs[index].id, { status });
    }
    aliceJobs = (await store.getJobs(aliceJobs.map((job) => job.id))) as VideoJob[];
  });

  const query = (partial: Partial<JobPageQuery>): JobPageQuery => ({
    ownerId: opened.user.id,
    order: 'CREATED_AT_DESC',
    limit: 100,
    ...partial,
  });

  it('orders every way, with the id breaking ties', async () => {
    for (const order of ORDERS) {
      const page = await opened.store.listJobs(query({ order }));
      expect(ids(page)).toEqual(ids(expectedPage(aliceJobs, query({ order }))));
      expect(page.jobs).toHaveLength(10);
      expect(page.hasMore).toBe(false);
    }
    const newestFirst = ids(await opened.store.listJobs(query({ order: 'CREATED_AT_DESC' })));
    expect(newestFirst.slice(4, 7)).toEqual([aliceJobs[5].id, aliceJobs[4].id, aliceJobs[3].id]);
  });

  it('matches the reference for every cursor, limit and direction', async () => {
    for (const order of ORDERS) {
      const cursors = [null, ...aliceJobs.map((job) => cursorOf(job, order)), { time: 0, id: '' }, { time: 9e15, id: '' }];
      for (const limit of [0, 1, 2, 3, 9, 10, 11]) {
        for (const fromEnd of [false, true]) {
          for (const after of cursors) {
            for (const before of [null, cursors[3], cursors[8]]) {
              const q = query({ order, limit, fromEnd, after, before });
              const page = await opened.store.listJobs(q);
              const expected = expectedPage(aliceJobs, q);
              expect({ q, ids: ids(page), hasMore: page.hasMore }).toEqual({ q, ids: ids(expected), hasMore: expected.hasMore });
            }
          }
        }
      }
    }
  });

  it('walks forward with after and backward with before/fromEnd over the whole list', async () => {
    for (const order of ORDERS) {
      const all = ids(expectedPage(aliceJobs, query({ order })));
      const forward: string[] = [];
      let after: JobCursor | null = null;
      for (;;) {
        const page = await opened.store.listJobs(query({ order, limit: 3, after }));
        forward.push(...ids(page));
        if (!page.hasMore) break;
        after = cursorOf(page.jobs.at(-1)!, order);
      }
      expect(forward).toEqual(all);

      const backward: string[][] = [];
      let before: JobCursor | null = null;
      for (;;) {
        const page = await opened.store.listJobs(query({ order, limit: 4, before, fromEnd: true }));
        backward.unshift(ids(page));
        if (!page.hasMore) break;
        before = cursorOf(page.jobs[0], order);
      }
      expect(backward.map((page) => page.length)).toEqual([2, 4, 4]);
      expect(backward.flat()).toEqual(all);
    }
  });

  it('knows exact page boundaries and empty results', async () => {
    const { store } = opened;
    expect((await store.listJobs(query({ limit: 10 }))).hasMore).toBe(false);
    expect((await store.listJobs(query({ limit: 9 }))).hasMore).toBe(true);
    expect((await store.listJobs(query({ limit: 10, fromEnd: true }))).hasMore).toBe(false);
    expect((await store.listJobs(query({ limit: 9, fromEnd: true }))).hasMore).toBe(true);
    const last = await store.listJobs(query({ limit: 10 }));
    const beyondLast = await store.listJobs(query({ after: cursorOf(last.jobs.at(-1)!, 'CREATED_AT_DESC') }));
    expect(beyondLast).toEqual({ jobs: [], hasMore: false });
    expect(await store.listJobs(query({ ownerId: 'nobody' }))).toEqual({ jobs: [], hasMore: false });
    expect(await store.listJobs(query({ filter: { search: 'no such words' } }))).toEqual({ jobs: [], hasMore: false });
    expect(await store.countJobs('nobody')).toBe(0);
  });

  const FILTERS: Array<[string, VideoJobFilter, number]> = [
    ['no filter', {}, 10],
    ['empty lists', { status: [], size: [], durationSeconds: [], search: '' }, 10],
    ['one status', { status: ['QUEUED'] }, 2],
    ['statuses', { status: ['SUCCEEDED', 'FAILED'] }, 4],
    ['pending', { status: ['PENDING'] }, 2],
    ['sizes', { size: ['PORTRAIT_720P', 'PORTRAIT_1080P'] }, 2],
    ['duration', { durationSeconds: [10] }, 3],
    ['durations', { durationSeconds: [5, 10] }, 10],
    ['with audio', { hasAudio: true }, 2],
    ['without audio', { hasAudio: false }, 8],
    ['search is case-insensitive', { search: 'cat' }, 3],
    ['search upper case', { search: 'CAT' }, 3],
    ['search beyond ASCII', { search: 'été' }, 2],
    ['search beyond ASCII, upper case', { search: 'ÉTÉ' }, 2],
    ['% is literal', { search: '100%' }, 1],
    ['_ is literal', { search: 'snake_case' }, 1],
    ['backslash is literal', { search: 'k\\s' }, 1],
    ['lone %', { search: '%' }, 1],
    ['lone _', { search: '_' }, 1],
    ['combined', { status: ['QUEUED', 'IN_PROGRESS', 'FAILED'], durationSeconds: [5], hasAudio: false, search: 'CAT' }, 3],
    ['combined, nothing', { status: ['SUCCEEDED'], search: 'cat' }, 0],
  ];

  it.each(FILTERS)('filters: %s', async (_name, filter, expectedCount) => {
    const { store } = opened;
    const created = aliceJobs.map((job) => job.createdAt).sort((a, b) => a - b);
    for (const order of ORDERS) {
      const page = await store.listJobs(query({ order, filter }));
      expect(ids(page)).toEqual(ids(expectedPage(aliceJobs, query({ order, filter }))));
    }
    expect(await store.countJobs(opened.user.id, filter)).toBe(expectedCount);
    // The created bounds are exclusive, alone and together with the filter.
    const bounded = { ...filter, createdAfter: created[1], createdBefore: created[8] };
    const page = await store.listJobs(query({ filter: bounded }));
    expect(ids(page)).toEqual(ids(expectedPage(aliceJobs, query({ filter: bounded }))));
    expect(await store.countJobs(opened.user.id, bounded)).toBe(page.jobs.length);
  });

  it('created bounds are exclusive', async () => {
    const { store } = opened;
    const [first] = aliceJobs;
    expect(await store.countJobs(opened.user.id, { createdAfter: first.createdAt })).toBe(9);
    expect(await store.countJobs(opened.user.id, { createdBefore: first.createdAt })).toBe(0);
    expect(await store.countJobs(opened.user.id, { createdBefore: first.createdAt + 1 })).toBe(1);
    // Jobs 2 to 5 were created at the same instant.
    const instant = aliceJobs[2].createdAt;
    expect(await store.countJobs(opened.user.id, { createdAfter: instant - 1, createdBefore: instant + 1 })).toBe(4);
    expect(await store.countJobs(opened.user.id, { createdAfter: instant, createdBefore: instant })).toBe(0);
  });
});
