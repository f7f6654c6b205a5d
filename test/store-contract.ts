// The store contract: every Store implementation (SQLite, PostgreSQL) runs this suite through `describeStore`, so that
// the engine and the API see one behaviour whatever DATABASE_URL names. Implementation-only checks (SQLite's pragmas
// and query plans, PostgreSQL's migration lock and replica rule) live in their own files.
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { matchesFilter, type VideoJobFilter, type VideoJobOrder } from '../src/domain/job-filter.ts';
import type { JobStatus, VideoJob } from '../src/domain/video-job.ts';
import type { JobCursor, JobPage, JobPageQuery, Store } from '../src/store/store.ts';
import { newJob, videoAsset, type FakeClock, type Statement } from './helpers/store-fixtures.ts';

export interface OpenedStore {
  store: Store;
  /** The clock of stored times (createdAt, updatedAt, event times); leases and heartbeats use the database's clock. */
  clock: FakeClock;
  /** Every statement the store ran, in order. */
  statements: Statement[];
}

export interface StoreHarness {
  /** A store on a fresh, empty database. */
  open(options?: { instanceId?: string; leaseMs?: number }): Promise<OpenedStore>;
  /** Another store (another replica, or the token CLI) on the database of `store`, with its own instance id. */
  openBeside(store: Store, options?: { instanceId?: string; leaseMs?: number }): Promise<Store>;
}

const NO_QUOTA = { maxActiveJobs: 1_000_000 };

