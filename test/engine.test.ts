// The job engine end to end: real SQLite files, the real simulator over loopback HTTP, the real client.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent, JobView, VideoJob } from '../src/domain/video-job.ts';
import { createJob, startHarness, userId, waitFor, waitForTerminal, type Harness } from './helpers/engine-harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function eventsOf(jobId: string): Promise<JobEvent[]> {
  return (await h.store.listEvents([jobId])).get(jobId) ?? [];
}

function expectGaplessEvents(events: JobEvent[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
}

async function upstreamBytes(upstreamAssetId: string): Promise<Buffer> {
  const asset = await h.client.getAsset(upstreamAssetId);
  const response = await fetch(asset.url!);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('job lifecycle', () => {
  it('takes a job to SUCCEEDED with the stored file equal to upstream bytes', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    const created = await createJob(h, alice, 'a lighthouse at dusk', { size: 'PORTRAIT_720P', durationSeconds: 10 });
    expect(created).toMatchObject({ status: 'PENDING', version: 1, seedDrawn: true });

    const seen: JobView[] = [];
    await h.bus.subscribeToJob(created.id, (job) => seen.push(job));
    const done = await waitForTerminal(h, created.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done).toMatchObject({ progress: 1, upstreamStatus: 'success', error: null, queuePosition: null });
    expect(done.upstreamJobId).toMatch(/^job_/);
    expect(done.creativeUnitsCost).toBeGreaterThan(0);
    expect(done.submittedAt).not.toBeNull();
    expect(done.completedAt).not.toBeNull();

    const [video] = (await h.store.listVideoAssets([done.id])).get(done.id)!;
    const stored = readFileSync(join(h.mediaDir, video!.filePath));
    const original = await upstreamBytes(video!.upstreamAssetId);
    expect(sha256(stored)).toBe(sha256(original));
    expect(video).toMatchObject({ sha256: sha256(original), byteSize: original.length, width: 720, height: 1280, mimeType: 'video/mp4' });
    expect(video!.durationSeconds).toBeCloseTo(10, 0);
    expect(video!.frameRate).toBe(24);
    expect(video!.thumbnailPath).not.toBeNull();
    expect(readFileSync(join(h.mediaDir, video!.thumbnailPath!)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    // The submit carried the drawn seed and the model's own field names.
    const [input] = Object.keys(h.simulator.stats.submitsByInput).map((k) => JSON.parse(k));
    expect(input).toMatchObject({ prompt: 'a lighthouse at dusk', size: '720*1280', duration: 10, seed: done.seed, enablePromptExpansion: true });
    expect(h.simulator.stats.submits).toBe(1);

    const events = await eventsOf(done.id);
    expectGaplessEvents(events);
    const statuses = [...new Set(events.map((e) => e.status))];
    expect(statuses).toEqual(['PENDING', 'QUEUED', 'IN_PROGRESS', 'SUCCEEDED']);
    // Every published change has a newer version than the one before.
    const versions = seen.map((j) => j.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(seen.at(-1)!.status).toBe('SUCCEEDED');
  });

  it('keeps a failed job with the provider reason and hint', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'this one breaks [sim:fail]');
    const done = await waitForTerminal(h, job.id);
    expect(done.status).toBe('FAILED');
    expect(done.error?.code).toBe('UPSTREAM_FAILED');
    expect(done.error?.message).toBeTruthy();
    expect(done.error?.hint).toBeTruthy();
    expect(done.error?.retryable).toBe(false);
    expect((await h.store.listVideoAssets([job.id])).get(job.id)).toEqual([]);
  });

  it('keeps an unknown upstream status and goes on polling', async () => {
    h = await startHarness({ jobSeconds: 1.5 });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'a strange state [sim:status=pondering]');
    await waitFor(() => h.store.getJob(job.id), (j) => j!.upstreamStatus === 'pondering', 10_000, 'the unknown status');
    const done = await waitForTerminal(h, job.id);
    expect(done.status).toBe('SUCCEEDED');
    expect((await eventsOf(job.id)).some((e) => e.upstreamStatus === 'pondering')).toBe(true);
  });
});

describe('submitting at most once', () => {
  it('backs off on 429 and succeeds with exactly one upstream job', async () => {
    h = await startHarness();
    h.simulator.faults.respondWith('submit', { status: 429, count: 2, retryAfterSeconds: 0 });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'busy upstream');
    const done = await waitForTerminal(h, job.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(h.simulator.stats.requests.submit?.['429']).toBe(2);
    expect(h.simulator.stats.submits).toBe(1);
    expect((await eventsOf(job.id)).filter((e) => e.message?.includes('429'))).toHaveLength(2);
  });

  it('adopts the upstream job after a connection dropped once the submit was processed', async () => {
    h = await startHarness();
    h.simulator.faults.dropConnection('submit', { when: 'after' });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'lost answer');
    const done = await waitForTerminal(h, job.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(h.simulator.stats.submits).toBe(1);
    expect(h.simulator.stats.requests.submit).toEqual({ dropped: 1 });
    expect(done.upstreamJobId).toBe(h.simulator.stats.jobs[0]!.jobId);
    expect((await eventsOf(job.id)).some((e) => e.message?.includes('found'))).toBe(true);
  });

  it('never resends an uncertain submit that upstream did not take: SUBMIT_UNCERTAIN', async () => {
    h = await startHarness();
    h.simulator.faults.dropConnection('submit', { when: 'before' });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'vanished request');
    const done = await waitForTerminal(h, job.id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toMatchObject({ code: 'SUBMIT_UNCERTAIN', retryable: true });
    expect(done.error?.hint).toMatch(/may have run/);
    expect(h.simulator.stats.requests.submit).toEqual({ dropped: 1 });
    expect(h.simulator.stats.submits).toBe(0);
  });

  it('treats a 5xx on submit as uncertain, and fails it when upstream has no such job', async () => {
    h = await startHarness();
    h.simulator.faults.respondWith('submit', { status: 503 });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'server error');
    const done = await waitForTerminal(h, job.id);
    // A 503 says nothing about whether the job was created; here it was not, so nothing matches.
    expect(done.error?.code).toBe('SUBMIT_UNCERTAIN');
    expect(h.simulator.stats.submits).toBe(0);
  });

  it('fails a job upstream refuses with the upstream reason, and keeps nothing in flight', async () => {
    h = await startHarness();
    h.simulator.faults.respondWith('submit', { status: 400, body: { reason: 'Input prompt is not allowed' } });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'refused');
    const done = await waitForTerminal(h, job.id);
    expect(done.error).toEqual({ code: 'UPSTREAM_REJECTED', message: 'Input prompt is not allowed', hint: null, retryable: false });
    expect(await h.store.countInFlight()).toBe(0);
  });

  it('refuses new jobs while upstream rejects the credentials', async () => {
    h = await startHarness();
    h.simulator.faults.respondWith('submit', { status: 401, body: { reason: 'Invalid API key' } });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'bad keys');
    expect((await waitForTerminal(h, job.id)).error?.code).toBe('UPSTREAM_REJECTED');
    expect(await h.engine.createJob(alice, { prompt: 'again' })).toEqual({ kind: 'upstreamRefused', message: 'Invalid API key' });
  });
});

