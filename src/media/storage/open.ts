// The media storage the configuration names: the S3-compatible bucket of MEDIA_S3_BUCKET, or MEDIA_DIR. Checked before
// the gateway starts, so a missing bucket or refused credentials stop it with one line instead of failing every job.
import type { MediaS3Config } from '../../config.ts';
import type { MediaStorage } from './index.ts';
import { LocalMediaStorage } from './local.ts';
import { S3MediaStorage } from './s3.ts';

export type OpenedMediaStorage = MediaStorage & { close?(): void };

export async function openMediaStorage(config: { mediaDir: string; mediaS3: MediaS3Config | null }): Promise<OpenedMediaStorage> {
  const s3 = config.mediaS3;
  const storage = s3
    ? new S3MediaStorage({
        bucket: s3.bucket,
        prefix: s3.prefix,
        region: s3.region,
        endpoint: s3.endpoint ?? undefined,
        forcePathStyle: s3.forcePathStyle,
      })
    : new LocalMediaStorage(config.mediaDir);
  try {
    await storage.check();
  } catch (error) {
    if (storage instanceof S3MediaStorage) storage.close();
    throw error;
  }
  return storage;
}
