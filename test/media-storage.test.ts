// LocalMediaStorage on a real directory: atomic puts, keys that cannot leave the root, ranges, removals.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMediaKey, mediaKeys, MediaStorageError, readMedia } from '../src/media/storage/index.ts';
import { LocalMediaStorage } from '../src/media/storage/local.ts';

let dir: string;
let root: string;
let media: LocalMediaStorage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-storage-'));
  root = join(dir, 'media');
  media = new LocalMediaStorage(root);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const filesUnder = async (path: string) => (await readdir(path, { recursive: true })).sort();

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A body that sends `head`, then waits until `fail` is called and throws what it is given. */
function stalledBody(head: Uint8Array) {
  let fail!: (error: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  async function* body(): AsyncGenerator<Uint8Array> {
    yield head;
    await failed;
  }
  return { body: body(), fail };
}

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('put, stat, open', () => {
  it('stores bytes or a stream of chunks under a key, with their size and sha256, at the path the key names', async () => {
    const bytes = randomBytes(300_000);
    const key = mediaKeys.video('job-1', 0);
    expect(key).toBe('videos/job-1/0.mp4');
    expect(await media.put(key, chunked(bytes, 64 * 1024))).toEqual({ bytes: bytes.length, sha256: sha256(bytes) });
    expect(await readFile(join(root, 'videos/job-1/0.mp4'))).toEqual(bytes);
    expect(await media.stat(key)).toEqual({ size: bytes.length, sha256: sha256(bytes) });
    expect(await readMedia(media, key)).toEqual(bytes);

    const audio = mediaKeys.audio('a1', 'wav');
    expect(audio).toBe('audio/a1.wav');
    expect(await media.put(audio, new Uint8Array([1, 2, 3]))).toEqual({ bytes: 3, sha256: sha256(new Uint8Array([1, 2, 3])) });
    expect(await media.stat(audio)).toEqual({ size: 3, sha256: sha256(new Uint8Array([1, 2, 3])) });
    // Replaced whole: the remembered sha256 follows the new file.
    await media.put(audio, new Uint8Array([4, 5, 6, 7]));
    expect(await media.stat(audio)).toEqual({ size: 4, sha256: sha256(new Uint8Array([4, 5, 6, 7])) });
  });

  it('replaces what was under the key', async () => {
    await media.put('audio/x.mp3', new Uint8Array([1, 2, 3, 4]));
    await media.put('audio/x.mp3', new Uint8Array([9]));
    expect(await readMedia(media, 'audio/x.mp3')).toEqual(Buffer.from([9]));
  });

  it('opens a byte range, both ends inclusive', async () => {
    const bytes = randomBytes(1000);
    await media.put('videos/j/0.mp4', bytes);
    expect(await buffer((await media.open('videos/j/0.mp4', { start: 10, end: 19 }))!)).toEqual(bytes.subarray(10, 20));
    expect(await buffer((await media.open('videos/j/0.mp4', { start: 999, end: 999 }))!)).toEqual(bytes.subarray(999));
    expect(await buffer((await media.open('videos/j/0.mp4', { start: 0, end: 0 }))!)).toEqual(bytes.subarray(0, 1));
    expect(await buffer((await media.open('videos/j/0.mp4'))!)).toEqual(bytes);
  });

  it('finds nothing where there is no file: a missing key, a directory, a missing root', async () => {
    expect(await media.stat('videos/none/0.mp4')).toBeNull();
    expect(await media.open('videos/none/0.mp4')).toBeNull();
    await media.put('videos/j/0.mp4', new Uint8Array([1]));
    expect(await media.stat('videos/j')).toBeNull();
    expect(await media.open('videos')).toBeNull();
    await expect(readMedia(media, 'videos/none/0.mp4')).rejects.toBeInstanceOf(MediaStorageError);
    expect(await new LocalMediaStorage(join(dir, 'nowhere')).stat('videos/j/0.mp4')).toBeNull();
  });

  it('reports a failing disk as a MediaStorageError', async () => {
    await writeFile(join(dir, 'a-file'), 'not a directory');
    const error = await new LocalMediaStorage(join(dir, 'a-file')).put('audio/x.mp3', new Uint8Array([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaStorageError);
    expect((error as Error).message).toContain('audio/x.mp3');
  });
});

describe('atomic writes', () => {
  it('a write whose body fails leaves nothing under the key and no temporary file; the body error passes unchanged', async () => {
    const broken = new Error('the source broke');
    async function* body(): AsyncGenerator<Uint8Array> {
      yield randomBytes(10_000);
      throw broken;
    }
    await expect(media.put('videos/j/0.mp4', body())).rejects.toBe(broken);
    expect(await media.stat('videos/j/0.mp4')).toBeNull();
    expect(await filesUnder(join(root, 'videos/j'))).toEqual([]);
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

  it('a write the process did not live to finish is never visible, and removeInterrupted clears what it left', async () => {
    await media.put('videos/j/1.mp4', new Uint8Array([7]));
    await media.put('videos/other/0.mp4', new Uint8Array([8]));
    // The put below stays in the middle of its body, as it would at a crash.
    const { body, fail } = stalledBody(randomBytes(4096));
    const stalled = media.put('videos/j/0.mp4', body).catch((e: unknown) => e);
    await waitUntil(async () => (await filesUnder(join(root, 'videos/j'))).length === 2);
    const [leftover] = (await filesUnder(join(root, 'videos/j'))).filter((name) => name !== '1.mp4');
    expect(leftover).toMatch(/^0\.mp4\.part-[0-9a-f]+$/);
    expect(await media.stat('videos/j/0.mp4')).toBeNull();
    // A temporary file is no key: it cannot be read, or written, by its name.
    expect(await media.stat(`videos/j/${leftover}`)).toBeNull();
    await expect(media.put(`videos/j/${leftover}`, new Uint8Array([1]))).rejects.toThrow(RangeError);

    await media.removeInterrupted(mediaKeys.jobOutputs('j'));
    expect(await filesUnder(join(root, 'videos/j'))).toEqual(['1.mp4']);
    expect(await media.stat('videos/other/0.mp4')).toMatchObject({ size: 1 });
    await media.removeInterrupted(mediaKeys.jobOutputs('never-stored'));

    fail(new Error('gone'));
    expect(await stalled).toMatchObject({ message: 'gone' });
    expect(await media.stat('videos/j/0.mp4')).toBeNull();
  });
});

describe('keys', () => {
  const escaping = ['', '..', '../x', 'videos/../../x', '/etc/passwd', 'videos//x', './x', 'videos/.', 'a\\..\\b', 'a\0b', 'videos/'];

  it('are relative paths that cannot leave the root', () => {
    for (const key of escaping) expect([key, isMediaKey(key)]).toEqual([key, false]);
    for (const key of ['videos/j/0.mp4', 'audio/a.wav', 'x', '..x/y..', 'a b/c']) expect([key, isMediaKey(key)]).toEqual([key, true]);
  });

  it('name nothing when they could leave the root: reads find nothing, writes throw', async () => {
    await writeFile(join(dir, 'x'), 'outside the root');
    await mkdir(root, { recursive: true });
    for (const key of escaping) {
      expect([key, await media.stat(key)]).toEqual([key, null]);
      expect([key, await media.open(key)]).toEqual([key, null]);
      await expect(media.put(key, new Uint8Array([1]))).rejects.toThrow(RangeError);
      await expect(media.remove(key)).rejects.toThrow(RangeError);
    }
    for (const prefix of ['../', 'videos/../', '/tmp/', 'videos', '']) {
      await expect(media.removeAll(prefix)).rejects.toThrow(RangeError);
      await expect(media.removeInterrupted(prefix)).rejects.toThrow(RangeError);
    }
    expect(await readFile(join(dir, 'x'), 'utf8')).toBe('outside the root');
  });

  it('do not follow a symlink out of the root', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await writeFile(join(outside, 'a.part-00ff'), 'not ours');
    await mkdir(root, { recursive: true });
    await symlink(outside, join(root, 'videos'));
    await symlink(join(outside, 'secret.txt'), join(root, 'file.txt'));

    expect(await media.stat('videos/secret.txt')).toBeNull();
    expect(await media.open('videos/secret.txt')).toBeNull();
    expect(await media.stat('file.txt')).toBeNull();
    expect(await media.open('file.txt')).toBeNull();
    await expect(media.put('videos/new.txt', new Uint8Array([1]))).rejects.toBeInstanceOf(MediaStorageError);
    await expect(media.remove('videos/secret.txt')).rejects.toBeInstanceOf(MediaStorageError);
    await expect(media.removeAll('videos/')).rejects.toBeInstanceOf(MediaStorageError);
    await expect(media.removeInterrupted('videos/')).rejects.toBeInstanceOf(MediaStorageError);
    expect(await filesUnder(outside)).toEqual(['a.part-00ff', 'secret.txt']);
  });

  it('may pass a symlink that stays inside the root', async () => {
    await media.put('videos/j/0.mp4', new Uint8Array([1, 2]));
    await symlink(join(root, 'videos'), join(root, 'alias'));
    expect(await media.stat('alias/j/0.mp4')).toMatchObject({ size: 2 });
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
    expect(existsSync(join(root, 'videos/j1'))).toBe(false);
    expect(await filesUnder(root)).toEqual(['audio', 'audio/a.mp3', 'videos', 'videos/j10', 'videos/j10/0.mp4']);
    await media.removeAll(mediaKeys.jobOutputs('j1'));
  });
});