describe('polling', () => {
  it('survives a storm of 5xx and dropped connections while reading a job', async () => {
    h = await startHarness({ jobSeconds: 1.5 });
    const alice = await userId(h, 'alice');
    h.simulator.faults.respondWith('getJob', { status: 502, count: 6 });
    h.simulator.faults.dropConnection('getJob', { when: 'before', count: 2 });
    const job = await createJob(h, alice, 'storm');
    const done = await waitForTerminal(h, job.id, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.error).toBeNull();
    // One job is read on its own, so every fault was met and survived.
    expect(h.simulator.stats.requests.getJob).toMatchObject({ '502': 6, dropped: 2 });
  });

  it('falls back to reading jobs one by one when the list call fails', async () => {
    h = await startHarness({ jobSeconds: 1.5 });
    const alice = await userId(h, 'alice');
    h.simulator.faults.respondWith('listJobs', { status: 500, count: 3 });
    const jobs = await Promise.all([1, 2, 3, 4].map((i) => createJob(h, alice, `storm ${i}`)));
    for (const job of jobs) {
      const done = await waitForTerminal(h, job.id, 30_000);
      expect(done.status).toBe('SUCCEEDED');
      expect(done.error).toBeNull();
    }
    expect(h.simulator.stats.requests.listJobs?.['500']).toBe(3);
    expect(h.simulator.stats.requests.getJob?.['200']).toBeGreaterThan(0);
  });

  it('lets one list call answer for every job it reports when several are followed', async () => {
    h = await startHarness({ jobSeconds: 1 });
    const alice = await userId(h, 'alice');
    const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => createJob(h, alice, `batch ${i}`)));
    for (const job of jobs) expect((await waitForTerminal(h, job.id)).status).toBe('SUCCEEDED');
    const lists = h.simulator.stats.requests.listJobs?.['200'] ?? 0;
    const reads = h.simulator.stats.requests.getJob?.['200'] ?? 0;
    expect(lists).toBeGreaterThan(0);
    // Without list calls every job needs several reads of its own.
    expect(reads).toBeLessThan(jobs.length * 2);
  });

  it('fails a job upstream no longer knows as UPSTREAM_JOB_LOST', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'gone [sim:lost]');
    const done = await waitForTerminal(h, job.id);
    expect(done.error).toMatchObject({ code: 'UPSTREAM_JOB_LOST', retryable: true });
  });

  it('reads an asset again for a fresh URL when the stored one expired', async () => {
    h = await startHarness();
    h.simulator.faults.respondWith('download', { status: 403, body: 'Access Denied' });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'expired link');
    const done = await waitForTerminal(h, job.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(h.simulator.stats.requests.download?.['403']).toBe(1);
    expect(h.simulator.stats.requests.getAsset?.['200']).toBe(2);
  });
});

