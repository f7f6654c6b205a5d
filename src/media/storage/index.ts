// Where the gateway keeps the media it serves: stored videos, thumbnails and audio, under keys that are the relative
// paths the database records (filePath, thumbnailPath). Callers name keys and hand over bytes; only an implementation
// (local.ts: MEDIA_DIR) knows where and how they are kept.
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

/**
 * The key of each kind of media. Rows keep these keys as they are, so the layout never changes: every
 * implementation stores under the same keys.
 */
export const mediaKeys = {
  video: (jobId: string, index: number) => `videos/${jobId}/${index}.mp4`,
  thumbnail: (jobId: string, index: number) => `videos/${jobId}/${index}.jpg`,
  audio: (id: string, extension: string) => `audio/${id}.${extension}`,
  /** What every key of one job's outputs starts with. */
  jobOutputs: (jobId: string) => `videos/${jobId}/`,
};

/**
 * A key is a relative path of `/`-separated segments, none of them empty, `.` or `..`, none holding `\` or NUL: it
 * cannot lead out of a storage's root. A string that is not one names no object: reads find nothing, writes throw.
 */
export function isMediaKey(key: string): boolean {
  return key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..' && !/[\\\0]/.test(segment));
}

/** Both ends inclusive. */
export type ByteRange = { start: number; end: number };

export interface StoredMedia {
  bytes: number;
  /** Of the bytes stored, hex. */
  sha256: string;
}

export interface MediaStat {
  size: number;
  /** Of the object's bytes, hex, when the storage knows it (the /media route's ETag). */
  sha256?: string;
}

/** The storage itself failed (a full disk, a lost bucket): the operation may succeed when tried again. */
export class MediaStorageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MediaStorageError';
  }
}

export interface MediaStorage {
  /**
   * Stores `body` under `key`, replacing what was there: readers see the old object or the whole new one, and a write
   * cut short leaves nothing under the key. Errors thrown by `body` pass unchanged (it is read to its end here).
   */
  put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<StoredMedia>;
  /** Null when there is no object under `key`. */
  stat(key: string): Promise<MediaStat | null>;
  /** The object's bytes, only those of `range` when given; null when there is no object under `key`. */
  open(key: string, range?: ByteRange): Promise<Readable | null>;
  /** Removes the object under `key`, if there is one. */
  remove(key: string): Promise<void>;
  /** Removes every object whose key starts with `prefix`, which ends with `/` (`mediaKeys.jobOutputs`). */
  removeAll(prefix: string): Promise<void>;
  /**
   * Removes what writes under `prefix` that the process did not live to finish left behind. Only for a prefix that no
   * `put` is writing under at the time.
   */
  removeInterrupted(prefix: string): Promise<void>;
  /** Resolves when the storage can be used (at start, and for /readyz); rejects with one line saying why not. */
  check(): Promise<void>;
}

/**
 * The object's bytes in memory: all of them (an upstream upload of an audio clip), or those of `range` (how a probe
 * reads a stored video's box headers without the rest).
 */
export async function readMedia(storage: MediaStorage, key: string, range?: ByteRange): Promise<Buffer> {
  const stream = await storage.open(key, range);
  if (!stream) throw new MediaStorageError(`media storage has nothing under ${key}`);
  try {
    return await buffer(stream);
  } catch (cause) {
    throw new MediaStorageError(`media storage could not read ${key}`, { cause });
  }
}
