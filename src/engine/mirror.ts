// Copying a finished job's outputs into the gateway's media storage, because Scenario's signed URLs expire. Each
// attempt re-reads the asset (a fresh URL), streams the file into the storage (whole or not at all), checks the size
// upstream reports, and probes the MP4 for its real dimensions. Only when every output is stored does the
// job become SUCCEEDED, in the same transaction that records the assets.
import { randomUUID } from 'node:crypto';
import type { VideoAsset, VideoJob } from '../domain/video-job.ts';
import { probeMp4Ranges } from '../media/probe/mp4.ts';
import { mediaKeys, MediaStorageError, readMedia, type StoredMedia } from '../media/storage/index.ts';
import { ScenarioError } from '../scenario/types.ts';
import { backoffDelay } from './backoff.ts';
import { commitJobChange, endingPatch, type EngineContext } from './context.ts';
import { GIVE_UP_AFTER_MS } from './limits.ts';

class MirrorCheckFailed extends Error {}

export async function mirrorAssets(ctx: EngineContext, job: VideoJob): Promise<void> {
  try {
    // Downloads a crash cut short: this job's outputs are stored by one step at a time, so none of them is running.
    await ctx.media.removeInterrupted(mediaKeys.jobOutputs(job.id));
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
    if (!(error instanceof ScenarioError) && !(error instanceof MirrorCheckFailed) && !(error instanceof MediaStorageError)) throw error;
    await recordMirrorFailure(ctx, job, error as Error);
  }
}

async function mirrorOne(ctx: EngineContext, job: VideoJob, index: number, upstreamAssetId: string): Promise<VideoAsset> {
  // Always a fresh read: a URL from an earlier attempt may have expired (403).
  const asset = await ctx.scenario.getAsset(upstreamAssetId);
  if (!asset.url) throw new MirrorCheckFailed(`asset ${upstreamAssetId} has no URL yet (status ${asset.status})`);

  const filePath = mediaKeys.video(job.id, index);
  const video = await storeDownload(ctx, asset.url, filePath);
  if (asset.size !== null && asset.size !== video.bytes) {
    throw new MirrorCheckFailed(`asset ${upstreamAssetId}: ${video.bytes} bytes stored, upstream says ${asset.size}`);
  }
  // What was stored is probed, not what was sent: its box headers and moov, never the whole video.
  const probe = await probeMp4Ranges(video.bytes, (position, length) =>
    readMedia(ctx.media, filePath, { start: position, end: position + length - 1 }),
  );
  if (!probe) throw new MirrorCheckFailed(`asset ${upstreamAssetId} is not a readable MP4`);

  let thumbnailPath: string | null = null;
  if (asset.thumbnailUrl) {
    thumbnailPath = mediaKeys.thumbnail(job.id, index);
    await storeDownload(ctx, asset.thumbnailUrl, thumbnailPath);
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

/** Streams a signed URL into the storage under `key`. */
function storeDownload(ctx: EngineContext, url: string, key: string): Promise<StoredMedia & { contentType: string | null }> {
  return ctx.scenario.download(url, async ({ chunks, contentType }) => ({ ...(await ctx.media.put(key, chunks)), contentType }));
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