describe('admission', () => {
  it('serves waiting jobs round-robin across users and numbers the queue', async () => {
    h = await startHarness({ jobSeconds: 0.4, settings: { upstreamMaxInFlight: 1 } });
    const alice = await userId(h, 'alice');
    const bob = await userId(h, 'bob');
    await h.engine.stop(); // hold admission while the queue fills
    const a = [await createJob(h, alice, 'a1'), await createJob(h, alice, 'a2'), await createJob(h, alice, 'a3')];
    const b = [await createJob(h, bob, 'b1')];
    const positions: Array<number | null> = [];
    await h.bus.subscribeToJob(a[2]!.id, (job) => positions.push(job.queuePosition));
    await h.engine.start();
    await waitFor(() => h.store.getJob(a[2]!.id), (j) => j!.queuePosition !== null, 5000, 'queue positions');
    const all = [...a, ...b];
    const done = await Promise.all(all.map((job) => waitForTerminal(h, job.id, 30_000)));
    const order = done.sort((x, y) => x.submittedAt! - y.submittedAt!).map((j) => j.prompt);
    expect(order).toEqual(['a1', 'b1', 'a2', 'a3']);
    // a3 moved up the queue (3, 2, 1) and left it when submitted; each move was published with a new version.
    expect(positions.filter((p, i) => p !== positions[i - 1])).toEqual([3, 2, 1, null]);
  });

  it('keeps a job PENDING while the upstream slots are full', async () => {
    h = await startHarness({ settings: { upstreamMaxInFlight: 1 } });
    const alice = await userId(h, 'alice');
    const blocker = await createJob(h, alice, 'never ends [sim:never]');
    await waitFor(() => h.store.getJob(blocker.id), (j) => j!.status === 'QUEUED' || j!.status === 'IN_PROGRESS', 5000, 'blocker submitted');
    const waiting = await createJob(h, alice, 'waits');
    const queued = await waitFor(() => h.store.getJob(waiting.id), (j) => j!.queuePosition === 1, 5000, 'queue position 1');
    expect(queued!.status).toBe('PENDING');
    expect(h.simulator.stats.submits).toBe(1);
  });
});

