// S3MediaStorage on a real S3-protocol server (s3rver) through the real AWS SDK (CONTRACT §10): the behaviour of the
// local storage where it applies, multipart streaming in bounded memory, the read-back check, bucket checks, presigned URLs.
import { createHash, randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mediaKeys, MediaStorageError, readMedia } from '../src/media/storage/index.ts';
import type { S3MediaStorage } from '../src/media/storage/s3.ts';
import { startS3, type TestS3 } from './helpers/s3.ts';

const MiB = 1024 * 1024;

let s3: TestS3;
let media: S3MediaStorage;
/** What `media` puts before its keys. */
let prefix: string;

beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});
beforeEach(async () => {
  // Every test starts from nothing under a prefix of its own.
  prefix = `t${randomBytes(4).toString('hex')}/`;
  media = s3.storage({ prefix });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** `total` bytes, `chunk` at a time, made as they are asked for; `onChunk` sees how many came before each. */
async function* generated(total: number, chunk: Uint8Array, onChunk: (before: number) => void = () => {}): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += chunk.length) {
    onChunk(sent);
    yield chunk;
  }
}

function sha256Of(total: number, chunk: Uint8Array): string {
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; sent += chunk.length) hash.update(chunk);
  return hash.digest('hex');
}

/** The bucket's keys under `prefix`, without it. */
async function keysUnder(): Promise<string[]> {
  return (await s3.keys()).filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
}

describe('put, stat, open', () => {
  it('stores bytes or a stream of chunks under prefix + key, with their size, sha256 and content type', async () => {
    const bytes = randomBytes(300_000);
    const key = mediaKeys.video('job-1', 0);
    expect(await media.put(key, chunked(bytes, 64 * 1024))).toEqual({ bytes: bytes.length, sha256: sha256(bytes) });
    expect(await media.stat(key)).toEqual({ size: bytes.length, sha256: sha256(bytes) });
    expect(await readMedia(media, key)).toEqual(bytes);
    expect(await keysUnder()).toEqual(['videos/job-1/0.mp4']);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}videos/job-1/0.mp4` }));
    expect([head.ContentType, head.Metadata]).toEqual(['video/mp4', { sha256: sha256(bytes) }]);

    const thumbnail = mediaKeys.thumbnail('job-1', 0);
    await media.put(thumbnail, new Uint8Array([1, 2, 3]));
    const thumbnailHead = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}${thumbnail}` }));
    expect(thumbnailHead.ContentType).toBe('image/jpeg');
    expect(await media.put(mediaKeys.audio('a1', 'wav'), new Uint8Array([]))).toEqual({ bytes: 0, sha256: sha256(new Uint8Array([])) });
    expect(await media.stat(mediaKeys.audio('a1', 'wav'))).toMatchObject({ size: 0 });
  });

  it('replaces what was under the key', async () => {
    await media.put('audio/x.mp3', new Uint8Array([1, 2, 3, 4]));
    await media.put('audio/x.mp3', new Uint8Array([9]));
    expect(await readMedia(media, 'audio/x.mp3')).toEqual(Buffer.from([9]));
    expect(await media.stat('audio/x.mp3')).toEqual({ size: 1, sha256: sha256(new Uint8Array([9])) });
  });

  it('opens a byte range, both ends inclusive', async () => {
    const bytes = randomBytes(1000);
    await media.put('videos/j/0.mp4', bytes);
    expect(await buffer((await media.open('videos/j/0.mp4', { start: 10, end: 19 }))!)).toEqual(bytes.subarray(10, 20));
    expect(await buffer((await media.open('videos/j/0.mp4', { start: 999, end: 999 }))!)).toEqual(bytes.subarray(999));
    expect(await buffer((await media.open('videos/j/0.mp4', { start: 0, end: 1 }))!)).toEqual(bytes.subarray(0, 2));
    expect(await buffer((await media.open('videos/j/0.mp4'))!)).toEqual(bytes);
    // Not `bytes=0-0` here: s3rver 3.7.1 takes its end 0 for "no end" and answers with the whole object.
  });

  it('finds nothing where there is no object: a missing key, a "directory", another prefix', async () => {
    expect(await media.stat('videos/none/0.mp4')).toBeNull();
    expect(await media.open('videos/none/0.mp4')).toBeNull();
    await media.put('videos/j/0.mp4', new Uint8Array([1]));
    expect(await media.stat('videos/j')).toBeNull();
    expect(await media.open('videos')).toBeNull();
    await expect(readMedia(media, 'videos/none/0.mp4')).rejects.toBeInstanceOf(MediaStorageError);
    expect(await s3.storage({ prefix: 'elsewhere/' }).stat('videos/j/0.mp4')).toBeNull();
  });

  it('reports a failing bucket as a MediaStorageError', async () => {
    const lost = s3.storage({ bucket: 'no-such-bucket' });
    const error = await lost.put('audio/x.mp3', new Uint8Array([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaStorageError);
    expect((error as Error).message).toContain('audio/x.mp3');
    await expect(lost.open('audio/x.mp3')).rejects.toBeInstanceOf(MediaStorageError);
  });
});

