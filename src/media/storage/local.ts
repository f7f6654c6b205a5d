// MediaStorage in a directory (MEDIA_DIR): each key is the file at that relative path. A put writes a temporary file
// beside it, fsyncs it and renames it into place, so a reader or a crash sees the old file or the whole new one.
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, realpath, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { isMediaKey, MediaStorageError, type ByteRange, type MediaStat, type MediaStorage, type StoredMedia } from './index.ts';

/** `<key>.part-<hex>`: a put's file before its rename. Never a key, so never served. */
const TEMPORARY = /\.part-[0-9a-f]+$/;
const isKeyHere = (key: string) => isMediaKey(key) && !TEMPORARY.test(key);

/** Files whose sha256 is remembered (the /media ETag): a few hundred bytes each. */
const MAX_HASHES_REMEMBERED = 10_000;

export class LocalMediaStorage implements MediaStorage {
  readonly #root: string;
  /** sha256 by key, valid while the file is the same one (inode, size, mtime): files are replaced whole, never edited. */
  readonly #hashes = new Map<string, { identity: string; sha256: string }>();
  /** The root with its symlinks resolved; found again after a miss, in case the directory was moved meanwhile. */
  #realRoot: Promise<string> | null = null;

  constructor(root: string) {
    this.#root = resolve(root);
  }

  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<StoredMedia> {
    const path = this.#pathOf(key);
    const directory = dirname(path);
    await attempt('write', key, async () => {
      await mkdir(directory, { recursive: true });
      await this.#realDirectory(directory);
    });
    const temporary = `${path}.part-${randomBytes(8).toString('hex')}`;
    try {
      const stored = await writeNewFile(temporary, body, key);
      await attempt('write', key, () => rename(temporary, path));
      await syncDirectory(directory);
      return stored;
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.#root, { recursive: true });
      await access(this.#root, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new MediaStorageError(`MEDIA_DIR ${this.#root} cannot be used (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
  }

  async stat(key: string): Promise<MediaStat | null> {
    const found = await this.#openFile(key);
    if (!found) return null;
    try {
      return { size: found.size, sha256: await this.#sha256Of(key, found) };
    } finally {
      await found.file.close();
    }
  }

  /** The file's sha256, read once per file and then remembered. */
  async #sha256Of(key: string, found: { file: FileHandle; size: number; identity: string }): Promise<string> {
    const known = this.#hashes.get(key);
    if (known?.identity === found.identity) return known.sha256;
    const hash = createHash('sha256');
    await attempt('read', key, async () => {
      for await (const chunk of found.file.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
    });
    const sha256 = hash.digest('hex');
    this.#hashes.delete(key);
    this.#hashes.set(key, { identity: found.identity, sha256 });
    if (this.#hashes.size > MAX_HASHES_REMEMBERED) this.#hashes.delete(this.#hashes.keys().next().value!);
    return sha256;
  }

  async open(key: string, range?: ByteRange): Promise<Readable | null> {
    const found = await this.#openFile(key);
    // The stream closes the file once it has ended or been destroyed.
    return found && found.file.createReadStream({ start: range?.start, end: range?.end });
  }

  async remove(key: string): Promise<void> {
    const path = this.#pathOf(key);
    await attempt('remove', key, async () => {
      if (await this.#realDirectory(dirname(path))) await rm(path, { force: true });
    });
  }

  async removeAll(prefix: string): Promise<void> {
    const directory = this.#directoryOf(prefix);
    await attempt('remove', prefix, async () => {
      if (await this.#realDirectory(directory)) await rm(directory, { recursive: true, force: true });
    });
  }

  async removeInterrupted(prefix: string): Promise<void> {
    const directory = this.#directoryOf(prefix);
    await attempt('clean up', prefix, async () => {
      if (!(await this.#realDirectory(directory))) return;
      const names = await readdir(directory, { recursive: true });
      await Promise.all(names.filter((name) => TEMPORARY.test(name)).map((name) => rm(join(directory, name), { force: true })));
    });
  }

  #pathOf(key: string): string {
    if (!isKeyHere(key)) throw new RangeError(`not a media key: ${JSON.stringify(key)}`);
    return join(this.#root, key);
  }

  #directoryOf(prefix: string): string {
    if (!prefix.endsWith('/') || !isMediaKey(prefix.slice(0, -1))) throw new RangeError(`not a media key prefix: ${JSON.stringify(prefix)}`);
    return join(this.#root, prefix.slice(0, -1));
  }

  /** Whether `real` (symlinks resolved) is the root or lies under it. */
  async #contains(real: string): Promise<boolean> {
    this.#realRoot ??= realpath(this.#root);
    const root = await this.#realRoot.catch((error: unknown) => {
      this.#realRoot = null;
      throw error;
    });
    return real === root || real.startsWith(root + sep);
  }

  /** The regular file under `key`, open for reading; null when there is none (or it leads out of the root). */
  async #openFile(key: string): Promise<{ file: FileHandle; size: number; identity: string } | null> {
    if (!isKeyHere(key)) return null;
    return attempt('read', key, async () => {
      let file: FileHandle;
      try {
        const real = await realpath(join(this.#root, key));
        if (!(await this.#contains(real))) return null;
        file = await open(real, 'r');
      } catch (error) {
        if (!isMissing(error)) throw error;
        this.#realRoot = null;
        return null;
      }
      try {
        const info = await file.stat();
        if (info.isFile()) return { file, size: info.size, identity: `${info.ino}:${info.size}:${info.mtimeMs}` };
      } catch (error) {
        await file.close();
        throw error;
      }
      await file.close();
      return null;
    });
  }

  /** The directory with its symlinks resolved, null when it does not exist; it must not lead out of the root. */
  async #realDirectory(directory: string): Promise<string | null> {
    let real: string;
    try {
      real = await realpath(directory);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (!(await this.#contains(real))) throw new MediaStorageError(`media storage: ${directory} leads out of ${this.#root}`);
    return real;
  }
}

/** Writes `body` to a file that must not exist yet and fsyncs it, hashing what it writes. */
async function writeNewFile(path: string, body: AsyncIterable<Uint8Array> | Uint8Array, key: string): Promise<StoredMedia> {
  const file = await attempt('write', key, () => open(path, 'wx'));
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    // One chunk at a time, each written before the next is read: `body`'s errors leave the loop as they are, the disk's
    // are the storage's.
    for await (const chunk of body instanceof Uint8Array ? [body] : body) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      await attempt('write', key, () => writeFully(file, chunk));
    }
    await attempt('write', key, () => file.sync());
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    await file.close();
  }
}

async function writeFully(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.byteLength; ) offset += (await file.write(chunk, offset)).bytesWritten;
}

async function syncDirectory(path: string): Promise<void> {
  // Makes the rename durable. Some file systems refuse fsync on a directory; the file itself is already synced.
  try {
    const directory = await open(path, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch {
    // best effort
  }
}

/** Runs the file system calls of one operation: whatever fails in them is a failure of the storage. */
async function attempt<T>(what: string, key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof MediaStorageError) throw cause;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
    throw new MediaStorageError(`media storage could not ${what} ${key} (${code})`, { cause });
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