async function createdJob(store: Store, job = newJob('unused')) {
  const result = await store.createJob(job, NO_QUOTA);
  if (result.kind !== 'created') throw new Error(`expected a created job, got ${result.kind}`);
  return result.job;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeStore(name: string, h: StoreHarness): void {
  async function openWithUser(userName = 'alice', options?: { instanceId?: string; leaseMs?: number }) {
    const opened = await h.open(options);
    const { user } = await opened.store.ensureUser(userName);
    return { ...opened, user };
  }

describe(`${name}: the store contract`, () => {
describe('users, tokens, settings and audio', () => {
  it('ensureUser creates a user once', async () => {
    const { store, clock } = await h.open();
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
    const { store } = await h.open();
    const { user: alice } = await store.ensureUser('alice');
    const { user: bob } = await store.ensureUser('bob');
    await store.addToken(alice.id, 'hash-a1');
    await store.addToken(alice.id, 'hash-a2');
    await store.addToken(bob.id, 'hash-b1');
    await expect(store.addToken(bob.id, 'hash-a1')).rejects.toThrow(/unique/i);

    expect((await store.findViewerByTokenHash('hash-a2'))?.user).toEqual(alice);
    expect(await store.findViewerByTokenHash('unknown')).toBeNull();
    expect(await store.listUsers()).toEqual([
      { ...alice, activeTokens: 2 },
      { ...bob, activeTokens: 1 },
    ]);

    expect(await store.revokeTokens(alice.id)).toBe(2);
    expect(await store.revokeTokens(alice.id)).toBe(0);
    expect(await store.findViewerByTokenHash('hash-a1')).toBeNull();
    expect((await store.findViewerByTokenHash('hash-b1'))?.user).toEqual(bob);
    expect((await store.listUsers()).map((u) => u.activeTokens)).toEqual([0, 1]);

    await store.addToken(alice.id, 'hash-a3');
    expect((await store.findViewerByTokenHash('hash-a3'))?.user).toEqual(alice);
  });

  it('getOrCreateSetting creates the value once, for every store on the database', async () => {
    const { store } = await h.open();
    const create = vi.fn(() => 'secret-1');
    expect(await store.getOrCreateSetting('media_secret', create)).toBe('secret-1');
    expect(await store.getOrCreateSetting('media_secret', () => 'secret-2')).toBe('secret-1');
    expect(create).toHaveBeenCalledTimes(1);
    expect(await store.getOrCreateSetting('other', () => 'x')).toBe('x');

    const beside = await h.openBeside(store);
    expect(await beside.getOrCreateSetting('media_secret', () => 'secret-3')).toBe('secret-1');
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
      revision: 1,
      leaseOwner: null,
      leaseExpiresAt: null,
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
    expect(updated).toEqual({ ...job, queuePosition: 3, version: 2, revision: 2, updatedAt: now });
    expect(await seqs()).toEqual([1]);
  });

  it('counts only visible changes in the version: scheduling state moves the revision alone', async () => {
    const { store, clock } = opened;
    clock.advance(500);
    const scheduled = await store.updateJob(job.id, { nextCheckAt: clock.time + 2000, pollFailures: 2, upstreamPayload: { raw: true } });
    expect(scheduled).toEqual({ ...job, nextCheckAt: clock.time + 2000, pollFailures: 2, upstreamPayload: { raw: true }, revision: 2 });
    expect(await store.getJob(job.id)).toEqual(scheduled);
    expect(await seqs()).toEqual([1]);
    // A job that hangs upstream at the same progress: six polls, nothing a client can see.
    for (let poll = 0; poll < 6; poll++) await store.updateJob(job.id, { upstreamStatus: null, progress: 0, notFoundCount: 0, nextCheckAt: clock.advance(1000) });
    expect(await store.getJob(job.id)).toMatchObject({ version: 1, revision: 8, updatedAt: job.updatedAt });
    // Outputs are visible even when no field changes.
    const stored = await store.updateJob(job.id, {}, { videoAssets: [videoAsset(job, 0)] });
    expect(stored).toMatchObject({ version: 2, revision: 9, updatedAt: clock.time });
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
    // Six changes, five visible: the poll-failure count alone is scheduling state.
    expect(await store.getJob(job.id)).toMatchObject({ version: 6, revision: 7 });
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

  it('returns null on a revision conflict or an unknown job, changing nothing', async () => {
    const { store } = opened;
    expect(await store.updateJob(job.id, { status: 'QUEUED' }, { ifRevision: 5 })).toBeNull();
    expect(await store.getJob(job.id)).toEqual(job);
    expect(await seqs()).toEqual([1]);
    expect(await store.updateJob('missing', { status: 'QUEUED' })).toBeNull();

    const applied = await store.updateJob(job.id, { status: 'QUEUED' }, { ifRevision: 1 });
    expect(applied).toMatchObject({ status: 'QUEUED', version: 2, revision: 2 });
    expect(await store.updateJob(job.id, { status: 'IN_PROGRESS' }, { ifRevision: 1 })).toBeNull();
    // An invisible write moves the revision too: a writer that read before it loses the compare-and-set.
    await store.updateJob(job.id, { nextCheckAt: 5 }, { ifRevision: 2 });
    expect(await store.updateJob(job.id, { status: 'IN_PROGRESS' }, { ifRevision: 2 })).toBeNull();
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
    await expect(store.updateJob(other.id, { upstreamJobId: 'up-1' })).rejects.toThrow(/unique/i);
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

    const many = Array.from({ length: 501 }, (_, i) => (i < 100 ? ids[i] : `missing-${i}`));
    expect((await store.listEvents(many)).get(ids[0])).toHaveLength(3);
  });
});

describe('engine queries', () => {
  it('lists unfinished jobs and counts in-flight ones', async () => {
    const { store, user, clock } = await openWithUser();
    const make = async (patch: Parameters<typeof store.updateJob>[1]) => {
      clock.advance(1);
      const job = await createdJob(store, newJob(user.id));
      return (await store.updateJob(job.id, patch))!;
    };
    const waiting = await make({});
    const polling = await make({ phase: 'polling', status: 'QUEUED' });
    const mirroring = await make({ phase: 'mirroring', status: 'IN_PROGRESS' });
    const submitting = await make({ phase: 'submitting' });
    await make({ phase: 'done', status: 'SUCCEEDED', nextCheckAt: null });
    const ids = (jobs: VideoJob[]) => jobs.map((job) => job.id);
    expect(await store.countInFlight()).toBe(2);
    expect(ids(await store.listUnfinishedJobs())).toEqual(ids([waiting, polling, mirroring, submitting]));
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

describe('leases', () => {
  const ids = (jobs: VideoJob[]) => jobs.map((job) => job.id);

  async function dueJobs() {
    const opened = await openWithUser('alice', { instanceId: 'replica-a', leaseMs: 10_000 });
    const { store, user, clock } = opened;
    const t0 = clock.time;
    const make = async (patch: Parameters<typeof store.updateJob>[1]) => {
      clock.advance(1);
      const job = await createdJob(store, newJob(user.id));
      return (await store.updateJob(job.id, patch))!;
    };
    const jobs = {
      pollingDue: await make({ phase: 'polling', status: 'QUEUED', nextCheckAt: t0 + 300 }),
      mirroringDue: await make({ phase: 'mirroring', status: 'IN_PROGRESS', nextCheckAt: t0 + 100 }),
      submittingDue: await make({ phase: 'submitting', nextCheckAt: t0 + 200 }),
      pollingLater: await make({ phase: 'polling', status: 'QUEUED', nextCheckAt: t0 + 10_000 }),
      done: await make({ phase: 'done', status: 'SUCCEEDED', nextCheckAt: null }),
    };
    return { ...opened, t0, jobs };
  }

  it('claims due jobs of the asked phases, oldest due first, each once', async () => {
    const { store, t0, jobs } = await dueJobs();
    const all = ['polling', 'mirroring', 'submitting'] as const;
    expect(ids(await store.claimDueJobs({ phases: all, dueBy: t0 + 200, limit: 10 }))).toEqual(ids([jobs.mirroringDue, jobs.submittingDue]));
    // Leased now: claiming again finds only what was left.
    expect(ids(await store.claimDueJobs({ phases: all, dueBy: t0 + 1000, limit: 10 }))).toEqual(ids([jobs.pollingDue]));
    expect(await store.claimDueJobs({ phases: all, dueBy: t0 + 1000, limit: 10 })).toEqual([]);
    expect(ids(await store.claimDueJobs({ phases: ['polling'], dueBy: Number.MAX_SAFE_INTEGER, limit: 10 }))).toEqual(ids([jobs.pollingLater]));
    expect(await store.claimDueJobs({ phases: all, dueBy: t0 + 1000, limit: 0 })).toEqual([]);
    expect(await store.countLeases()).toBe(4);
  });

  it('a claim is a write but no visible change: revision + 1, version and updatedAt unchanged', async () => {
    const { store, t0, jobs } = await dueJobs();
    const [claimed] = await store.claimDueJobs({ phases: ['mirroring'], dueBy: t0 + 1000, limit: 1 });
    expect(claimed).toEqual({ ...jobs.mirroringDue, revision: jobs.mirroringDue.revision + 1, leaseOwner: 'replica-a', leaseExpiresAt: claimed!.leaseExpiresAt });
    expect(claimed!.leaseExpiresAt).toBeGreaterThan(Date.now() + 5_000);
    expect(await store.getJob(claimed!.id)).toEqual(claimed);
  });

  it('another replica cannot claim or change a leased job until the lease is released', async () => {
    const { store, t0, jobs } = await dueJobs();
    const other = await h.openBeside(store, { instanceId: 'replica-b' });
    const [leased] = await store.claimDueJobs({ phases: ['polling'], dueBy: t0 + 1000, limit: 1 });
    expect(leased!.id).toBe(jobs.pollingDue.id);
    expect(await other.claimDueJobs({ phases: ['polling'], dueBy: t0 + 1000, limit: 5 })).toEqual([]);
    // The holder's writes pass; another replica's are refused, compare-and-set or not.
    expect(await other.updateJob(leased!.id, { progress: 0.5 }, { ifRevision: leased!.revision })).toBeNull();
    expect(await other.updateJob(leased!.id, { progress: 0.5 })).toBeNull();
    const written = await store.updateJob(leased!.id, { progress: 0.5 }, { ifRevision: leased!.revision });
    expect(written).toMatchObject({ progress: 0.5, leaseOwner: 'replica-a' });
    expect(await other.renewLeases([leased!.id])).toEqual([]);
    await other.releaseLeases([leased!.id]); // not its lease: nothing happens
    expect(await other.claimDueJobs({ phases: ['polling'], dueBy: t0 + 1000, limit: 5 })).toEqual([]);

    await store.releaseLeases([leased!.id]);
    expect(await store.countLeases()).toBe(0);
    expect(await store.getJob(leased!.id)).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, revision: written!.revision });
    const [taken] = await other.claimDueJobs({ phases: ['polling'], dueBy: t0 + 1000, limit: 5 });
    expect(taken).toMatchObject({ id: leased!.id, leaseOwner: 'replica-b' });
  });

  it('an expired lease is taken over, and the stale owner is fenced off', async () => {
    const opened = await openWithUser('alice', { instanceId: 'replica-a', leaseMs: 300 });
    const { store, user, clock } = opened;
    const job = await createdJob(store, newJob(user.id));
    await store.updateJob(job.id, { phase: 'polling', status: 'QUEUED', nextCheckAt: clock.time });
    const other = await h.openBeside(store, { instanceId: 'replica-b', leaseMs: 10_000 });
    const [stale] = await store.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 1 });
    expect(await other.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 1 })).toEqual([]);
    await sleep(450);
    const [takenOver] = await other.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 1 });
    expect(takenOver).toMatchObject({ id: job.id, leaseOwner: 'replica-b' });
    // The stale owner wakes up: its write, its renewal and its release change nothing.
    expect(await store.updateJob(job.id, { status: 'FAILED', phase: 'done' }, { ifRevision: stale!.revision })).toBeNull();
    expect(await store.updateJob(job.id, { status: 'FAILED', phase: 'done' })).toBeNull();
    expect(await store.renewLeases([job.id])).toEqual([]);
    await store.releaseLeases([job.id]);
    expect(await store.getJob(job.id)).toMatchObject({ status: 'QUEUED', leaseOwner: 'replica-b' });
    expect(await other.updateJob(job.id, { progress: 0.25 }, { ifRevision: takenOver!.revision })).toMatchObject({ progress: 0.25 });
  });

  it("a step's write needs its own lease still live; a cancel of a job not yet sent overrides any lease", async () => {
    const opened = await openWithUser('alice', { instanceId: 'replica-a', leaseMs: 300 });
    const { store, user, clock } = opened;
    const job = await createdJob(store, newJob(user.id));
    const [claimed] = await store.claimAdmissions(5).then((admission) => admission.admitted);
    expect(claimed!.id).toBe(job.id);
    const beside = await h.openBeside(store, { instanceId: 'replica-b' });
    // Another replica cancels it while it is held for its submit: the holder's intent write then loses.
    const canceled = await beside.updateJob(job.id, { status: 'CANCELED', phase: 'done', nextCheckAt: null }, { ifRevision: claimed!.revision, lease: 'override' });
    expect(canceled).toMatchObject({ status: 'CANCELED' });
    expect(await store.updateJob(job.id, { phase: 'submitting' }, { ifRevision: claimed!.revision, lease: 'held' })).toBeNull();

    // A step that stalled past its lease writes nothing, even with no other replica in the way.
    const other = await createdJob(store, newJob(user.id));
    await store.updateJob(other.id, { phase: 'polling', status: 'QUEUED', nextCheckAt: clock.time });
    const [leased] = await store.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 1 });
    expect(await store.updateJob(other.id, { progress: 0.1 }, { ifRevision: leased!.revision, lease: 'held' })).toMatchObject({ progress: 0.1 });
    const written = (await store.getJob(other.id))!;
    await sleep(450);
    expect(await store.updateJob(other.id, { progress: 0.2 }, { ifRevision: written.revision, lease: 'held' })).toBeNull();
    expect(await store.updateJob(other.id, { progress: 0.2 }, { ifRevision: written.revision })).toMatchObject({ progress: 0.2 });
  });

  it('a job that ends gives up its lease in the same change; other changes keep it', async () => {
    const { store, t0, jobs } = await dueJobs();
    const [leased] = await store.claimDueJobs({ phases: ['mirroring'], dueBy: t0 + 1000, limit: 1 });
    const progressed = await store.updateJob(leased!.id, { progress: 0.9 }, { ifRevision: leased!.revision, lease: 'held' });
    expect(progressed).toMatchObject({ leaseOwner: 'replica-a', leaseExpiresAt: leased!.leaseExpiresAt });
    const ended = await store.updateJob(leased!.id, { status: 'SUCCEEDED', phase: 'done', nextCheckAt: null }, { ifRevision: progressed!.revision, lease: 'held' });
    expect(ended).toMatchObject({ status: 'SUCCEEDED', leaseOwner: null, leaseExpiresAt: null });
    expect(await store.getJob(jobs.mirroringDue.id)).toEqual(ended);
    expect(await store.countLeases()).toBe(0);
  });

  it('renewing keeps a lease alive past its first expiry', async () => {
    const opened = await openWithUser('alice', { instanceId: 'replica-a', leaseMs: 400 });
    const { store, user, clock } = opened;
    const job = await createdJob(store, newJob(user.id));
    await store.updateJob(job.id, { phase: 'mirroring', nextCheckAt: clock.time });
    const other = await h.openBeside(store, { instanceId: 'replica-b' });
    await store.claimDueJobs({ phases: ['mirroring'], dueBy: clock.time, limit: 1 });
    for (let i = 0; i < 4; i++) {
      await sleep(150);
      expect(await store.renewLeases([job.id, 'unknown'])).toEqual([job.id]);
    }
    expect(await other.claimDueJobs({ phases: ['mirroring'], dueBy: clock.time, limit: 1 })).toEqual([]);
    expect(await store.countLeases()).toBe(1);
  });

  it('concurrent claimers never get the same job', async () => {
    const { store, user, clock } = await openWithUser('alice', { instanceId: 'replica-0' });
    for (let i = 0; i < 40; i++) {
      const job = await createdJob(store, newJob(user.id));
      await store.updateJob(job.id, { phase: 'polling', status: 'QUEUED', nextCheckAt: clock.time });
    }
    const replicas = [store, ...(await Promise.all([1, 2, 3].map((i) => h.openBeside(store, { instanceId: `replica-${i}` }))))];
    const claims = await Promise.all(
      Array.from({ length: 16 }, (_, i) => replicas[i % 4]!.claimDueJobs({ phases: ['polling'], dueBy: clock.time, limit: 5 })),
    );
    const claimed = claims.flat().map((job) => job.id);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed).toHaveLength(40);
  });
});