describe('streaming', () => {
  it('puts 20 MiB in parts, reading the body only as fast as parts are stored', async () => {
    const total = 20 * MiB;
    const chunk = randomBytes(64 * 1024);
    const partsBefore = s3.partsStored();
    let partsStoredAtLastChunk = -1;
    const body = generated(total, chunk, (before) => {
      if (before + chunk.length === total) partsStoredAtLastChunk = s3.partsStored() - partsBefore;
    });
    expect(await media.put('videos/big/0.mp4', body)).toEqual({ bytes: total, sha256: sha256Of(total, chunk) });
    // 8 MiB parts, two in flight: the last chunk is asked for only once the server has stored a part.
    expect(partsStoredAtLastChunk).toBeGreaterThanOrEqual(1);
    expect(s3.partsStored() - partsBefore).toBe(3);
    expect(await media.stat('videos/big/0.mp4')).toEqual({ size: total, sha256: sha256Of(total, chunk) });
    expect(await readMedia(media, 'videos/big/0.mp4', { start: total - 10, end: total - 1 })).toEqual(Buffer.from(chunk.subarray(-10)));
  });

  it('keeps memory well under the size of what it stores', async () => {
    const total = 96 * MiB;
    const chunk = randomBytes(64 * 1024);
    // A put before the measure: the first one grows the heap and the sockets whatever its size.
    await media.put('videos/warm/0.mp4', generated(10 * MiB, chunk));
    const before = process.memoryUsage().rss;
    let peak = before;
    const body = generated(total, chunk, () => (peak = Math.max(peak, process.memoryUsage().rss)));
    expect(await media.put('videos/huge/0.mp4', body)).toEqual({ bytes: total, sha256: sha256Of(total, chunk) });
    // Loosely: parts in flight take about 24 MiB; a buffered body would take 96.
    expect((peak - before) / MiB).toBeLessThan(48);
  });
});

describe('atomic writes', () => {
  it('a write whose body fails, before or after its first part, leaves no object; the body error passes unchanged', async () => {
    for (const size of [10_000, 9 * MiB]) {
      const broken = new Error('the source broke');
      async function* body(): AsyncGenerator<Uint8Array> {
        yield* generated(size, randomBytes(64 * 1024));
        throw broken;
      }
      await expect(media.put('videos/j/0.mp4', body())).rejects.toBe(broken);
      expect(await media.stat('videos/j/0.mp4')).toBeNull();
      expect(await keysUnder()).toEqual([]);
      // The key is free for the next attempt.
      await media.put('videos/j/0.mp4', new Uint8Array([1, 2]));
      expect(await readMedia(media, 'videos/j/0.mp4')).toEqual(Buffer.from([1, 2]));
      await media.remove('videos/j/0.mp4');
    }
  });

  it('a failed replacement keeps the old object whole', async () => {
    const old = randomBytes(5000);
    await media.put('videos/j/0.mp4', old);
    async function* body(): AsyncGenerator<Uint8Array> {
      yield randomBytes(100);
      throw new Error('cut');
    }
    await expect(media.put('videos/j/0.mp4', body())).rejects.toThrow('cut');
    expect(await readMedia(media, 'videos/j/0.mp4')).toEqual(old);
  });

  it('a write in progress is never visible, and removeInterrupted clears staging objects a crash left', async () => {
    let fail!: (error: Error) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield randomBytes(4096);
      await failed;
    }
    const put = media.put('videos/j/0.mp4', stalled()).catch((e: unknown) => e);
    expect(await media.stat('videos/j/0.mp4')).toBeNull();

    await media.put('videos/j/1.mp4', new Uint8Array([7]));
    await media.put('videos/other/0.mp4', new Uint8Array([8]));
    // What a put that did not live to copy its upload into place leaves.
    for (const key of ['videos/j/0.mp4.part-00ff', 'videos/other/0.mp4.part-00ff']) {
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: prefix + key, Body: new Uint8Array([1]) }));
    }
    // A staging object is no key: it cannot be read, or written, by its name.
    expect(await media.stat('videos/j/0.mp4.part-00ff')).toBeNull();
    expect(await media.open('videos/j/0.mp4.part-00ff')).toBeNull();
    await expect(media.put('videos/j/0.mp4.part-00ff', new Uint8Array([1]))).rejects.toThrow(RangeError);

    await media.removeInterrupted(mediaKeys.jobOutputs('j'));
    expect(await keysUnder()).toEqual(['videos/j/1.mp4', 'videos/other/0.mp4', 'videos/other/0.mp4.part-00ff']);
    await media.removeInterrupted(mediaKeys.jobOutputs('never-stored'));

    fail(new Error('gone'));
    expect(await put).toMatchObject({ message: 'gone' });
    expect(await media.stat('videos/j/0.mp4')).toBeNull();
  });
});

