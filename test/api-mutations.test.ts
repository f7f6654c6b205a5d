// Every mutation and every member of its result union, against a whole gateway and the real simulator.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localId, toGlobalId } from '../src/schema/global-id.ts';
import { Gateway, JOB_FIELDS } from './helpers/api-harness.ts';
import { fixture, uploadAudio } from './helpers/api-upload.ts';

const GENERATE = `mutation($input: GenerateVideoInput!) { generateVideo(input: $input) {
  __typename
  ... on GenerateVideoSuccess { deduplicated job { ${JOB_FIELDS} seed enablePromptExpansion idempotencyKey audio { id fileName } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on QuotaExceededError { limit retryAfterSeconds }
  ... on RateLimitedError { retryAfterSeconds }
  ... on IdempotencyConflictError { existingJob { id prompt } }
  ... on UpstreamError { retryable }
} }`;
const CANCEL = `mutation($id: ID!) { cancelVideoJob(id: $id) {
  __typename
  ... on CancelVideoJobSuccess { job { id status version } }
  ... on Error { code message }
  ... on NotCancelableError { job { id status } }
} }`;
const DELETE = `mutation($id: ID!) { deleteVideoJob(id: $id) {
  __typename
  ... on DeleteVideoJobSuccess { deletedId }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } }
} }`;

let gw: Gateway;

async function generate(input: Record<string, unknown>, as = 'alice') {
  return (await gw.data(GENERATE, { input }, as)).generateVideo;
}
async function cancel(id: string, as = 'alice') {
  return (await gw.data(CANCEL, { id }, as)).cancelVideoJob;
}
async function remove(id: string, as = 'alice') {
  return (await gw.data(DELETE, { id }, as)).deleteVideoJob;
}

beforeAll(async () => {
  gw = await Gateway.start({ MAX_ACTIVE_JOBS_PER_USER: '2', GENERATE_RATE_LIMIT_PER_MINUTE: '3' });
});
afterAll(async () => {
  await gw?.stop();
});

