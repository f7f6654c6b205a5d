// ScenarioClient against the simulator over real HTTP on 127.0.0.1, plus the wire-format readers on their own.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaStorageError } from '../src/media/storage/index.ts';
import { LocalMediaStorage } from '../src/media/storage/local.ts';
import { planParts, ScenarioClient } from '../src/scenario/client.ts';
import { ScenarioError } from '../src/scenario/types.ts';
import { reasonOf, retryAfterMsOf, toUpstreamAsset, toUpstreamJob } from '../src/scenario/wire.ts';
import type { Simulator } from '../src/simulator/server.ts';
import {
  basicAuth,
  clientFor,
  closedPort,
  MODEL_ID,
  pollJob,
  startSimulator,
  TEST_KEY,
  TEST_SECRET,
  wanBody,
} from './helpers/sim-harness.ts';

/** Runs `action`, expects a ScenarioError, and checks that its message leaks no credential. */
async function scenarioError(action: () => Promise<unknown>): Promise<ScenarioError> {
  const error = await action().then(
    () => {
      throw new Error('expected a ScenarioError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScenarioError);
  const message = (error as ScenarioError).message;
  for (const secret of [TEST_KEY, TEST_SECRET, basicAuth().slice(6), 'Signature=', 'Expires=', '?']) {
    expect(message).not.toContain(secret);
  }
  return error as ScenarioError;
}

let sim: Simulator;
let client: ScenarioClient;
let workDir: string;
let media: LocalMediaStorage;
const observed: Array<{ route: string; outcome: string }> = [];

beforeAll(async () => {
  sim = await startSimulator({ jobSeconds: 0.5 });
  client = clientFor(sim, { observer: ({ route, outcome }) => observed.push({ route, outcome }) });
  workDir = await mkdtemp(join(tmpdir(), 'scenario-client-'));
  media = new LocalMediaStorage(workDir);
});
afterAll(async () => {
  await sim.stop();
  await rm(workDir, { recursive: true, force: true });
});
afterEach(() => {
  sim.faults.reset();
  observed.length = 0;
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const leftoverTempFiles = async () => (await readdir(workDir)).filter((name) => name.includes('.part-'));
/** Streams a download into `storage` under `key`, as the mirror does. */
const downloadTo = (url: string, key: string, storage = media) =>
  client.download(url, async ({ chunks, contentType }) => ({ ...(await storage.put(key, chunks)), contentType }));

describe('a job from submit to downloaded video', () => {
  it('submits, polls to success, reads the asset and downloads the exact clip; an expired URL is 403 until re-read', async () => {
    const body = wanBody({ size: '720*1280', duration: 10 });
    const submitted = await client.submitJob(MODEL_ID, body);
    expect(submitted.job.jobId).toMatch(/^job_[A-Za-z0-9]{24}$/);
    expect(submitted.job.status).toBe('queued');
    expect(submitted.job.jobType).toBe('custom');
    expect(submitted.job.input).toEqual(body);
    expect(submitted.creativeUnitsCost).toBe(100);
    expect(submitted.job.createdAt).toBeTypeOf('number');

    const { job, seen } = await pollJob(() => client.getJob(submitted.job.jobId));
    expect(job.status).toBe('success');
    expect(seen[seen.length - 1]).toBe('success');
    expect(job.progress).toBe(1);
    expect(job.assetIds).toHaveLength(1);
    expect(job.updatedAt).toBeGreaterThanOrEqual(job.createdAt!);

    const asset = await client.getAsset(job.assetIds[0]!);
    const clip = sim.media.clipFor('720*1280', 10)!;
    expect(asset).toMatchObject({ kind: 'video', mimeType: 'video/mp4', status: 'success' });
    expect(asset).toMatchObject({ size: clip.bytes.length, width: 720, height: 1280, duration: 10, frameRate: 24 });
    expect(asset.thumbnailUrl).toMatch(/\.jpg$/);

    const downloaded = await downloadTo(asset.url!, 'video.mp4');
    expect(downloaded).toEqual({ bytes: clip.bytes.length, sha256: clip.sha256, contentType: 'video/mp4' });
    expect(sha256(await readFile(join(workDir, 'video.mp4')))).toBe(clip.sha256);

    const thumbnail = await downloadTo(asset.thumbnailUrl!, 'thumb.jpg');
    expect(thumbnail.sha256).toBe(clip.thumbnail.sha256);

    sim.faults.expireAssetUrls();
    const expired = await scenarioError(() => downloadTo(asset.url!, 'expired.mp4'));
    expect(expired).toMatchObject({ kind: 'http', status: 403, route: 'download' });
    await expect(stat(join(workDir, 'expired.mp4'))).rejects.toThrow();

    const fresh = await client.getAsset(asset.id);
    expect(fresh.url).not.toBe(asset.url);
    const again = await downloadTo(fresh.url!, 'again.mp4');
    expect(again.sha256).toBe(clip.sha256);
    expect(await leftoverTempFiles()).toEqual([]);

    expect(observed.map((o) => o.route)).toContain('download');
    expect(observed.find((o) => o.route === 'download' && o.outcome === '4xx')).toBeDefined();
    expect(observed.every((o) => !o.route.includes('/'))).toBe(true);
  });

  it('keeps unknown statuses as they are and goes on', async () => {
    // A slower simulator: its unknown-status window (30 % of the run) is wide enough to be seen under load.
    const slow = await startSimulator({ jobSeconds: 2 });
    try {
      const slowClient = clientFor(slow);
      const { job: created } = await slowClient.submitJob(MODEL_ID, wanBody({ prompt: 'a glacier [sim:status=thinking]' }));
      const read = () => slowClient.getJob(created.jobId);
      const { job } = await pollJob(read, (j) => j.status === 'thinking', { intervalMs: 20 });
      expect(job.jobId).toBe(created.jobId);
      const { seen } = await pollJob(read, (j) => j.status === 'in-progress', { intervalMs: 20 });
      expect(seen).toEqual(['thinking', 'in-progress']);
    } finally {
      await slow.stop();
    }
  });

  it('reports a provider failure with its error and hint', async () => {
    const { job: created } = await client.submitJob(MODEL_ID, wanBody({ prompt: 'a storm [sim:fail]' }));
    const { job } = await pollJob(() => client.getJob(created.jobId));
    expect(job.status).toBe('failure');
    expect(job.error).toMatch(/failure/i);
    expect(job.hint).toBeTruthy();
    expect(job.assetIds).toEqual([]);
    expect(job.progress).toBeGreaterThan(0);
    expect(job.progress).toBeLessThan(1);
  });

  it('pages through the job list, newest first, and filters by status', async () => {
    const fresh = await startSimulator({ jobSeconds: 0.5 });
    try {
      const freshClient = clientFor(fresh);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await freshClient.submitJob(MODEL_ID, wanBody({ seed: i }))).job.jobId);
      const pages: string[][] = [];
      let token: string | null = null;
      do {
        const page = await freshClient.listJobs({ pageSize: 2, paginationToken: token });
        pages.push(page.jobs.map((j) => j.jobId));
        token = page.nextPaginationToken;
      } while (token !== null);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual([...ids].reverse());

      expect((await freshClient.listJobs({ pageSize: 10, status: 'success' })).jobs).toEqual([]);
      const queued = await freshClient.listJobs({ pageSize: 10, status: 'queued' });
      expect(queued.jobs.length).toBeGreaterThan(0);
      expect(queued.jobs.every((j) => j.status === 'queued')).toBe(true);
    } finally {
      await fresh.stop();
    }
  });

  it('removes U+0000 from upstream text, which PostgreSQL could not store', async () => {
    const { job: created } = await client.submitJob(MODEL_ID, wanBody());
    const raw = (await client.getJob(created.jobId)).raw as Record<string, unknown>;
    sim.faults.respondWith('getJob', { status: 200, body: { job: { ...raw, status: 'in-\u0000progress', nested: ['a\u0000b'] } } });
    const job = await client.getJob(created.jobId);
    expect(job.status).toBe('in-progress');
    expect((job.raw as { nested: string[] }).nested).toEqual(['ab']);
    expect(JSON.stringify(job.raw)).not.toContain('\\u0000');
  });

  it('accepts any 2xx, such as the 269 Scenario sometimes sends', async () => {
    const { job: created } = await client.submitJob(MODEL_ID, wanBody());
    sim.faults.respondWith('getJob', { status: 269 });
    expect((await client.getJob(created.jobId)).jobId).toBe(created.jobId);
    expect(sim.stats.requests.getJob?.['269']).toBe(1);
  });
});

describe('upstream refusals become http ScenarioErrors with upstream reasons', () => {
  it('401 on bad credentials', async () => {
    const anonymous = new ScenarioClient({ baseUrl: sim.url, apiKey: TEST_KEY, apiSecret: '' });
    const error = await scenarioError(() => anonymous.getJob('job_x'));
    expect(error).toMatchObject({ kind: 'http', status: 401, route: 'getJob' });
    expect(error.reason).toMatch(/Unauthorized/);
  });

  it('400 with the reason of the body', async () => {
    const error = await scenarioError(() => client.submitJob(MODEL_ID, wanBody({ prompt: '' })));
    expect(error).toMatchObject({ kind: 'http', status: 400, reason: 'Input prompt is required', route: 'submit' });
    expect(error.notSent).toBe(false);
  });

  it('404 for an unknown model and an unknown job', async () => {
    expect(await scenarioError(() => client.submitJob('model_nope', wanBody()))).toMatchObject({ status: 404 });
    expect(await scenarioError(() => client.getJob('job_000000000000000000000000'))).toMatchObject({ status: 404, reason: 'Job not found' });
  });

  it('refuses to cancel a custom job with 400', async () => {
    const { job } = await client.submitJob(MODEL_ID, wanBody());
    const error = await scenarioError(() => client.cancelJob(job.jobId));
    expect(error).toMatchObject({ kind: 'http', status: 400, route: 'cancel', reason: 'Cannot cancel this type of job. Action not permitted.' });
  });

  it('429 carries Retry-After (seconds) and details; observer sees 429', async () => {
    sim.faults.respondWith('submit', { status: 429, retryAfterSeconds: 2 });
    const error = await scenarioError(() => client.submitJob(MODEL_ID, wanBody()));
    expect(error).toMatchObject({ kind: 'http', status: 429, retryAfterMs: 2000 });
    expect(error.details).toEqual({ actionName: 'generate', actionLimit: 16 });
    expect(observed).toContainEqual({ route: 'submit', outcome: '429' });
  });

  it('429 from the real per-team concurrency cap', async () => {
    const small = await startSimulator({ concurrencyLimit: 1 });
    try {
      const smallClient = clientFor(small);
      await smallClient.submitJob(MODEL_ID, wanBody({ prompt: 'long one [sim:never]' }));
      const error = await scenarioError(() => smallClient.submitJob(MODEL_ID, wanBody()));
      expect(error).toMatchObject({ status: 429, details: { actionName: 'generate', actionLimit: 1 } });
      expect(small.stats.submits).toBe(1);
    } finally {
      await small.stop();
    }
  });

  it('retry-after-ms, HTTP-date Retry-After and remainingSeconds', async () => {
    sim.faults.respondWith('getJob', { status: 503, headers: { 'retry-after-ms': '1500' } });
    expect(await scenarioError(() => client.getJob('job_x'))).toMatchObject({ status: 503, retryAfterMs: 1500 });
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    sim.faults.respondWith('getJob', { status: 503, headers: { 'retry-after': inTenSeconds } });
    const dated = await scenarioError(() => client.getJob('job_x'));
    expect(dated.retryAfterMs).toBeGreaterThan(7000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(10_000);
    sim.faults.respondWith('getJob', { status: 429, body: { message: 'cool down', remainingSeconds: 42 } });
    expect(await scenarioError(() => client.getJob('job_x'))).toMatchObject({ reason: 'cool down', retryAfterMs: 42_000 });
    expect(observed.filter((o) => o.route === 'getJob').map((o) => o.outcome)).toEqual(['5xx', '5xx', '429']);
  });
});

describe('transport failures are classified', () => {
  it('refused: nothing listens on the port', async () => {
    const port = await closedPort();
    const events: string[] = [];
    const nowhere = new ScenarioClient({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      apiKey: TEST_KEY,
      apiSecret: TEST_SECRET,
      observer: (e) => events.push(e.outcome),
    });
    const error = await scenarioError(() => nowhere.submitJob(MODEL_ID, wanBody()));
    expect(error).toMatchObject({ kind: 'refused', route: 'submit' });
    expect(error.notSent).toBe(true);
    expect(events).toEqual(['refused']);
  });

  it('network: the connection drops after the submit was processed, and the job exists', async () => {
    const before = sim.stats.submits;
    sim.faults.dropConnection('submit', { when: 'after' });
    const body = wanBody({ seed: 777_001 });
    const error = await scenarioError(() => client.submitJob(MODEL_ID, body));
    expect(error).toMatchObject({ kind: 'network', route: 'submit' });
    expect(error.notSent).toBe(false);
    const stats = sim.stats;
    expect(stats.submits).toBe(before + 1);
    expect(stats.jobs.some((j) => j.input.seed === 777_001)).toBe(true);
    expect(stats.requests.submit?.dropped).toBeGreaterThanOrEqual(1);
    expect(observed).toContainEqual({ route: 'submit', outcome: 'network' });
  });

  it('network: the connection drops before processing, and no job exists', async () => {
    const before = sim.stats.submits;
    sim.faults.dropConnection('submit', { when: 'before' });
    expect(await scenarioError(() => client.submitJob(MODEL_ID, wanBody()))).toMatchObject({ kind: 'network' });
    expect(sim.stats.submits).toBe(before);
  });

  it('timeout: the request hangs past timeoutMs', async () => {
    sim.faults.hang('getJob');
    const impatient = clientFor(sim, { timeoutMs: 200 });
    const started = Date.now();
    const error = await scenarioError(() => impatient.getJob('job_x'));
    expect(error).toMatchObject({ kind: 'timeout', route: 'getJob' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('invalid: a 2xx that is not JSON, or JSON without the envelope', async () => {
    sim.faults.respondWith('getJob', { status: 200, body: '<html>maintenance</html>' });
    expect(await scenarioError(() => client.getJob('job_x'))).toMatchObject({ kind: 'invalid', route: 'getJob' });
    sim.faults.respondWith('getAsset', { status: 200, body: { assets: [] } });
    expect(await scenarioError(() => client.getAsset('asset_x'))).toMatchObject({ kind: 'invalid' });
    sim.faults.respondWith('listJobs', { status: 200, body: { jobs: [{ nope: true }] } });
    expect(await scenarioError(() => client.listJobs({ pageSize: 5 }))).toMatchObject({ kind: 'invalid' });
    expect(observed.map((o) => o.outcome)).toEqual(['invalid', 'invalid', 'invalid']);
  });
});

describe('downloads', () => {
  async function finishedAsset() {
    const { job } = await client.submitJob(MODEL_ID, wanBody({ size: '1920*1080' }));
    const { job: done } = await pollJob(() => client.getJob(job.jobId));
    return client.getAsset(done.assetIds[0]!);
  }

  it('a transfer cut mid-body is a network error and leaves no file behind', async () => {
    const asset = await finishedAsset();
    sim.faults.truncateBody('download');
    expect(await scenarioError(() => downloadTo(asset.url!, 'cut.mp4'))).toMatchObject({ kind: 'network', route: 'download' });
    await expect(stat(join(workDir, 'cut.mp4'))).rejects.toThrow();
    expect(await leftoverTempFiles()).toEqual([]);
  });

  it('a tampered signature is 403; errors of the consumer, a local write error among them, pass through unchanged', async () => {
    const asset = await finishedAsset();
    const tampered = asset.url!.replace(/Signature=[^&]+/, 'Signature=AAAA');
    expect(await scenarioError(() => downloadTo(tampered, 'bad.mp4'))).toMatchObject({ status: 403 });

    const notADirectory = join(workDir, 'not-a-directory');
    await writeFile(notADirectory, 'a file where the storage root should be');
    const error = await downloadTo(asset.url!, 'videos/x.mp4', new LocalMediaStorage(notADirectory)).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ScenarioError);
    expect(error).toBeInstanceOf(MediaStorageError);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toMatch(/^(ENOTDIR|EEXIST)$/);

    const mine = new Error('the consumer gave up');
    const midway = client.download(asset.url!, async ({ chunks }) => {
      for await (const _ of chunks) throw mine;
    });
    await expect(midway).rejects.toBe(mine);
  });

  it('a consumer that reads only part of the body, or none, ends the transfer', async () => {
    const asset = await finishedAsset();
    const first = await client.download(asset.url!, async ({ chunks }) => {
      for await (const chunk of chunks) return chunk.byteLength;
      return 0;
    });
    expect(first).toBeGreaterThan(0);
    expect(await client.download(asset.url!, async ({ contentType }) => contentType)).toBe('video/mp4');
    expect(observed.filter((o) => o.route === 'download').map((o) => o.outcome)).toEqual(['2xx', '2xx']);
  });
});

describe('uploads', () => {
  it('runs the four steps and returns the imported audio asset, usable as the audio input', async () => {
    const bytes = randomBytes(4000);
    const assetId = await client.uploadFile({ fileName: 'voice.mp3', contentType: 'audio/mpeg', bytes, kind: 'audio' });
    expect(assetId).toMatch(/^asset_/);
    const asset = await client.getAsset(assetId);
    expect(asset).toMatchObject({ kind: 'audio', mimeType: 'audio/mpeg', size: 4000 });
    const copy = await downloadTo(asset.url!, 'voice.mp3');
    expect(copy.sha256).toBe(sha256(bytes));
    const { job } = await client.submitJob(MODEL_ID, wanBody({ audio: assetId }));
    expect(job.input?.audio).toBe(assetId);
    expect(observed.map((o) => o.route).slice(0, 4)).toEqual(['uploadCreate', 'uploadPart', 'uploadComplete', 'uploadGet']);
  });

  it('splits a large file into 5 MiB parts', async () => {
    expect(planParts(1)).toEqual({ partSize: 5 * 1024 * 1024, partCount: 1 });
    expect(planParts(11 * 1024 * 1024).partCount).toBe(3);
    const bytes = randomBytes(11 * 1024 * 1024);
    const assetId = await client.uploadFile({ fileName: 'long.wav', contentType: 'audio/wav', bytes, kind: 'audio' });
    expect((await client.getAsset(assetId)).size).toBe(bytes.length);
    expect(observed.filter((o) => o.route === 'uploadPart')).toHaveLength(3);
  });

  it('a failed import is an http 400 with the upload error message', async () => {
    const error = await scenarioError(() =>
      client.uploadFile({ fileName: 'broken [sim:fail].mp3', contentType: 'audio/mpeg', bytes: randomBytes(100), kind: 'audio' }),
    );
    expect(error).toMatchObject({ kind: 'http', status: 400 });
    expect(error.reason).toMatch(/Simulated import failure/);
  });

  it('an import slower than timeoutMs is a timeout', async () => {
    const slow = await startSimulator({ uploadImportMs: 10_000 });
    try {
      const error = await scenarioError(() =>
        clientFor(slow).uploadFile({ fileName: 'a.mp3', contentType: 'audio/mpeg', bytes: randomBytes(10), kind: 'audio' }, { timeoutMs: 700 }),
      );
      expect(error.kind).toBe('timeout');
    } finally {
      await slow.stop();
    }
  });
});

describe('wire readers', () => {
  const job = (extra: Record<string, unknown>) => ({ jobId: 'job_1', status: 'queued', ...extra });

  it('normalises jobs: progress clamped, dates to epoch ms, unknown fields and statuses kept', () => {
    expect(toUpstreamJob(job({ progress: 1.7 }))!.progress).toBe(1);
    expect(toUpstreamJob(job({ progress: -2 }))!.progress).toBe(0);
    expect(toUpstreamJob(job({ progress: 'half' }))!.progress).toBe(0);
    const parsed = toUpstreamJob(
      job({
        status: 'dreaming',
        createdAt: '2026-11-20T10:00:00.120Z',
        updatedAt: 'not a date',
        metadata: { assetIds: ['asset_a', 7], error: 'boom', hint: 'retry', input: { prompt: 'x' } },
        somethingNew: true,
      }),
    )!;
    expect(parsed).toMatchObject({ status: 'dreaming', assetIds: ['asset_a'], error: 'boom', hint: 'retry', input: { prompt: 'x' } });
    expect(parsed.createdAt).toBe(Date.parse('2026-11-20T10:00:00.120Z'));
    expect(parsed.updatedAt).toBeNull();
    expect((parsed.raw as { somethingNew: boolean }).somethingNew).toBe(true);
    expect(toUpstreamJob({ status: 'queued' })).toBeNull();
  });

  it('normalises assets', () => {
    const asset = toUpstreamAsset({ id: 'asset_1', kind: 'video', url: 'u', properties: { size: 10, frameRate: 24 }, thumbnail: { url: 't' } })!;
    expect(asset).toMatchObject({ size: 10, frameRate: 24, width: null, thumbnailUrl: 't' });
  });

  it('reads reasons and retry hints the documented ways', () => {
    expect(reasonOf({ reason: 'r', message: 'm' })).toBe('r');
    expect(reasonOf({ message: 'm' })).toBe('m');
    expect(reasonOf({ error: { message: 'nested' } })).toBe('nested');
    expect(reasonOf({ detail: 'd' })).toBe('d');
    expect(reasonOf('text')).toBeNull();
    expect(retryAfterMsOf(new Headers({ 'retry-after': '1.5' }), null)).toBe(1500);
    expect(retryAfterMsOf(new Headers(), { remainingSeconds: 3 })).toBe(3000);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }), null, Date.parse('2015-10-21T07:27:00Z'))).toBe(60_000);
    expect(retryAfterMsOf(new Headers(), {})).toBeNull();
  });
});
