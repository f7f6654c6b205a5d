// Copying a finished job's outputs into MEDIA_DIR, because Scenario's signed URLs expire. Each attempt
// re-reads the asset (a fresh URL), streams the file to a temporary name and renames it, checks the size
// upstream reports, and probes the MP4 for its real dimensions. Only when every output is stored does the
// job become SUCCEEDED, in the same transaction that records the assets.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VideoAsset, VideoJob } from '../domain/video-job.ts';
import { probeMp4File } from '../media/probe/mp4.ts';
import { ScenarioError } from '../scenario/types.ts';
import { backoffDelay } from './backoff.ts';
import { commitJobChange, endingPatch, type EngineContext } from './context.ts';
import { GIVE_UP_AFTER_MS } from './limits.ts';

class MirrorCheckFailed extends Error {}

export async function mirrorAssets(ctx: EngineContext, job: VideoJob): Promise<void> {
  try {
    await removeInterruptedDownloads(join(ctx.settings.mediaDir, 'videos', job.id));
    const assets: VideoAsset[] = [];
    for (const [index, upstreamAssetId] of job.upstreamAssetIds.entries()) {
      assets.push(await mirrorOne(ctx, job, index, upstreamAssetId));
    }
    const now = ctx.now();
    const stored = await commitJobChange(
      ctx,
      job,
      { ...endingPatch(now, 'SUCCEEDED'), progress: 1 },
      { videoAssets: assets },
    );
    if (stored && job.submittedAt !== null && job.upstreamSucceededAt !== null) {
      ctx.history.record({
        seconds: (job.upstreamSucceededAt - job.submittedAt) / 1000,
        size: job.size,
        durationSeconds: job.durationSeconds,
      });
    }
    ctx.log.info({ jobId: job.id, files: assets.length }, 'job outputs stored');
  } catch (error) {
    if (!(error instanceof ScenarioError) && !(error instanceof MirrorCheckFailed) && !isFileSystemError(error)) throw error;
    await recordMirrorFailure(ctx, job, error as Error);
  }
}

/**
 * Temporary files of downloads a crash cut short (the client removes its own on a failure, but not when the process
 * dies): this job's outputs are stored by one step at a time, so any that remain in its directory are orphans.
 */
async function removeInterruptedDownloads(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // no directory yet
  }
  await Promise.all(names.filter((name) => TEMPORARY_DOWNLOAD.test(name)).map((name) => rm(join(dir, name), { force: true })));
}

/** `<file>.part-<hex>`: ScenarioClient.downloadToFile's temporary name. */
const TEMPORARY_DOWNLOAD = /\.part-[0-9a-f]+$/;

async function mirrorOne(ctx: EngineContext, job: VideoJob, index: number, upstreamAssetId: string): Promise<VideoAsset> {
  // Always a fresh read: a URL from an earlier attempt may have expired (403).
  const asset = await ctx.scenario.getAsset(upstreamAssetId);
  if (!asset.url) throw new MirrorCheckFailed(`asset ${upstreamAssetId} has no URL yet (status ${asset.status})`);

  const dir = join(ctx.settings.mediaDir, 'videos', job.id);
  await mkdir(dir, { recursive: true });
  const filePath = join('videos', job.id, `${index}.mp4`);
  const video = await ctx.scenario.downloadToFile(asset.url, join(ctx.settings.mediaDir, filePath));
  if (asset.size !== null && asset.size !== video.bytes) {
    throw new MirrorCheckFailed(`asset ${upstreamAssetId}: ${video.bytes} bytes stored, upstream says ${asset.size}`);
  }
  const probe = await probeMp4File(join(ctx.settings.mediaDir, filePath));
  if (!probe) throw new MirrorCheckFailed(`asset ${upstreamAssetId} is not a readable MP4`);

  let thumbnailPath: string | null = null;
  if (asset.thumbnailUrl) {
    thumbnailPath = join('videos', job.id, `${index}.jpg`);
    await ctx.scenario.downloadToFile(asset.thumbnailUrl, join(ctx.settings.mediaDir, thumbnailPath));
  }
  return {
    id: randomUUID(),
    jobId: job.id,
    ownerId: job.ownerId,
    outputIndex: index,
    upstreamAssetId,
    filePath,
    thumbnailPath,
    mimeType: asset.mimeType ?? video.contentType ?? 'video/mp4',
    byteSize: video.bytes,
    sha256: video.sha256,
    width: probe.width,
    height: probe.height,
    durationSeconds: probe.durationSeconds,
    frameRate: probe.frameRate ?? asset.frameRate,
    createdAt: ctx.now(),
  };
}

async function recordMirrorFailure(ctx: EngineContext, job: VideoJob, error: Error): Promise<void> {
  const now = ctx.now();
  const since = job.upstreamSucceededAt ?? now;
  const attempts = job.mirrorAttempts + 1;
  ctx.log.warn({ jobId: job.id, attempts, error: error.message }, 'storing outputs failed; will retry');
  // Mirroring gives up 24 hours after upstream success (CONTRACT.md §5), keeping the upstream asset ids.
  if (now - since > GIVE_UP_AFTER_MS) {
    await commitJobChange(ctx, job, {
      ...endingPatch(now, 'FAILED', {
        code: 'MIRROR_FAILED',
        message: 'The finished video could not be stored by the gateway within 24 hours',
        hint: `Upstream asset ids: ${job.upstreamAssetIds.join(', ')}`,
        retryable: false,
      }),
      mirrorAttempts: attempts,
    });
    return;
  }
  const retryAfterMs = error instanceof ScenarioError ? error.retryAfterMs : null;
  // An expired URL is fixed by the next attempt's fresh read: retry at once the first time.
  const expired = error instanceof ScenarioError && error.status === 403;
  const delay = expired && attempts === 1 ? 0 : backoffDelay(attempts, { baseMs: 1_000, maxMs: 10 * 60_000, retryAfterMs, random: ctx.random });
  await commitJobChange(ctx, job, { mirrorAttempts: attempts, nextCheckAt: now + delay });
}

function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined;
}