describe('cancel and delete', () => {
  it('cancels a PENDING job at once without sending it, and refuses afterwards', async () => {
    h = await startHarness({ settings: { upstreamMaxInFlight: 1 } });
    const alice = await userId(h, 'alice');
    const bob = await userId(h, 'bob');
    const blocker = await createJob(h, alice, 'never ends [sim:never]');
    await waitFor(() => h.store.getJob(blocker.id), (j) => j!.upstreamJobId !== null, 5000, 'blocker submitted');
    const waiting = await createJob(h, alice, 'to cancel');

    expect(await h.engine.cancelJob(bob, waiting.id)).toEqual({ kind: 'notFound' });
    const canceled = await h.engine.cancelJob(alice, waiting.id);
    expect(canceled.kind).toBe('canceled');
    expect(canceled.kind === 'canceled' && canceled.job.status).toBe('CANCELED');
    expect((await h.engine.cancelJob(alice, waiting.id)).kind).toBe('notCancelable');
    expect(h.simulator.stats.submits).toBe(1);

    // A submitted Wan job: upstream refuses, the job runs on.
    const refused = await h.engine.cancelJob(alice, blocker.id);
    expect(refused.kind).toBe('notCancelable');
    expect(refused.kind === 'notCancelable' && refused.reason).toMatch(/Cannot cancel this type of job/);
    expect((await h.store.getJob(blocker.id))!.status).not.toBe('CANCELED');
  });

  it('deletes only terminal jobs, with their files', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'short lived');
    expect((await h.engine.deleteJob(alice, job.id)).kind).toBe('notTerminal');
    await waitForTerminal(h, job.id);
    const [video] = (await h.store.listVideoAssets([job.id])).get(job.id)!;
    expect(await h.engine.deleteJob((await userId(h, 'bob')), job.id)).toEqual({ kind: 'notFound' });
    expect(await h.engine.deleteJob(alice, job.id)).toEqual({ kind: 'deleted', jobId: job.id });
    expect(await h.store.getJob(job.id)).toBeNull();
    expect(() => readFileSync(join(h.mediaDir, video!.filePath))).toThrow(/ENOENT/);
  });
});

describe('limits at creation', () => {
  it('answers idempotent repeats, conflicts, quota and rate limits before anything is stored', async () => {
    h = await startHarness({ settings: { maxActiveJobsPerUser: 2, generateRateLimitPerMinute: 3, upstreamMaxInFlight: 1 } });
    const alice = await userId(h, 'alice');
    await h.engine.stop(); // keep everything PENDING
    const first = await h.engine.createJob(alice, { prompt: 'p', idempotencyKey: 'k1' });
    expect(first.kind).toBe('created');
    const again = await h.engine.createJob(alice, { prompt: 'p', idempotencyKey: 'k1', size: null });
    expect(again.kind === 'deduplicated' && first.kind === 'created' && again.job.id === first.job.id).toBe(true);
    const conflict = await h.engine.createJob(alice, { prompt: 'other', idempotencyKey: 'k1' });
    expect(conflict.kind).toBe('idempotencyConflict');
    await h.engine.createJob(alice, { prompt: 'second' });
    const quota = await h.engine.createJob(alice, { prompt: 'third' });
    expect(quota).toMatchObject({ kind: 'quota', limit: 2 });
    // A repeated key still answers over quota.
    expect((await h.engine.createJob(alice, { prompt: 'p', idempotencyKey: 'k1' })).kind).toBe('deduplicated');
    expect((await h.engine.createJob(alice, { prompt: 'x', audioId: 'no-such-audio' })).kind).toBe('audioNotFound');
    const invalid = await h.engine.createJob(alice, { prompt: '', durationSeconds: 7 });
    expect(invalid.kind === 'invalid' && invalid.fieldErrors.map((e) => e.path.join('.'))).toEqual(['input.prompt', 'input.durationSeconds']);
    expect(await h.store.countJobs(alice)).toBe(2);
    expect(h.simulator.stats.submits).toBe(0);
  });

  it('rate-limits job creation per user per minute', async () => {
    h = await startHarness({ settings: { generateRateLimitPerMinute: 2 } });
    const alice = await userId(h, 'alice');
    const bob = await userId(h, 'bob');
    await h.engine.stop();
    await createJob(h, alice, 'one');
    await createJob(h, alice, 'two');
    const limited = await h.engine.createJob(alice, { prompt: 'three' });
    expect(limited.kind).toBe('rateLimited');
    expect(limited.kind === 'rateLimited' && limited.retryAfterSeconds).toBeGreaterThan(50);
    expect((await h.engine.createJob(bob, { prompt: 'bob is fine' })).kind).toBe('created');
  });
});

