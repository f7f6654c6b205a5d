// MediaStorage in an S3-compatible bucket (CONTRACT §10): each key is the object `prefix + key`. A put streams the body
// to a staging object beside the key, reads it back to check its size and sha256, then copies it into place with the
// sha256 as metadata, so readers see the old object or the whole, checked new one. The copy is what lets the sha256
// be metadata at all: it is known only once the body has ended, after the upload has begun.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  S3Client,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { contentTypeOf } from '../serve.ts';
import { MAX_PRESIGNED_SECONDS } from '../urls.ts';
import { isMediaKey, MediaStorageError, type ByteRange, type MediaStat, type MediaStorage, type StoredMedia } from './index.ts';

/** `<key>.part-<hex>`, the form local.ts gives its temporary files: a put's upload before its check. Never a key. */
const STAGING = /\.part-[0-9a-f]+$/;
const isKeyHere = (key: string) => isMediaKey(key) && !STAGING.test(key);

// Memory stays near PART_SIZE × (PARTS_IN_FLIGHT + 1) whatever the object's size: the upload pulls the body only as
// parts are sent.
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

export interface S3MediaStorageOptions {
  bucket: string;
  /** Put before every key (`gateway/`); empty by default. */
  prefix?: string;
  region?: string;
  /** Another S3-compatible service (R2, MinIO, a test server); unset ⇒ AWS. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** For tests: production takes the SDK's default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** A client set up as the storage's own, for whoever must reach the bucket beside it (tests). */
export function createS3Client(options: Omit<S3MediaStorageOptions, 'bucket' | 'prefix'>): S3Client {
  return new S3Client({
    region: options.region ?? 'us-east-1',
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // Newer SDKs add CRC32 checksums that many S3-compatible services refuse (STACK §7).
    ...(options.endpoint && { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
  });
}

export class S3MediaStorage implements MediaStorage {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  /** Where the bucket is, for messages. */
  readonly #where: string;

  constructor(options: S3MediaStorageOptions) {
    this.#client = createS3Client(options);
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? '';
    this.#where = options.endpoint ?? 'AWS';
  }

  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<StoredMedia> {
    if (!isKeyHere(key)) throw new RangeError(`not a media key: ${JSON.stringify(key)}`);
    const staging = `${key}.part-${randomBytes(8).toString('hex')}`;
    const stored = await this.#upload(staging, body);
    try {
      await this.verifyStored(staging, stored.bytes, stored.sha256);
      // CopyObject takes objects up to 5 GiB, far above any video here.
      await attempt('write', key, () =>
        this.#client.send(
          new CopyObjectCommand({
            Bucket: this.#bucket,
            Key: this.#objectKey(key),
            CopySource: `${this.#bucket}/${this.#objectKey(staging).split('/').map(encodeURIComponent).join('/')}`,
            MetadataDirective: 'REPLACE',
            ContentType: contentTypeOf(key),
            Metadata: { sha256: stored.sha256 },
          }),
        ),
      );
    } catch (error) {
      // The check's or the copy's failure is the one to report; a staging object left by a failing removal is what
      // removeInterrupted is for.
      await this.#delete(staging).catch(() => undefined);
      throw error;
    }
    await attempt('write', key, () => this.#delete(staging));
    return stored;
  }

  /**
   * Reads back the object under `key` (a staging object too); throws MediaStorageError unless it has `bytes` bytes
   * whose sha256 is `sha256`.
   */
  async verifyStored(key: string, bytes: number, sha256: string): Promise<void> {
    const mismatch = await this.#mismatch(key, bytes, sha256);
    if (mismatch) throw new MediaStorageError(`media storage ${key}: stored object does not match what was sent (${mismatch})`);
  }

  async #mismatch(key: string, bytes: number, sha256: string): Promise<string | null> {
    // The size first: a wrong one is found without reading the object.
    const size = (await this.#head(key))?.ContentLength;
    if (size !== bytes) return `${size ?? 'no'} bytes stored, ${bytes} sent`;
    const stream = await this.#get(key);
    const stored = stream && (await attempt('check', key, () => hashOf(stream)));
    return stored === sha256 ? null : `sha256 ${stored ?? 'of nothing'} stored, ${sha256} sent`;
  }

  async stat(key: string): Promise<MediaStat | null> {
    if (!isKeyHere(key)) return null;
    const head = await this.#head(key);
    if (!head) return null;
    const sha256 = head.Metadata?.sha256;
    return { size: head.ContentLength ?? 0, ...(sha256 && { sha256 }) };
  }

  async open(key: string, range?: ByteRange): Promise<Readable | null> {
    return isKeyHere(key) ? this.#get(key, range) : null;
  }

  async remove(key: string): Promise<void> {
    if (!isKeyHere(key)) throw new RangeError(`not a media key: ${JSON.stringify(key)}`);
    await attempt('remove', key, () => this.#delete(key));
  }

  async removeAll(prefix: string): Promise<void> {
    const objectPrefix = this.#objectPrefix(prefix);
    // Uploads too: a put still running for these keys then fails instead of bringing an object back.
    await attempt('remove', prefix, async () => {
      await this.#abortUploads(objectPrefix);
      await this.#deleteListed(objectPrefix, () => true);
    });
  }

  async removeInterrupted(prefix: string): Promise<void> {
    const objectPrefix = this.#objectPrefix(prefix);
    await attempt('clean up', prefix, async () => {
      await this.#abortUploads(objectPrefix);
      await this.#deleteListed(objectPrefix, (objectKey) => STAGING.test(objectKey));
    });
  }

  async check(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (error) {
      const status = statusOf(error);
      const message =
        status === 404
          ? `media bucket ${this.#bucket} does not exist at ${this.#where}`
          : status === 403
            ? `media bucket ${this.#bucket}: access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`
            : `media bucket ${this.#bucket} at ${this.#where} cannot be used (${reason(error)})`;
      throw new MediaStorageError(message, { cause: error });
    }
  }

  /**
   * A GET URL of the object that the bucket itself answers (with Range), valid until `expiresAt` or for 7 days after
   * `signedAt`, whichever is sooner (unix seconds). The same arguments give the same URL, so clients can cache it.
   */
  async presignedUrl(key: string, { expiresAt, signedAt }: { expiresAt: number; signedAt: number }): Promise<string> {
    if (!isKeyHere(key)) throw new RangeError(`not a media key: ${JSON.stringify(key)}`);
    const expiresIn = Math.min(expiresAt - signedAt, MAX_PRESIGNED_SECONDS);
    if (!(expiresIn > 0)) throw new RangeError(`a presigned URL must expire after it is signed (${signedAt} → ${expiresAt})`);
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }), {
      expiresIn,
      signingDate: new Date(signedAt * 1000),
    });
  }

  close(): void {
    this.#client.destroy();
  }

  /** Streams `body` into a multipart upload, hashing and counting it on the way. */
  async #upload(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<StoredMedia> {
    const tally = new Tally();
    const source = Readable.from(tally.through(body instanceof Uint8Array ? [body] : body));
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key: this.#objectKey(key), Body: source },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (cause) {
      // The upload aborts itself on any failure; the body's error outranks what aborting it may have said.
      if (tally.bodyFailure) throw tally.bodyFailure.error;
      throw new MediaStorageError(`media storage could not write ${key} (${reason(cause)})`, { cause });
    } finally {
      // Ends the body (an upstream download) if the storage stopped reading it early.
      source.destroy();
    }
    return { bytes: tally.bytes, sha256: tally.sha256() };
  }

  #head(key: string): Promise<HeadObjectCommandOutput | null> {
    return attempt('read', key, () =>
      unlessMissing(this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }))),
    );
  }

  #get(key: string, range?: ByteRange): Promise<Readable | null> {
    return attempt('read', key, async () => {
      const found = await unlessMissing(
        this.#client.send(
          new GetObjectCommand({
            Bucket: this.#bucket,
            Key: this.#objectKey(key),
            Range: range && `bytes=${range.start}-${range.end}`,
          }),
        ),
      );
      // In Node the SDK's body is the HTTP response itself.
      return found && (found.Body as Readable);
    });
  }

  async #delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }));
  }

  /**
   * Deletes the listed objects under `objectPrefix` that `which` picks, one request each: DeleteObjects wants a
   * checksum header that S3-compatible services disagree on, and a prefix here holds a handful of objects.
   */
  async #deleteListed(objectPrefix: string, which: (objectKey: string) => boolean): Promise<void> {
    for await (const page of paginateListObjectsV2({ client: this.#client }, { Bucket: this.#bucket, Prefix: objectPrefix })) {
      const keys = (page.Contents ?? []).map((object) => object.Key!).filter(which);
      await Promise.all(keys.map((Key) => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }))));
    }
  }

  async #abortUploads(objectPrefix: string): Promise<void> {
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      let page;
      try {
        page = await this.#client.send(new ListMultipartUploadsCommand({ Bucket: this.#bucket, Prefix: objectPrefix, ...markers }));
      } catch (error) {
        // A service without the call (s3rver) keeps no upload it could list either.
        if (statusOf(error) === 501) return;
        throw error;
      }
      await Promise.all(
        (page.Uploads ?? []).map(({ Key, UploadId }) =>
          this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId })),
        ),
      );
      if (!page.IsTruncated) return;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
  }

  #objectKey(key: string): string {
    if (!isMediaKey(key)) throw new RangeError(`not a media key: ${JSON.stringify(key)}`);
    return this.#prefix + key;
  }

  #objectPrefix(prefix: string): string {
    if (!prefix.endsWith('/') || !isMediaKey(prefix.slice(0, -1))) throw new RangeError(`not a media key prefix: ${JSON.stringify(prefix)}`);
    return this.#prefix + prefix;
  }
}