describe('admission', () => {
  async function waitingJobs(owners: string[], perOwner: number) {
    const opened = await openWithUser(owners[0]);
    const { store, clock } = opened;
    const userIds: Record<string, string> = {};
    for (const owner of owners) userIds[owner] = (await store.ensureUser(owner)).user.id;
    // Owner a's burst first, then b's, then c's: admission must still alternate.
    for (const owner of owners) {
      for (let i = 0; i < perOwner; i++) {
        clock.advance(1);
        await createdJob(store, newJob(userIds[owner]!, { prompt: `${owner}-${i}` }));
      }
    }
    return { ...opened, userIds };
  }
  const prompts = (jobs: VideoJob[]) => jobs.map((job) => job.prompt);

  it('admits up to the free slots, round-robin across owners, and queues the rest in admission order', async () => {
    const { store } = await waitingJobs(['a', 'b', 'c'], 3);
    const first = await store.claimAdmissions(4);
    expect(prompts(first.admitted)).toEqual(['a-0', 'b-0', 'c-0', 'a-1']);
    expect(first.admitted.every((job) => job.leaseOwner === store.instanceId && job.phase === 'waiting')).toBe(true);
    expect(prompts(first.queue)).toEqual(['b-1', 'c-1', 'a-2', 'b-2', 'c-2']);
    // Leased waiting jobs hold their slots until they are submitted or given back.
    expect(await store.countInFlight()).toBe(4);
    expect((await store.claimAdmissions(4)).admitted).toEqual([]);
    const second = await store.claimAdmissions(6);
    // The rotation goes on after the owner served last (a), across calls.
    expect(prompts(second.admitted)).toEqual(['b-1', 'c-1']);
    expect(prompts(second.queue)).toEqual(['a-2', 'b-2', 'c-2']);
  });

  it('counts submitted jobs against the slots, skips jobs in backoff, and keeps the rotation for another replica', async () => {
    const { store, clock } = await waitingJobs(['a', 'b'], 2);
    const [first] = (await store.claimAdmissions(1)).admitted;
    await store.updateJob(first!.id, { phase: 'polling', status: 'QUEUED' });
    await store.releaseLeases([first!.id]);
    const beside = await h.openBeside(store, { instanceId: 'replica-b' });
    expect((await beside.claimAdmissions(1)).admitted).toEqual([]);
    // b-0 backs off: the next admission skips it without losing its place in the queue.
    const waiting = await store.listUnfinishedJobs();
    const b0 = waiting.find((job) => job.prompt === 'b-0')!;
    await store.updateJob(b0.id, { nextCheckAt: clock.time + 60_000 });
    const next = await beside.claimAdmissions(2);
    expect(prompts(next.admitted)).toEqual(['a-1']);
    expect(prompts(next.queue)).toEqual(['b-0', 'b-1']);
    expect(next.admitted[0]!.leaseOwner).toBe('replica-b');
  });

  it('never admits more than the slots when replicas admit at once', async () => {
    const { store } = await waitingJobs(['a', 'b', 'c', 'd'], 5);
    const replicas = [store, ...(await Promise.all([1, 2].map((i) => h.openBeside(store, { instanceId: `replica-${i}` }))))];
    const rounds = await Promise.all(Array.from({ length: 9 }, (_, i) => replicas[i % 3]!.claimAdmissions(7)));
    const admitted = rounds.flatMap((round) => round.admitted.map((job) => job.id));
    expect(admitted).toHaveLength(7);
    expect(new Set(admitted).size).toBe(7);
    expect(await store.countInFlight()).toBe(7);
  });
});