describe('restart', () => {
  it('finishes every job after a restart mid-flight, with no duplicate submits or events', async () => {
    h = await startHarness({ jobSeconds: 1.2, settings: { upstreamMaxInFlight: 3 } });
    const alice = await userId(h, 'alice');
    const bob = await userId(h, 'bob');
    const jobs = await Promise.all([
      createJob(h, alice, 'r1'),
      createJob(h, alice, 'r2'),
      createJob(h, bob, 'r3'),
      createJob(h, bob, 'r4'),
      createJob(h, alice, 'r5'),
    ]);
    await waitFor(() => h.store.countInFlight(), (n) => n >= 2, 5000, 'jobs in flight');
    await h.restart();
    const started = Date.now();
    const done = await Promise.all(jobs.map((job) => waitForTerminal(h, job.id, 30_000)));
    expect(done.map((j) => j.status)).toEqual(Array(5).fill('SUCCEEDED'));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(h.simulator.stats.submits).toBe(5);
    expect(h.simulator.stats.duplicateInputs).toEqual([]);
    for (const job of jobs) expectGaplessEvents(await eventsOf(job.id));
  });

  it('reconciles a submit cut short by a crash instead of sending it again', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    await h.engine.stop();
    const job = await createJob(h, alice, 'crash mid-submit');
    // What a crash leaves: the intent committed, the request sent and taken upstream, the answer lost.
    const body = { prompt: job.prompt, size: '1280*720', duration: 5, enablePromptExpansion: true, seed: job.seed };
    await h.store.updateJob(job.id, { phase: 'submitting', upstreamRequest: body, submitStartedAt: Date.now(), submitAttempts: 1, nextCheckAt: Date.now() + 3_600_000 });
    await h.client.submitJob('model_wan-2-5-t2v', body);
    await h.restart();
    const done = await waitForTerminal(h, job.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(h.simulator.stats.submits).toBe(1);
  });

  it('picks up every kind of unfinished job within 5 s of a restart', async () => {
    h = await startHarness({ jobSeconds: 30, settings: { pollMinIntervalMs: 2000, pollMaxIntervalMs: 20_000 } });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'long job');
    await waitFor(() => h.store.getJob(job.id), (j) => j!.upstreamJobId !== null, 5000, 'submitted');
    // Push the next poll far away, as a long schedule or a stalled job would.
    const submitted = (await h.store.getJob(job.id))!;
    await h.store.updateJob(job.id, { nextCheckAt: Date.now() + 3_600_000 });
    const before = h.simulator.stats.requests.getJob?.['200'] ?? 0;
    await h.restart();
    await waitFor(async () => h.simulator.stats.requests.getJob?.['200'] ?? 0, (n) => n > before, 5000, 'a poll after restart');
    expect(submitted.phase).toBe('polling');
  });
});

describe('long-running jobs', () => {
  it('flags a job with no upstream change for 30 minutes, then fails it as TIMED_OUT after 24 hours', async () => {
    h = await startHarness({ jobSeconds: 0.3 });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'stuck [sim:never]');
    await waitFor(() => h.store.getJob(job.id), (j) => j!.progress === 0.99, 10_000, 'the plateau');
    h.clock.offsetMs = 31 * 60_000;
    const stalled = await waitFor(() => h.store.getJob(job.id), (j) => j!.stalled, 10_000, 'the stall flag');
    expect(stalled!.status).toBe('IN_PROGRESS');
    expect((await eventsOf(job.id)).some((e) => e.message?.includes('No upstream change for 30 minutes'))).toBe(true);
    // Polled slowly now: the next look is minutes away.
    expect(stalled!.nextCheckAt! - (Date.now() + h.clock.offsetMs)).toBeGreaterThan(60_000);

    h.clock.offsetMs = 25 * 3_600_000;
    const done = await waitForTerminal(h, job.id);
    expect(done.error).toMatchObject({ code: 'TIMED_OUT', retryable: true });
  });

  it('keeps retrying to store the video, then fails as MIRROR_FAILED after 24 hours with the upstream asset ids', async () => {
    h = await startHarness();
    h.simulator.faults.respondWith('download', { status: 500, count: 100_000 });
    const alice = await userId(h, 'alice');
    const job = await createJob(h, alice, 'unreachable storage');
    const mirroring = await waitFor(() => h.store.getJob(job.id), (j) => j!.mirrorAttempts >= 2, 10_000, 'mirror retries');
    expect(mirroring).toMatchObject({ status: 'IN_PROGRESS', phase: 'mirroring', error: null });
    h.clock.offsetMs = 25 * 3_600_000;
    const done = await waitForTerminal(h, job.id);
    expect(done.error?.code).toBe('MIRROR_FAILED');
    expect(done.error?.hint).toContain(done.upstreamAssetIds[0]);
    expect(done.upstreamAssetIds).toHaveLength(1);
  });
});