describe('the read-back check', () => {
  it('passes what is stored, and throws a MediaStorageError for other bytes, another size or nothing', async () => {
    const sent = randomBytes(1000);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}videos/v/0.mp4`, Body: randomBytes(1000) }));
    const error = await media.verifyStored('videos/v/0.mp4', sent.length, sha256(sent)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaStorageError);
    expect((error as Error).message).toMatch(/^media storage videos\/v\/0\.mp4: stored object does not match what was sent \(sha256 /);
    await expect(media.verifyStored('videos/v/0.mp4', 999, sha256(sent))).rejects.toThrow('1000 bytes stored, 999 sent');
    await expect(media.verifyStored('videos/none/0.mp4', 1, sha256(sent))).rejects.toThrow('no bytes stored, 1 sent');

    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}videos/v/0.mp4`, Body: sent }));
    await media.verifyStored('videos/v/0.mp4', sent.length, sha256(sent));
  });
});

describe('keys', () => {
  const escaping = ['', '..', '../x', 'videos/../../x', '/etc/passwd', 'videos//x', './x', 'videos/.', 'a\\..\\b', 'a\0b', 'videos/'];

  it('name nothing when they could leave the prefix: reads find nothing, writes throw', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'x', Body: 'outside the prefix' }));
    for (const key of escaping) {
      expect([key, await media.stat(key)]).toEqual([key, null]);
      expect([key, await media.open(key)]).toEqual([key, null]);
      await expect(media.put(key, new Uint8Array([1]))).rejects.toThrow(RangeError);
      await expect(media.remove(key)).rejects.toThrow(RangeError);
      await expect(media.presignedUrl(key, { signedAt: 1, expiresAt: 2 })).rejects.toThrow(RangeError);
    }
    for (const bad of ['../', 'videos/../', '/tmp/', 'videos', '']) {
      await expect(media.removeAll(bad)).rejects.toThrow(RangeError);
      await expect(media.removeInterrupted(bad)).rejects.toThrow(RangeError);
    }
    expect(await keysUnder()).toEqual([]);
    expect(await s3.keys()).toContain('x');
  });
});

describe('removal', () => {
  it("removes one key, or a job's outputs and nothing else", async () => {
    await media.put(mediaKeys.video('j1', 0), new Uint8Array([1]));
    await media.put(mediaKeys.thumbnail('j1', 0), new Uint8Array([2]));
    await media.put(mediaKeys.video('j1', 1), new Uint8Array([3]));
    await media.put(mediaKeys.video('j10', 0), new Uint8Array([4]));
    await media.put(mediaKeys.audio('a', 'mp3'), new Uint8Array([5]));

    await media.remove(mediaKeys.video('j1', 1));
    expect(await media.stat(mediaKeys.video('j1', 1))).toBeNull();
    await media.remove(mediaKeys.video('j1', 1));

    await media.removeAll(mediaKeys.jobOutputs('j1'));
    expect(await keysUnder()).toEqual(['audio/a.mp3', 'videos/j10/0.mp4']);
    await media.removeAll(mediaKeys.jobOutputs('j1'));
  });
});

describe('check', () => {
  it('passes on the bucket, and says in one line that a bucket is missing or the credentials are refused', async () => {
    await media.check();
    await expect(s3.storage({ bucket: 'nope' }).check()).rejects.toThrow(
      new MediaStorageError(`media bucket nope does not exist at ${s3.endpoint}`),
    );
    const secret = 'a-secret-that-must-not-show';
    const refused = await s3
      .storage({ credentials: { accessKeyId: 'SOMEONE-ELSE', secretAccessKey: secret } })
      .check()
      .catch((e: unknown) => e as Error);
    expect(refused).toBeInstanceOf(MediaStorageError);
    expect(refused!.message).toBe(`media bucket ${s3.bucket}: access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`);
    const unreachable = s3.storage({ endpoint: 'http://127.0.0.1:1' });
    const error = await unreachable.check().catch((e: unknown) => e as Error);
    expect(error!.message).toMatch(/^media bucket media at http:\/\/127\.0\.0\.1:1 cannot be used \(.*ECONNREFUSED.*\)$/);
  });
});

describe('presigned URLs', () => {
  it('are the same for the same key and times, and the bucket answers them with ranges', async () => {
    const bytes = randomBytes(1000);
    await media.put('videos/p/0.mp4', bytes);
    // s3rver refuses an expired URL, so the URL is signed now.
    const signedAt = Math.floor(Date.now() / 1000);
    const url = await media.presignedUrl('videos/p/0.mp4', { signedAt, expiresAt: signedAt + 3600 });
    expect(await media.presignedUrl('videos/p/0.mp4', { signedAt, expiresAt: signedAt + 3600 })).toBe(url);
    expect(await media.presignedUrl('videos/p/0.mp4', { signedAt: signedAt + 1, expiresAt: signedAt + 3600 })).not.toBe(url);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('3600');

    const response = await fetch(url, { headers: { Range: 'bytes=0-9' } });
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes.subarray(0, 10));
  });

  it('live at most 7 days and must expire after they are signed', async () => {
    const url = await media.presignedUrl('videos/p/0.mp4', { signedAt: 1_000_000, expiresAt: 1_000_000 + 30 * 86400 });
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('604800');
    await expect(media.presignedUrl('videos/p/0.mp4', { signedAt: 10, expiresAt: 10 })).rejects.toThrow(RangeError);
  });
});
