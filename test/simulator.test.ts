// The Scenario simulator over raw HTTP: what it accepts and refuses, its job timeline, assets, uploads, faults,
// control endpoints and committed media.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_DIR } from '../src/simulator/media.ts';
import { RemoteSimulator } from '../src/simulator/remote.ts';
import type { Simulator } from '../src/simulator/server.ts';
import { rollingExpiry } from '../src/simulator/signing.ts';
import { stableStringify } from '../src/simulator/stats.ts';
import { basicAuth, call, MODEL_ID, sleep, startSimulator, wanBody } from './helpers/sim-harness.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ jobSeconds: 0.6 });
});
afterAll(() => sim.stop());
afterEach(() => sim.faults.reset());

const SUBMIT = `/generate/custom/${MODEL_ID}`;
const submit = (body: unknown, simulator = sim) => call(simulator, 'POST', SUBMIT, body);

async function waitForStatus(jobId: string, status: string, simulator = sim, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await call(simulator, 'GET', `/jobs/${jobId}`);
    if (json.job.status === status) return json.job;
    if (Date.now() > deadline) throw new Error(`still ${json.job.status}`);
    await sleep(25);
  }
}

describe('auth, models and input validation', () => {
  it.each([
    ['no header', {}],
    ['bearer', { authorization: 'Bearer abc' }],
    ['malformed basic', { authorization: 'Basic !!!' }],
    ['empty secret', { authorization: basicAuth('key', '') }],
    ['empty key', { authorization: basicAuth('', 'secret') }],
  ])('401 with a reason: %s', async (_name, headers) => {
    const { status, json } = await call(sim, 'GET', '/jobs', undefined, headers as Record<string, string>);
    expect(status).toBe(401);
    expect(json.reason).toBeTypeOf('string');
  });

  it('404 for an unknown model', async () => {
    const { status, json } = await call(sim, 'POST', '/generate/custom/model_flux', wanBody());
    expect(status).toBe(404);
    expect(json.reason).toMatch(/model_flux/);
  });

  it.each([
    [{ prompt: '' }, 'Input prompt is required'],
    [{ prompt: 'x'.repeat(801) }, 'at most 800'],
    [{ negativePrompt: 'x'.repeat(501) }, 'at most 500'],
    [{ size: '832*480' }, 'size must be one of'],
    [{ duration: 7 }, 'duration must be one of'],
    [{ duration: '5' }, 'duration must be one of'],
    [{ enablePromptExpansion: 'yes' }, 'boolean'],
    [{ seed: -1 }, 'seed must be an integer'],
    [{ seed: 2_147_483_648 }, 'seed must be an integer'],
    [{ seed: 1.5 }, 'seed must be an integer'],
    [{ resolution: '720p' }, 'Unknown input resolution'],
  ])('400 for %j', async (override, reason) => {
    const { status, json } = await submit(wanBody(override));
    expect(status).toBe(400);
    expect(json.reason).toContain(reason);
  });

  it('400 for a body that is not a JSON object; 404 for an audio asset it does not know', async () => {
    expect((await submit('not json')).status).toBe(400);
    expect((await submit('[1]')).status).toBe(400);
    const unknownAudio = await submit(wanBody({ audio: 'asset_doesnotexist00000000000' }));
    expect(unknownAudio.status).toBe(404);
  });

  it('a prompt alone is enough; the job echoes the body as sent', async () => {
    const { status, json } = await submit({ prompt: 'just a prompt' });
    expect(status).toBe(200);
    expect(json.job.metadata.input).toEqual({ prompt: 'just a prompt' });
    expect(json.creativeUnitsCost).toBe(50);
  });
});

describe('dry run', () => {
  it('prices by size and duration and creates nothing', async () => {
    const fresh = await startSimulator();
    try {
      const small = await call(fresh, 'POST', `${SUBMIT}?dryRun=true`, wanBody({ size: '1280*720', duration: 5 }));
      const large = await call(fresh, 'POST', `${SUBMIT}?dryRun=true`, wanBody({ size: '1080*1920', duration: 10 }));
      expect(small.status).toBe(200);
      expect(small.json).toEqual({ creativeUnitsCost: 50, creativeUnitsDiscount: 0, job: {} });
      expect(large.json.creativeUnitsCost).toBeGreaterThan(small.json.creativeUnitsCost);
      expect(fresh.stats.submits).toBe(0);
      expect((await call(fresh, 'GET', '/jobs')).json.jobs).toEqual([]);
      expect((await call(fresh, 'POST', `${SUBMIT}?dryRun=true`, wanBody({ prompt: '' }))).status).toBe(400);
    } finally {
      await fresh.stop();
    }
  });
});

