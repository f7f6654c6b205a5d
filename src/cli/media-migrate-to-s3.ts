// `npm run media:migrate-to-s3`: copies the media in MEDIA_DIR into the bucket MEDIA_S3_* names (CONTRACT §10), for a
// deployment moving its videos, thumbnails and audio off the disk. Keys stay the same, so the rows need no change.
// Each copy is a storage put: the bucket's object is read back and its size and sha256 compared with the file's. An
// object the bucket already holds with the file's size and sha256 is skipped, so a run that failed can simply be run
// again.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import type { MediaStorage } from '../media/storage/index.ts';
import { LocalMediaStorage } from '../media/storage/local.ts';
import { openMediaStorage, type OpenedMediaStorage } from '../media/storage/open.ts';

type Outcome = 'copied' | 'skipped';

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  if (!config.mediaS3) return fail('invalid configuration: MEDIA_S3_BUCKET must name the bucket to copy MEDIA_DIR into');
  let bucket: OpenedMediaStorage | undefined;
  try {
    const files = await filesIn(config.mediaDir);
    if (!files) return fail(`MEDIA_DIR ${config.mediaDir} does not exist`);
    bucket = await openMediaStorage({ mediaDir: config.mediaDir, mediaS3: config.mediaS3 });
    const local = new LocalMediaStorage(config.mediaDir);
    const counts = { copied: 0, skipped: 0, failed: 0 };
    for (const key of files) {
      try {
        const outcome = await migrate(key, local, bucket);
        if (outcome) counts[outcome] += 1;
      } catch (error) {
        counts.failed += 1;
        process.stderr.write(`failed ${key}: ${(error as Error).message}\n`);
      }
    }
    process.stdout.write(`media:migrate-to-s3: ${counts.copied} copied, ${counts.skipped} skipped, ${counts.failed} failed\n`);
    return counts.failed === 0 ? 0 : 1;
  } catch (error) {
    return fail((error as Error).message);
  } finally {
    bucket?.close?.();
  }
}

/**
 * Copies the file under `key` unless the bucket holds the same bytes. Null for what is no media object: the
 * temporary file of a put that did not finish, a symlink leading out of MEDIA_DIR.
 */
async function migrate(key: string, local: LocalMediaStorage, bucket: MediaStorage): Promise<Outcome | null> {
  const file = await local.stat(key);
  if (!file) return null;
  const there = await bucket.stat(key);
  // The file is read for its sha256 only when the bucket may hold it already; a copy hashes it on the way.
  if (there?.size === file.size && there.sha256 === (await sha256Of(await local.open(key)))) return 'skipped';
  const body = await local.open(key);
  if (!body) return null;
  await bucket.put(key, body);
  return 'copied';
}

/** The keys of the regular files under `root`, sorted; null when `root` does not exist. */
async function filesIn(root: string): Promise<string[] | null> {
  try {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function sha256Of(stream: Readable | null): Promise<string | null> {
  if (!stream) return null;
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 1;
}

process.exitCode = await main();