describe('quota and idempotency with several replicas', () => {
  it('holds the active-job limit and one job per key under concurrent creates', async () => {
    const { store, user } = await openWithUser();
    const replicas = [store, ...(await Promise.all([1, 2].map((i) => h.openBeside(store, { instanceId: `replica-${i}` }))))];
    const results = await Promise.all(
      Array.from({ length: 18 }, (_, i) => replicas[i % 3]!.createJob(newJob(user.id), { maxActiveJobs: 5 })),
    );
    expect(results.filter((r) => r.kind === 'created')).toHaveLength(5);
    expect(results.filter((r) => r.kind === 'quota')).toHaveLength(13);
    const keyed = await Promise.all(
      Array.from({ length: 12 }, (_, i) => replicas[i % 3]!.createJob(newJob(user.id, { idempotencyKey: 'same-key' }), NO_QUOTA)),
    );
    expect(keyed.filter((r) => r.kind === 'created')).toHaveLength(1);
    expect(new Set(keyed.map((r) => (r.kind === 'quota' ? null : r.job.id))).size).toBe(1);
  });
});

describe("the owner's data version", () => {
  it('moves on every visible write to the owner, from any replica, and never on scheduling state', async () => {
    const { store, user } = await openWithUser();
    const { user: bob } = await store.ensureUser('bob');
    await store.addToken(user.id, 'hash-alice');
    await store.addToken(bob.id, 'hash-bob');
    const beside = await h.openBeside(store, { instanceId: 'replica-b' });
    const version = async () => (await store.findViewerByTokenHash('hash-alice'))!.dataVersion;
    const bobs = async () => (await store.findViewerByTokenHash('hash-bob'))!.dataVersion;
    const moves = async (write: () => Promise<unknown>) => {
      const before = await version();
      await write();
      return (await version()) - before;
    };
    expect(await version()).toBe(0);
    const job = await createdJob(store, newJob(user.id));
    expect(await version()).toBeGreaterThan(0);
    expect(await moves(() => beside.updateJob(job.id, { progress: 0.5 }))).toBeGreaterThan(0);
    expect(await moves(() => beside.updateJob(job.id, { nextCheckAt: 1, pollFailures: 3 }))).toBe(0);
    expect(await moves(() => store.claimDueJobs({ phases: ['waiting'], dueBy: Number.MAX_SAFE_INTEGER, limit: 5 }))).toBe(0);
    const audio = { id: 'audio-v', ownerId: user.id, fileName: 'a.mp3', mimeType: 'audio/mpeg', byteSize: 1, durationSeconds: 3, sha256: 'ab'.repeat(32), filePath: 'audio/a.mp3', upstreamAssetId: null, createdAt: 1 };
    expect(await moves(() => beside.addAudio(audio))).toBeGreaterThan(0);
    expect(await moves(() => store.setAudioUpstreamId('audio-v', 'asset_1'))).toBeGreaterThan(0);
    expect(await moves(() => store.deleteJob(job.id))).toBeGreaterThan(0);
    expect(await bobs()).toBe(0);
  });
});

describe('replicas', () => {
  it('records heartbeats, lists the live replicas and forgets one that stops', async () => {
    const { store } = await h.open({ instanceId: 'replica-a' });
    const beside = await h.openBeside(store, { instanceId: 'replica-b' });
    expect(await store.listLiveReplicas()).toEqual([]);
    await store.heartbeat();
    await beside.heartbeat();
    await store.heartbeat();
    const live = await store.listLiveReplicas();
    expect(live.map((replica) => replica.instanceId).sort()).toEqual(['replica-a', 'replica-b']);
    const a = live.find((replica) => replica.instanceId === 'replica-a')!;
    expect(a.heartbeatAt).toBeGreaterThanOrEqual(a.startedAt);
    expect(Math.abs(a.heartbeatAt - Date.now())).toBeLessThan(60_000);
    await beside.removeReplica();
    expect((await store.listLiveReplicas()).map((replica) => replica.instanceId)).toEqual(['replica-a']);
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
});
}