describe('audio', () => {
  const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures/audio', name)));

  it('stores an audio file, imports it upstream, and sends its asset id with the job', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    const bob = await userId(h, 'bob');
    const stored = await h.engine.uploadAudio(alice, { fileName: 'voice.wav', bytes: fixture('tone-4s.wav') });
    expect(stored.kind).toBe('stored');
    if (stored.kind !== 'stored') return;
    expect(stored.audio).toMatchObject({ mimeType: 'audio/wav', durationSeconds: 4, fileName: 'voice.wav' });
    expect(stored.audio.upstreamAssetId).toMatch(/^asset_/);
    expect(sha256(readFileSync(join(h.mediaDir, stored.audio.filePath)))).toBe(stored.audio.sha256);

    expect((await h.engine.createJob(bob, { prompt: 'not yours', audioId: stored.audio.id })).kind).toBe('audioNotFound');
    const job = await createJob(h, alice, 'sing along', { audioId: stored.audio.id });
    expect((await waitForTerminal(h, job.id)).status).toBe('SUCCEEDED');
    const [input] = Object.keys(h.simulator.stats.submitsByInput).map((k) => JSON.parse(k));
    expect(input.audio).toBe(stored.audio.upstreamAssetId);
  });

  it('refuses files by their bytes and duration, not their names', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['song.mp3', png, /MP3, WAV, OGG or M4A/],
      ['short.wav', fixture('tone-2s.wav'), /3 to 30 seconds/],
      ['long.mp3', fixture('tone-40s.mp3'), /3 to 30 seconds/],
      ['empty.wav', new Uint8Array(), /empty/],
      ['huge.wav', new Uint8Array(15 * 1024 * 1024 + 1), /15 MB/],
    ];
    for (const [fileName, bytes, message] of cases) {
      const outcome = await h.engine.uploadAudio(alice, { fileName, bytes });
      expect(outcome.kind, fileName).toBe('invalid');
      expect(outcome.kind === 'invalid' && outcome.fieldErrors[0]!.message).toMatch(message);
    }
    for (const name of ['tone-4s-cbr.mp3', 'tone-4s-vorbis.ogg', 'tone-4s.m4a']) {
      expect((await h.engine.uploadAudio(alice, { fileName: name, bytes: fixture(name) })).kind, name).toBe('stored');
    }
  });

  it('keeps the audio when the upload fails for a while, and imports it when a job needs it', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    h.simulator.faults.respondWith('uploadCreate', { status: 503 });
    const stored = await h.engine.uploadAudio(alice, { fileName: 'voice.wav', bytes: fixture('tone-4s.wav') });
    expect(stored.kind === 'stored' && stored.audio.upstreamAssetId).toBeNull();
    if (stored.kind !== 'stored') return;
    const job = await createJob(h, alice, 'late import', { audioId: stored.audio.id });
    expect((await waitForTerminal(h, job.id)).status).toBe('SUCCEEDED');
    const [audio] = await h.store.getAudios([stored.audio.id]);
    expect(audio!.upstreamAssetId).toMatch(/^asset_/);
  });

  it('answers UpstreamError-worthy refusals without keeping the file', async () => {
    h = await startHarness();
    const alice = await userId(h, 'alice');
    h.simulator.faults.respondWith('uploadCreate', { status: 403, body: { message: 'API Keys cannot access protected resources' } });
    const outcome = await h.engine.uploadAudio(alice, { fileName: 'voice.wav', bytes: fixture('tone-4s.wav') });
    expect(outcome).toEqual({ kind: 'upstreamRefused', message: 'API Keys cannot access protected resources' });
  });
});