/** Counts and hashes the chunks passing through, and remembers what the body threw, to pass it on unchanged. */
class Tally {
  bytes = 0;
  bodyFailure: { error: unknown } | null = null;
  readonly #hash = createHash('sha256');

  async *through(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body) {
        this.#hash.update(chunk);
        this.bytes += chunk.byteLength;
        yield chunk;
      }
    } catch (error) {
      // Only the body's iteration throws here: the stream reading this generator ends it with return(), never throw().
      this.bodyFailure = { error };
      throw error;
    }
  }

  sha256(): string {
    return this.#hash.digest('hex');
  }
}

async function hashOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs the requests of one operation: whatever fails in them is a failure of the storage. */
async function attempt<T>(what: string, key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof MediaStorageError || cause instanceof RangeError) throw cause;
    throw new MediaStorageError(`media storage could not ${what} ${key} (${reason(cause)})`, { cause });
  }
}

/** Null when S3 says there is no such object (a HEAD's 404 says no more, so a missing bucket looks the same). */
async function unlessMissing<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (error) {
    const name = (error as Error | undefined)?.name;
    if (name === 'NoSuchKey' || name === 'NotFound') return null;
    throw error;
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** One line about a failed request; a HEAD's error has no body, so its status says the most. */
function reason(error: unknown): string {
  const status = statusOf(error);
  const { name, code, message } = (error ?? {}) as { name?: string; code?: string; message?: string };
  if (status) return `${name ?? 'error'}, HTTP ${status}`;
  return (message || code || String(error)).split('\n')[0]!;
}