describe('job timeline', () => {
  it('goes queued → warming-up → in-progress → finalizing → success with rising progress and a full history', async () => {
    const { json } = await submit(wanBody({ size: '1920*1080' }));
    const job = json.job;
    expect(job).toMatchObject({ jobType: 'custom', status: 'queued', progress: 0 });
    expect(job.jobId).toMatch(/^job_[A-Za-z0-9]{24}$/);
    expect(job.authorId).toMatch(/^[0-9a-f]{32}$/);
    expect(job.ownerId).toMatch(/^proj_/);
    expect(job.statusHistory).toEqual([{ status: 'queued', date: job.createdAt }]);

    const seen: string[] = [];
    const progress: number[] = [];
    let last;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(10)) {
      last = (await call(sim, 'GET', `/jobs/${job.jobId}`)).json.job;
      if (seen[seen.length - 1] !== last.status) seen.push(last.status);
      progress.push(last.progress);
      if (last.status === 'success') break;
    }
    expect(seen[0]).toBe('queued');
    expect(seen[seen.length - 1]).toBe('success');
    expect(seen).toContain('in-progress');
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.some((p) => p > 0 && p < 1)).toBe(true);
    expect(last.statusHistory.map((h: { status: string }) => h.status)).toEqual(['queued', 'warming-up', 'in-progress', 'finalizing', 'success']);
    expect(last.metadata.assetIds).toHaveLength(1);
    expect(last.billing).toEqual({ cuCost: 75, cuDiscount: 0 });
    expect(Date.parse(last.updatedAt) - Date.parse(last.createdAt)).toBeGreaterThanOrEqual(0.6 * 0.95 * 1000 - 1);
  });

  it('[sim:never] stays in progress, short of done', async () => {
    const { json } = await submit(wanBody({ prompt: 'endless [sim:never]' }));
    await sleep(1300);
    const job = (await call(sim, 'GET', `/jobs/${json.job.jobId}`)).json.job;
    expect(job.status).toBe('in-progress');
    expect(job.progress).toBeLessThan(1);
    expect(job.progress).toBeGreaterThan(0.9);
  });

  it('[sim:lost] answers 404 once created and is absent from lists', async () => {
    const { status, json } = await submit(wanBody({ prompt: 'gone [sim:lost]' }));
    expect(status).toBe(200);
    expect((await call(sim, 'GET', `/jobs/${json.job.jobId}`)).status).toBe(404);
    const list = await call(sim, 'GET', '/jobs?pageSize=100');
    expect(list.json.jobs.map((j: { jobId: string }) => j.jobId)).not.toContain(json.job.jobId);
  });

  it('[sim:fail] ends in failure with error and hint and no assets', async () => {
    const { json } = await submit(wanBody({ prompt: 'doomed [sim:fail]' }));
    const job = await waitForStatus(json.job.jobId, 'failure');
    expect(job.metadata).toMatchObject({ assetIds: [], error: expect.any(String), hint: expect.any(String) });
    expect(job.billing).toBeUndefined();
  });

  it('refuses to cancel custom jobs; unknown jobs are 404', async () => {
    const { json } = await submit(wanBody());
    const refused = await call(sim, 'POST', `/jobs/${json.job.jobId}/action`, { action: 'cancel' });
    expect(refused).toMatchObject({ status: 400, json: { reason: 'Cannot cancel this type of job. Action not permitted.' } });
    expect((await call(sim, 'POST', '/jobs/job_unknown/action', { action: 'cancel' })).status).toBe(404);
  });

  it('caps unfinished jobs per team with 429 and details', async () => {
    const capped = await startSimulator({ concurrencyLimit: 2, jobSeconds: 0.3 });
    try {
      expect((await submit(wanBody(), capped)).status).toBe(200);
      expect((await submit(wanBody(), capped)).status).toBe(200);
      const third = await submit(wanBody(), capped);
      expect(third.status).toBe(429);
      expect(third.json.details).toEqual({ actionName: 'generate', actionLimit: 2 });
      await sleep(400); // both finished: room again
      expect((await submit(wanBody(), capped)).status).toBe(200);
    } finally {
      await capped.stop();
    }
  });
});

