// `npm run media:migrate-to-s3` as a process against a real S3-protocol server (s3rver): MEDIA_DIR's media reach the
// bucket byte for byte, a second run copies nothing, leftovers of unfinished writes stay behind, failures exit 1.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMedia } from '../src/media/storage/index.ts';
import { runTsx } from './helpers/run-cli.ts';
import { startS3, type TestS3 } from './helpers/s3.ts';

const SCRIPT = 'src/cli/media-migrate-to-s3.ts';
const PREFIX = 'gw/';

let s3: TestS3;
let dir: string;
let mediaDir: string;

beforeAll(async () => {
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'media-migrate-'));
  mediaDir = join(dir, 'media');
});
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const files: Record<string, Buffer> = {
  'videos/job-1/0.mp4': randomBytes(300_000),
  'videos/job-1/0.jpg': randomBytes(2_000),
  'audio/a1.wav': randomBytes(50_000),
};

async function writeMedia(key: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(join(mediaDir, key)), { recursive: true });
  await writeFile(join(mediaDir, key), bytes);
}

function migrate(env: Record<string, string> = {}) {
  return runTsx(
    SCRIPT,
    [],
    {
      MEDIA_DIR: mediaDir,
      MEDIA_S3_BUCKET: s3.bucket,
      MEDIA_S3_ENDPOINT: s3.endpoint,
      MEDIA_S3_PREFIX: PREFIX,
      MEDIA_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      ...env,
    },
    60_000,
  );
}

describe('npm run media:migrate-to-s3', () => {
  it('copies every media file into the bucket under its key, checked, and skips them on a second run', async () => {
    for (const [key, bytes] of Object.entries(files)) await writeMedia(key, bytes);
    await writeMedia('videos/job-2/0.mp4.part-abc', randomBytes(100));

    const first = await migrate();
    expect([first.code, first.stdout]).toEqual([0, 'media:migrate-to-s3: 3 copied, 0 skipped, 0 failed\n']);
    expect(await s3.keys()).toEqual(Object.keys(files).map((key) => PREFIX + key).sort());
    const bucket = s3.storage({ prefix: PREFIX });
    for (const [key, bytes] of Object.entries(files)) expect([key, await readMedia(bucket, key)]).toEqual([key, bytes]);

    const second = await migrate();
    expect([second.code, second.stdout]).toEqual([0, 'media:migrate-to-s3: 0 copied, 3 skipped, 0 failed\n']);

    // A file that changed since (same size, other bytes) is copied again.
    files['audio/a1.wav'] = randomBytes(50_000);
    await writeMedia('audio/a1.wav', files['audio/a1.wav']);
    const third = await migrate();
    expect(third.stdout).toBe('media:migrate-to-s3: 1 copied, 2 skipped, 0 failed\n');
    expect(await readMedia(bucket, 'audio/a1.wav')).toEqual(files['audio/a1.wav']);
  });

  it('counts what the bucket does not take, copies the rest and exits 1', async () => {
    // s3rver keeps an object in a file named after the key's last segment and a suffix: 250 characters are too many.
    const refused = `audio/${'a'.repeat(246)}.mp3`;
    await writeMedia(refused, randomBytes(10));
    await writeMedia('videos/job-3/0.mp4', randomBytes(1000));
    const run = await migrate();
    // The three skipped are the first test's.
    expect([run.code, run.stdout]).toEqual([1, 'media:migrate-to-s3: 1 copied, 3 skipped, 1 failed\n']);
    expect(run.stderr).toContain(`failed ${refused}: media storage could not `);
    await rm(join(mediaDir, refused));
  });

  it('says in one line why it cannot start: no bucket named, a missing bucket, a missing MEDIA_DIR', async () => {
    const unnamed = await migrate({ MEDIA_S3_BUCKET: '' });
    expect([unnamed.code, unnamed.stdout]).toEqual([1, '']);
    expect(unnamed.stderr).toContain('MEDIA_S3_BUCKET must name the bucket to copy MEDIA_DIR into\n');

    const missing = await migrate({ MEDIA_S3_BUCKET: 'no-such-bucket' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`media bucket no-such-bucket does not exist at ${s3.endpoint}\n`);

    const nowhere = await migrate({ MEDIA_DIR: join(dir, 'nowhere') });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain(`MEDIA_DIR ${join(dir, 'nowhere')} does not exist\n`);
  });
});
