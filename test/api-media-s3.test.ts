// Media in an S3-compatible bucket (CONTRACT §10), end to end: a whole gateway with MEDIA_S3_BUCKET against a real
// S3-protocol server on 127.0.0.1 through the real AWS SDK. A job's video, thumbnail and an uploaded audio land in the
// bucket; each URL mode serves them with Range; deleteVideoJob removes the objects.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, waitFor } from './helpers/api-harness.ts';
import { fixture, uploadAudio } from './helpers/api-upload.ts';
import { startS3, type TestS3 } from './helpers/s3.ts';

const JOB = `id status videos { url urlExpiresAt thumbnailUrl byteSize }`;

let s3: TestS3;
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  s3 = await startS3('gateway-media');
  // The SDK's usual credential chain, as in production.
  process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
});
afterAll(async () => {
  await s3?.stop();
  if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  else process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
  if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  else process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
});

function bucketEnv(extra: Record<string, string>): Record<string, string> {
  return {
    MEDIA_S3_BUCKET: s3.bucket,
    MEDIA_S3_ENDPOINT: s3.endpoint,
    MEDIA_S3_FORCE_PATH_STYLE: 'true',
    MEDIA_S3_PREFIX: 'gw/',
    ...extra,
  };
}

async function finishedJob(gw: Gateway, prompt: string) {
  const created = await gw.generate({ prompt });
  expect(created.__typename).toBe('GenerateVideoSuccess');
  await gw.waitForStatus(created.job.id, ['SUCCEEDED']);
  return gw.job(created.job.id, 'alice', JOB);
}

const sha256 = (bytes: ArrayBuffer) => createHash('sha256').update(Buffer.from(bytes)).digest('hex');

describe.each([
  { mode: 'presigned', env: {} as Record<string, string> },
  { mode: 'gateway', env: { MEDIA_URL_MODE: 'gateway' } },
  { mode: 'public', env: {} as Record<string, string> },
])('media in a bucket, $mode URLs', ({ mode, env }) => {
  let gw: Gateway;

  beforeAll(async () => {
    // s3rver answers unsigned GETs: the bucket's own URL stands for a public bucket or a CDN in front of it.
    const extra = mode === 'public' ? { MEDIA_PUBLIC_BASE_URL: `${s3.endpoint}/${s3.bucket}` } : env;
    gw = await Gateway.start(bucketEnv(extra));
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('stores the outputs in the bucket and serves them with Range, the same URL within its window', async () => {
    const job = await finishedJob(gw, `a lighthouse, ${mode}`);
    const [video] = job.videos;
    const jobId = job.id;
    const keys = await s3.keys();
    const local = keys.filter((key) => key.startsWith('gw/videos/'));
    expect(local.length).toBeGreaterThanOrEqual(2); // video and thumbnail

    const url = new URL(video.url);
    if (mode === 'presigned') expect(url.searchParams.get('X-Amz-Signature')).toBeTruthy();
    if (mode === 'gateway') expect(url.pathname).toMatch(/^\/media\/videos\//);
    if (mode === 'public') expect(video.url).toMatch(new RegExp(`^${s3.endpoint}/${s3.bucket}/gw/videos/`));
    expect(video.urlExpiresAt === null).toBe(mode === 'public');

    const whole = await fetch(video.url);
    expect(whole.status).toBe(200);
    const bytes = await whole.arrayBuffer();
    expect(bytes.byteLength).toBe(video.byteSize);
    const ranged = await fetch(video.url, { headers: { range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(Buffer.from(bytes).subarray(0, 100));
    expect((await fetch(video.thumbnailUrl)).status).toBe(200);
    if (mode === 'gateway') {
      expect(whole.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
      expect((await fetch(video.url, { headers: { 'if-none-match': whole.headers.get('etag')! } })).status).toBe(304);
    }

    const again = await gw.job(jobId, 'alice', JOB);
    expect(again.videos[0].url).toBe(video.url);

    const deleted = await gw.data(`mutation($id: ID!) { deleteVideoJob(id: $id) { __typename } }`, { id: jobId });
    expect(deleted.deleteVideoJob.__typename).toBe('DeleteVideoJobSuccess');
    const left = await s3.keys();
    for (const key of local) expect(left).not.toContain(key);
  });

  it.runIf(mode === 'presigned')('keeps uploaded audio in the bucket', async () => {
    const { token } = await gw.login('alice');
    const uploaded = await uploadAudio(gw.url, token, fixture('tone-4s.wav'), 'tone.wav');
    expect(uploaded.body.data.uploadAudio.__typename).toBe('UploadAudioSuccess');
    await waitFor(async () => (await s3.keys()).some((key) => key.startsWith('gw/audio/')), 5_000, 'the audio object');
    const res = await fetch(uploaded.body.data.uploadAudio.audio.url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(fixture('tone-4s.wav'));
  });
});

describe('a download cut mid-stream into the bucket', () => {
  it('leaves nothing under the key, is retried, and the job succeeds with the whole video', async () => {
    const gw = await Gateway.start(bucketEnv({ MEDIA_S3_PREFIX: 'cut/' }));
    try {
      const before = await s3.keys();
      await gw.fault({ type: 'truncate', route: 'download', count: 1 });
      const job = await finishedJob(gw, 'a storm over the sea, cut once');
      const events = await gw.job(job.id, 'alice', 'events { message }');
      expect(events.events.some((event: { message: string | null }) => event.message === 'Finished upstream; storing the video')).toBe(true);
      const stored = (await s3.keys()).filter((key) => !before.includes(key));
      // The video and its thumbnail, and no staging object of the cut attempt.
      expect(stored.filter((key) => key.startsWith(`cut/videos/`)).map((key) => key.replace(/^cut\/videos\/[^/]+\//, ''))).toEqual(['0.jpg', '0.mp4']);
      const res = await fetch(job.videos[0].url);
      expect((await res.arrayBuffer()).byteLength).toBe(job.videos[0].byteSize);
      const simulatorStats = await (await fetch(`${gw.simulatorOrigin}/_sim/stats`)).json();
      expect(simulatorStats.requests.download.truncated).toBe(1);
    } finally {
      await gw.stop();
    }
  });
});

describe('a bucket that cannot be used', () => {
  it('stops the start with one line naming the bucket', async () => {
    const started = Gateway.start({ MEDIA_S3_BUCKET: 'no-such-bucket', MEDIA_S3_ENDPOINT: s3.endpoint, MEDIA_S3_FORCE_PATH_STYLE: 'true' });
    await expect(started).rejects.toThrow(/^media bucket no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+$/);
  });
});