describe('job list', () => {
  it('pages newest first with an opaque token stable under new jobs; caps pageSize at 100; refuses bad tokens', async () => {
    const fresh = await startSimulator();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await submit(wanBody({ seed: i }), fresh)).json.job.jobId);
      const first = await call(fresh, 'GET', '/jobs?pageSize=3');
      expect(first.json.jobs.map((j: { jobId: string }) => j.jobId)).toEqual(ids.slice(2).reverse());
      await submit(wanBody({ seed: 99 }), fresh); // a new job must not shift the next page
      const second = await call(fresh, 'GET', `/jobs?pageSize=3&paginationToken=${first.json.nextPaginationToken}`);
      expect(second.json.jobs.map((j: { jobId: string }) => j.jobId)).toEqual(ids.slice(0, 2).reverse());
      expect(second.json.nextPaginationToken).toBeUndefined();
      expect((await call(fresh, 'GET', '/jobs?pageSize=500')).json.jobs).toHaveLength(6);
      expect((await call(fresh, 'GET', '/jobs?paginationToken=garbage')).status).toBe(400);
      expect((await call(fresh, 'GET', '/jobs?pageSize=0')).status).toBe(400);
    } finally {
      await fresh.stop();
    }
  });
});

describe('assets and signed URLs', () => {
  async function succeededJob(simulator: Simulator, body = wanBody()) {
    const { json } = await submit(body, simulator);
    return waitForStatus(json.job.jobId, 'success', simulator);
  }

  it('reports the real clip properties and serves the clip and its thumbnail', async () => {
    const job = await succeededJob(sim, wanBody({ size: '1080*1920', duration: 10 }));
    const { json } = await call(sim, 'GET', `/assets/${job.metadata.assetIds[0]}`);
    const file = readFileSync(`${MEDIA_DIR}wan-1080x1920-10s.mp4`);
    expect(json.asset).toMatchObject({
      kind: 'video',
      mimeType: 'video/mp4',
      status: 'success',
      properties: { size: file.length, width: 1080, height: 1920, duration: 10, frameRate: 24, nbFrames: 240, codecName: 'h264' },
      metadata: { parentJobId: job.jobId, type: 'txt2video' },
    });
    expect(json.asset.url).toMatch(/\/cdn\/assets\/asset_\w+\?Expires=\d+&Signature=[\w-]+&Key-Pair-Id=SIM$/);
    const video = Buffer.from(await (await fetch(json.asset.url)).arrayBuffer());
    expect(video.equals(file)).toBe(true);
    const thumbnail = await fetch(json.asset.thumbnail.url);
    expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await thumbnail.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('URLs expire per the rolling rule; expired or tampered ones are 403; expireAssetUrls() invalidates issued ones', async () => {
    let clock = Date.parse('2026-11-10T12:00:00Z');
    const timed = await startSimulator({ now: () => clock, jobSeconds: 0.1 });
    try {
      const { json } = await submit(wanBody(), timed);
      clock += 1000;
      const job = (await call(timed, 'GET', `/jobs/${json.job.jobId}`)).json.job;
      expect(job.status).toBe('success');
      const asset = (await call(timed, 'GET', `/assets/${job.metadata.assetIds[0]}`)).json.asset;
      const expires = Number(new URL(asset.url).searchParams.get('Expires')) * 1000;
      expect(expires).toBe(Date.parse('2026-11-21T00:00:00Z'));
      expect((await fetch(asset.url)).status).toBe(200);
      expect((await fetch(asset.url.replace(/Signature=[^&]+/, 'Signature=x'))).status).toBe(403);
      expect((await fetch(asset.url.replace(/Expires=\d+/, `Expires=${expires / 1000 + 60}`))).status).toBe(403);

      clock = expires + 1;
      expect((await fetch(asset.url)).status).toBe(403);
      const renewed = (await call(timed, 'GET', `/assets/${asset.id}`)).json.asset;
      expect((await fetch(renewed.url)).status).toBe(200);

      timed.faults.expireAssetUrls();
      expect((await fetch(renewed.url)).status).toBe(403);
      const again = (await call(timed, 'GET', `/assets/${asset.id}`)).json.asset;
      expect((await fetch(again.url)).status).toBe(200);
    } finally {
      await timed.stop();
    }
  });

  it('rolling expiry is always at least 24 h ahead', () => {
    expect(rollingExpiry(Date.parse('2026-11-01T00:00:00Z'))).toBe(Date.parse('2026-11-14T00:00:00Z'));
    expect(rollingExpiry(Date.parse('2026-11-14T23:59:00Z'))).toBe(Date.parse('2026-11-21T00:00:00Z'));
    expect(rollingExpiry(Date.parse('2026-02-21T23:59:00Z'))).toBe(Date.parse('2026-02-28T00:00:00Z'));
    expect(rollingExpiry(Date.parse('2026-12-31T23:59:00Z'))).toBe(Date.parse('2027-01-07T00:00:00Z'));
    for (let t = Date.parse('2026-01-01T00:00:00Z'); t < Date.parse('2027-01-01T00:00:00Z'); t += 3_600_000) {
      expect(rollingExpiry(t) - t).toBeGreaterThanOrEqual(24 * 3_600_000);
    }
  });
});

describe('uploads', () => {
  async function createUpload(fileSize: number, parts = 1, fileName = 'voice.mp3') {
    const { status, json } = await call(sim, 'POST', '/uploads', { fileName, contentType: 'audio/mpeg', kind: 'audio', fileSize, parts });
    expect(status).toBe(200);
    return json.upload;
  }

  it('pending → parts → complete → validating → imported, with an audio asset', async () => {
    const upload = await createUpload(6);
    expect(upload).toMatchObject({ status: 'pending', entityId: null });
    expect(upload.id).toMatch(/^upload_/);
    expect(upload.parts).toHaveLength(1);
    const put = await fetch(upload.parts[0].url, { method: 'PUT', body: Buffer.from('ID3abc') });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBeTruthy();
    const completed = await call(sim, 'POST', `/uploads/${upload.id}/action`, { action: 'complete' });
    expect(completed.json.upload).toMatchObject({ status: 'validating', entityId: null });
    await sleep(350);
    const imported = (await call(sim, 'GET', `/uploads/${upload.id}`)).json.upload;
    expect(imported.status).toBe('imported');
    const asset = (await call(sim, 'GET', `/assets/${imported.entityId}`)).json.asset;
    expect(asset).toMatchObject({ kind: 'audio', mimeType: 'audio/mpeg', properties: { size: 6 } });
  });

  it('refuses parts with an auth header or a bad signature, completes only whole uploads, fails a size mismatch', async () => {
    const upload = await createUpload(10, 2);
    const [first, second] = upload.parts;
    expect((await fetch(first.url, { method: 'PUT', body: 'abcde', headers: { authorization: basicAuth() } })).status).toBe(400);
    expect((await fetch(first.url.replace(/Signature=[^&]+/, 'Signature=x'), { method: 'PUT', body: 'abcde' })).status).toBe(403);
    expect((await fetch(first.url, { method: 'PUT', body: 'abcde' })).status).toBe(200);
    const early = await call(sim, 'POST', `/uploads/${upload.id}/action`, { action: 'complete' });
    expect(early.status).toBe(400);
    expect(early.json.reason).toMatch(/Missing parts: 2/);
    expect((await fetch(second.url, { method: 'PUT', body: 'abc' })).status).toBe(200); // 2 bytes short
    await call(sim, 'POST', `/uploads/${upload.id}/action`, { action: 'complete' });
    await sleep(350);
    const failed = (await call(sim, 'GET', `/uploads/${upload.id}`)).json.upload;
    expect(failed).toMatchObject({ status: 'failed', entityId: null });
    expect(failed.errorMessage).toMatch(/size mismatch/);
  });

  it('validates the create request', async () => {
    const bad = await call(sim, 'POST', '/uploads', { fileName: 'a.mp3', contentType: 'video/mp4', kind: 'audio', fileSize: 5, parts: 1 });
    expect(bad.status).toBe(400);
    const huge = await call(sim, 'POST', '/uploads', { fileName: 'a.mp3', contentType: 'audio/mpeg', kind: 'audio', fileSize: 16 * 1024 * 1024, parts: 4 });
    expect(huge.status).toBe(400);
  });
});

describe('faults', () => {
  it('answers a queued status for the next N requests, in FIFO order, then behaves', async () => {
    sim.faults.respondWith('listJobs', { status: 503, count: 2 });
    sim.faults.respondWith('listJobs', { status: 500 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(sim, 'GET', '/jobs')).status);
    expect(statuses).toEqual([503, 503, 500, 200]);
  });

  it('route * covers every route', async () => {
    sim.faults.respondWith('*', { status: 502 });
    expect((await call(sim, 'GET', '/assets/asset_x')).status).toBe(502);
    expect((await call(sim, 'GET', '/assets/asset_x')).status).toBe(404);
  });

  it('drops the connection after processing a submit: the job exists, the client got nothing', async () => {
    const before = sim.stats.submits;
    sim.faults.dropConnection('submit', { when: 'after' });
    await expect(submit(wanBody({ seed: 4242 }))).rejects.toThrow();
    expect(sim.stats.submits).toBe(before + 1);
    expect(sim.stats.requests.submit?.dropped).toBeGreaterThanOrEqual(1);
  });

  it('counts submits by a stable form of their input', async () => {
    const fresh = await startSimulator();
    try {
      await submit({ prompt: 'twice', seed: 1 }, fresh);
      await submit({ seed: 1, prompt: 'twice' }, fresh);
      await submit({ prompt: 'once' }, fresh);
      const stats = fresh.stats;
      expect(stats.submits).toBe(3);
      expect(stats.submitsByInput[stableStringify({ prompt: 'twice', seed: 1 })]).toBe(2);
      expect(stats.duplicateInputs).toEqual([stableStringify({ seed: 1, prompt: 'twice' })]);
      expect(stats.jobs).toHaveLength(3);
      expect(stats.requests.submit).toEqual({ 200: 3 });
      // All three still running: the most unfinished at once.
      expect(stats.maxConcurrentJobs).toBe(3);
    } finally {
      await fresh.stop();
    }
  });

  it('stop() ends within a second even with a hanging request open', async () => {
    const doomed = await startSimulator();
    doomed.faults.hang('getJob');
    const pending = call(doomed, 'GET', '/jobs/job_x').then(
      () => 'answered',
      () => 'failed',
    );
    await sleep(50);
    const started = Date.now();
    await doomed.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('failed');
    expect(doomed.stats.requests.getJob).toEqual({ hung: 1 });
  });

  it('is driven over HTTP by RemoteSimulator (a simulator in another process)', async () => {
    const remote = new RemoteSimulator(sim.url);
    await remote.respondWith('getJob', { status: 503, retryAfterSeconds: 7 });
    const faulted = await call(sim, 'GET', '/jobs/job_x');
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('retry-after')).toBe('7');
    await remote.dropConnection('listJobs', { when: 'before' });
    await expect(call(sim, 'GET', '/jobs')).rejects.toThrow();
    await remote.hang('getAsset');
    await remote.resetFaults();
    expect((await call(sim, 'GET', '/assets/asset_x')).status).toBe(404);
    const stats = await remote.stats();
    expect(stats.requests.listJobs?.dropped).toBeGreaterThanOrEqual(1);
    const badFault = await fetch(`${sim.origin}/_sim/faults`, { method: 'POST', body: JSON.stringify({ type: 'respond', route: 'nope', status: 500 }) });
    expect(badFault.status).toBe(400);
    await expect(remote.expireAssetUrls()).resolves.toBeUndefined();
  });

  it('reset() forgets jobs, stats and faults', async () => {
    const fresh = await startSimulator();
    try {
      await submit(wanBody(), fresh);
      fresh.faults.hang('getJob');
      await new RemoteSimulator(fresh.url).reset();
      expect(fresh.stats).toMatchObject({ submits: 0, jobs: [], requests: {} });
      expect((await call(fresh, 'GET', '/jobs/job_x')).status).toBe(404);
    } finally {
      await fresh.stop();
    }
  });
});

describe('committed media', () => {
  const files = readdirSync(MEDIA_DIR);
  const clips = files.filter((f) => f.endsWith('.mp4'));

  it('has one clip per size and duration, all small enough', () => {
    expect(clips.sort()).toEqual(
      ['1080x1920', '1280x720', '1920x1080', '720x1280'].flatMap((s) => [`wan-${s}-10s.mp4`, `wan-${s}-5s.mp4`]).sort(),
    );
    const total = files.reduce((sum, f) => sum + statSync(MEDIA_DIR + f).size, 0);
    expect(total).toBeLessThanOrEqual(2.5 * 1024 * 1024);
    expect(sim.media.clips).toHaveLength(8);
  });

  it.each(clips)('%s is an MP4 with ftyp first and moov before mdat (faststart)', (file) => {
    const bytes = readFileSync(MEDIA_DIR + file);
    const boxes: string[] = [];
    for (let offset = 0; offset + 8 <= bytes.length; ) {
      const size = bytes.readUInt32BE(offset);
      boxes.push(bytes.toString('latin1', offset + 4, offset + 8));
      if (size < 8) break; // 0 (to end) or 1 (64-bit size) do not occur in these files
      offset += size;
    }
    expect(boxes[0]).toBe('ftyp');
    expect(boxes.indexOf('moov')).toBeGreaterThan(0);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    const clip = sim.media.clips.find((c) => c.file === file)!;
    expect(clip.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