describe('generateVideo', () => {
  it('creates a job with the contract defaults (explicit null = default) and a drawn seed', async () => {
    const result = await generate({ prompt: 'A fox in the snow', size: null, durationSeconds: null, enablePromptExpansion: null }, 'gen');
    expect(result).toMatchObject({
      __typename: 'GenerateVideoSuccess',
      deduplicated: false,
      job: { status: 'PENDING', version: 1, size: 'LANDSCAPE_720P', durationSeconds: 5, enablePromptExpansion: true, audio: null },
    });
    expect(Number.isInteger(result.job.seed)).toBe(true);
    expect(result.job.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const done = await gw.waitForStatus(result.job.id, ['SUCCEEDED'], 'gen');
    expect(done.version).toBeGreaterThan(1);
  });

  it('returns the same job for a repeated idempotency key, and IdempotencyConflictError for other parameters', async () => {
    const first = await generate({ prompt: 'Waves at dusk', idempotencyKey: 'key-1', seed: 7 }, 'idem');
    const again = await generate({ prompt: 'Waves at dusk', idempotencyKey: 'key-1', seed: 7, size: 'LANDSCAPE_720P' }, 'idem');
    expect(again).toMatchObject({ __typename: 'GenerateVideoSuccess', deduplicated: true, job: { id: first.job.id } });
    const conflict = await generate({ prompt: 'Waves at dawn', idempotencyKey: 'key-1' }, 'idem');
    expect(conflict).toMatchObject({
      __typename: 'IdempotencyConflictError',
      code: 'IDEMPOTENCY_CONFLICT',
      existingJob: { id: first.job.id, prompt: 'Waves at dusk' },
    });
  });

  it('names every bad field in ValidationError and creates nothing', async () => {
    const result = await generate({ prompt: '   ', negativePrompt: 'x'.repeat(501), durationSeconds: 7, seed: -1 }, 'invalid');
    expect(result.__typename).toBe('ValidationError');
    expect(result.code).toBe('VALIDATION_FAILED');
    expect(result.fieldErrors.map((e: any) => e.path)).toEqual([
      ['input', 'prompt'],
      ['input', 'negativePrompt'],
      ['input', 'durationSeconds'],
      ['input', 'seed'],
    ]);
    const tooLong = await generate({ prompt: 'y'.repeat(801) }, 'invalid');
    expect(tooLong.fieldErrors).toEqual([{ path: ['input', 'prompt'], message: expect.stringContaining('800') }]);
    expect((await gw.data('{ videoJobs { totalCount } }', {}, 'invalid')).videoJobs.totalCount).toBe(0);
  });

  it('refuses a job over the quota of unfinished jobs with QuotaExceededError (a repeated key still answers)', async () => {
    const a = await generate({ prompt: 'quota one', idempotencyKey: 'q1' }, 'quota');
    await generate({ prompt: 'quota two' }, 'quota');
    const third = await generate({ prompt: 'quota three' }, 'quota');
    expect(third).toMatchObject({ __typename: 'QuotaExceededError', code: 'QUOTA_EXCEEDED', limit: 2 });
    expect(third.retryAfterSeconds).toBeGreaterThan(0);
    expect(third.retryAfterSeconds === null || Number.isInteger(third.retryAfterSeconds)).toBe(true);
    const repeated = await generate({ prompt: 'quota one', idempotencyKey: 'q1' }, 'quota');
    expect(repeated).toMatchObject({ __typename: 'GenerateVideoSuccess', deduplicated: true, job: { id: a.job.id } });
  });

  it('refuses a job over the per-minute rate with RateLimitedError', async () => {
    const ids: string[] = [];
    for (const prompt of ['rate one', 'rate two']) ids.push((await generate({ prompt }, 'rate')).job.id);
    for (const id of ids) await gw.waitForStatus(id, ['SUCCEEDED'], 'rate');
    expect((await generate({ prompt: 'rate three' }, 'rate')).__typename).toBe('GenerateVideoSuccess');
    const fourth = await generate({ prompt: 'rate four' }, 'rate');
    expect(fourth).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
    expect(fourth.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('answers NotFoundError for an unknown, foreign or malformed audioId', async () => {
    const { token } = await gw.login('bob');
    const bobAudio = await uploadAudio(gw.url, token, fixture('tone-4s.wav'), 'bob.wav');
    expect(bobAudio.body.data.uploadAudio.__typename).toBe('UploadAudioSuccess');
    for (const audioId of [
      bobAudio.body.data.uploadAudio.audio.id,
      toGlobalId('AudioAsset', '00000000-0000-0000-0000-000000000000'),
      toGlobalId('VideoJob', '00000000-0000-0000-0000-000000000000'),
      'not a global id',
    ]) {
      const result = await generate({ prompt: 'with audio', audioId }, 'audio-user');
      expect([audioId, result.__typename, result.code]).toEqual([audioId, 'NotFoundError', 'NOT_FOUND']);
    }
    // Bad input is still reported first.
    expect((await generate({ prompt: '', audioId: 'not a global id' }, 'audio-user')).__typename).toBe('ValidationError');
  });
});

describe('uploadAudio', () => {
  it('stores an audio file sent as a multipart request and lets a job use it', async () => {
    const { token } = await gw.login('alice');
    const bytes = fixture('tone-4s.wav');
    const res = await uploadAudio(gw.url, token, bytes, 'tone 4s.wav');
    expect(res.status).toBe(200);
    const audio = res.body.data.uploadAudio.audio;
    expect(res.body.data.uploadAudio.__typename).toBe('UploadAudioSuccess');
    expect(audio).toMatchObject({ fileName: 'tone 4s.wav', mimeType: 'audio/wav', byteSize: bytes.length });
    expect(audio.durationSeconds).toBeCloseTo(4, 1);
    // The stored bytes come back from its signed URL.
    const download = await fetch(audio.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    const job = await generate({ prompt: 'music video', audioId: audio.id }, 'alice');
    expect(job.job.audio).toEqual({ id: audio.id, fileName: 'tone 4s.wav' });
    const node = await gw.data(`query($id: ID!) { node(id: $id) { id ... on AudioAsset { fileName } } }`, { id: audio.id });
    expect(node.node).toEqual({ id: audio.id, fileName: 'tone 4s.wav' });
    expect((await gw.data(`query($id: ID!) { node(id: $id) { id } }`, { id: audio.id }, 'bob')).node).toBeNull();
  });

  it('answers ValidationError naming the file for a too short clip or bytes that are not audio', async () => {
    const { token } = await gw.login('alice');
    for (const [bytes, name] of [
      [fixture('tone-2s.wav'), 'short.wav'],
      [Buffer.from('definitely not audio, just text'), 'fake.mp3'],
    ] as const) {
      const res = await uploadAudio(gw.url, token, bytes, name);
      expect(res.body.data.uploadAudio).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
      expect(res.body.data.uploadAudio.fieldErrors.map((e: any) => e.path)).toEqual([['file']]);
    }
  });

  it('refuses a file above 15 MB as ValidationError (input validation) and a body above 16 MB with 413', async () => {
    const { token } = await gw.login('alice');
    const big = await uploadAudio(gw.url, token, new Uint8Array(15 * 1024 * 1024 + 1), 'big.wav');
    expect(big.body.data.uploadAudio).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['file'], message: 'must be at most 15 MB' }] });
    const huge = await uploadAudio(gw.url, token, new Uint8Array(17 * 1024 * 1024), 'huge.wav');
    expect(huge.status).toBe(413);
  });

  it('accepts multipart requests for uploadAudio only', async () => {
    const { token } = await gw.login('alice');
    const res = await uploadAudio(gw.url, token, fixture('tone-4s.wav'), 'x.wav', 'query($file: File!) { viewer { id } }');
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    // And a File cannot come in a JSON body.
    const json = await gw.gql('mutation($file: File!) { uploadAudio(file: $file) { __typename } }', { file: 'abc' });
    expect(json.body.errors?.[0]?.message).toMatch(/multipart/);
  });
});

describe('cancelVideoJob', () => {
  it('cancels a job still waiting in the gateway', async () => {
    // Upstream busy: the job stays PENDING and is retried with backoff.
    await gw.fault({ type: 'respond', route: 'submit', status: 429, count: 1000 });
    try {
      const { job } = await generate({ prompt: 'wait for me' }, 'canceller');
      const result = await cancel(job.id, 'canceller');
      expect(result).toMatchObject({ __typename: 'CancelVideoJobSuccess', job: { id: job.id, status: 'CANCELED' } });
      expect(result.job.version).toBeGreaterThan(job.version);
    } finally {
      await gw.resetFaults();
    }
  });

  it('answers NotCancelableError for a finished job and for a job upstream will not cancel', async () => {
    const { job } = await generate({ prompt: 'finish first' }, 'canceller');
    await gw.waitForStatus(job.id, ['SUCCEEDED'], 'canceller');
    expect(await cancel(job.id, 'canceller')).toMatchObject({
      __typename: 'NotCancelableError',
      code: 'NOT_CANCELABLE',
      job: { id: job.id, status: 'SUCCEEDED' },
    });

    const running = (await generate({ prompt: 'runs for ever [sim:never]' }, 'canceller')).job;
    await gw.waitForStatus(running.id, ['IN_PROGRESS'], 'canceller');
    const refused = await cancel(running.id, 'canceller');
    expect(refused).toMatchObject({ __typename: 'NotCancelableError', code: 'NOT_CANCELABLE', job: { id: running.id, status: 'IN_PROGRESS' } });
    expect(refused.message).toMatch(/upstream/i);

    // Not terminal: deleting it is refused as bad input on `id`.
    const del = await remove(running.id, 'canceller');
    expect(del).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    expect(del.fieldErrors.map((e: any) => e.path)).toEqual([['id']]);
  });

  it("answers NotFoundError for an unknown id and for another user's job", async () => {
    const { job } = await generate({ prompt: 'mine only' }, 'owner');
    for (const [id, as] of [
      [job.id, 'bob'],
      [toGlobalId('VideoJob', '00000000-0000-0000-0000-000000000000'), 'owner'],
      ['garbage', 'owner'],
    ] as const) {
      expect(await cancel(id, as)).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      expect(await remove(id, as)).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect((await gw.job(job.id, 'owner')).id).toBe(job.id);
  });
});

describe('deleteVideoJob', () => {
  it('removes a finished job and its stored files', async () => {
    const { job } = await generate({ prompt: 'delete me' }, 'deleter');
    await gw.waitForStatus(job.id, ['SUCCEEDED'], 'deleter');
    const withVideo = await gw.job(job.id, 'deleter', 'videos { url }');
    expect((await fetch(withVideo.videos[0].url)).status).toBe(200);
    const jobDir = join(gw.config.mediaDir, 'videos', localId(job.id, 'VideoJob')!);
    expect(existsSync(jobDir)).toBe(true);

    expect(await remove(job.id, 'deleter')).toEqual({ __typename: 'DeleteVideoJobSuccess', deletedId: job.id });
    expect(await gw.job(job.id, 'deleter')).toBeNull();
    expect(existsSync(jobDir)).toBe(false);
    expect((await fetch(withVideo.videos[0].url)).status).toBe(404);
    expect(await remove(job.id, 'deleter')).toMatchObject({ __typename: 'NotFoundError' });
  });
});

describe('UpstreamError', () => {
  let refusing: Gateway;
  beforeAll(async () => {
    refusing = await Gateway.start();
  });
  afterAll(async () => {
    await refusing?.stop();
  });

  it('is returned, not retryable, when upstream refuses the credentials', async () => {
    const { token } = await refusing.login('alice');
    await refusing.fault({ type: 'respond', route: 'uploadCreate', status: 401, count: 1, body: { reason: 'Invalid credentials' } });
    const upload = await uploadAudio(refusing.url, token, fixture('tone-4s.wav'), 'tone.wav');
    expect(upload.body.data.uploadAudio).toMatchObject({ __typename: 'UpstreamError', code: 'UPSTREAM_ERROR', retryable: false });

    // The same refusal now answers every new job at once, before anything is stored.
    const result = (await refusing.data(GENERATE, { input: { prompt: 'no keys' } })).generateVideo;
    expect(result).toMatchObject({ __typename: 'UpstreamError', code: 'UPSTREAM_ERROR', retryable: false });
    expect((await refusing.data('{ videoJobs { totalCount } }')).videoJobs.totalCount).toBe(0);
  });
});
