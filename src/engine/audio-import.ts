// Audio for a job: checked by its bytes (never its name), kept in the media storage, and pushed upstream with
// the uploads flow so a job can name its upstream asset id.
import { randomUUID } from 'node:crypto';
import { hasNul, type FieldError } from '../domain/generate-request.ts';
import type { AudioAsset, JobError } from '../domain/video-job.ts';
import { probeAudio } from '../media/probe/audio.ts';
import { mediaKeys, readMedia } from '../media/storage/index.ts';
import { ScenarioError } from '../scenario/types.ts';
import type { EngineContext } from './context.ts';
import { isRejection } from './upstream-errors.ts';

export const AUDIO_LIMITS = { maxBytes: 15 * 1024 * 1024, minSeconds: 3, maxSeconds: 30 } as const;
const UPLOAD_TIMEOUT_MS = 60_000;
const EXTENSIONS: Record<string, string> = { mp3: 'mp3', wav: 'wav', ogg: 'ogg', m4a: 'm4a' };

export type StoreAudioOutcome =
  | { kind: 'stored'; audio: AudioAsset }
  | { kind: 'invalid'; fieldErrors: FieldError[] }
  /** Upstream refuses the upload for a reason that will not fix itself; nothing was kept. */
  | { kind: 'upstreamRefused'; message: string };

export async function storeAudio(
  ctx: EngineContext,
  ownerId: string,
  file: { fileName: string; bytes: Uint8Array },
  path: string[] = ['file'],
): Promise<StoreAudioOutcome> {
  const invalid = (message: string): StoreAudioOutcome => ({ kind: 'invalid', fieldErrors: [{ path, message }] });
  if (file.bytes.byteLength === 0) return invalid('is empty');
  if (hasNul(file.fileName)) return invalid('has a name with the NUL character (U+0000)');
  if (file.bytes.byteLength > AUDIO_LIMITS.maxBytes) return invalid('must be at most 15 MB');
  const probe = probeAudio(file.bytes);
  if (!probe) return invalid('must be an MP3, WAV, OGG or M4A audio file');
  const seconds = probe.durationSeconds;
  if (seconds !== null && (seconds < AUDIO_LIMITS.minSeconds || seconds > AUDIO_LIMITS.maxSeconds)) {
    return invalid(`must last 3 to 30 seconds (this one lasts ${seconds.toFixed(1)} s)`);
  }

  const id = randomUUID();
  const filePath = mediaKeys.audio(id, EXTENSIONS[probe.format]);
  const { sha256 } = await ctx.media.put(filePath, file.bytes);

  const audio: AudioAsset = {
    id,
    ownerId,
    fileName: sanitizeFileName(file.fileName),
    mimeType: probe.mimeType,
    byteSize: file.bytes.byteLength,
    durationSeconds: seconds,
    sha256,
    filePath,
    upstreamAssetId: null,
    createdAt: ctx.now(),
  };
  try {
    audio.upstreamAssetId = await ctx.scenario.uploadFile(
      { fileName: audio.fileName, contentType: probe.mimeType, bytes: file.bytes, kind: 'audio' },
      { timeoutMs: UPLOAD_TIMEOUT_MS },
    );
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    if (isRejection(error)) {
      ctx.health.recordRejection(error);
      await ctx.media.remove(filePath);
      return { kind: 'upstreamRefused', message: error.reason ?? `upstream refused the upload (HTTP ${error.status})` };
    }
    // Transient: kept locally; the import is tried again when a job needs it.
    ctx.log.warn({ audioId: id, kind: error.kind, status: error.status }, 'audio upload deferred');
  }
  await ctx.store.addAudio(audio);
  return { kind: 'stored', audio };
}

export type AudioImportOutcome =
  | { kind: 'ready'; upstreamAssetId: string }
  | { kind: 'retry'; error: ScenarioError }
  | { kind: 'failed'; error: JobError };

/** The audio's upstream asset id, uploading it now if an earlier upload did not finish. */
export async function importAudioUpstream(ctx: EngineContext, audioId: string): Promise<AudioImportOutcome> {
  const [audio] = await ctx.store.getAudios([audioId]);
  if (!audio) {
    return { kind: 'failed', error: { code: 'UPSTREAM_REJECTED', message: 'The audio file no longer exists', hint: null, retryable: false } };
  }
  if (audio.upstreamAssetId) return { kind: 'ready', upstreamAssetId: audio.upstreamAssetId };
  try {
    const bytes = await readMedia(ctx.media, audio.filePath);
    const upstreamAssetId = await ctx.scenario.uploadFile(
      { fileName: audio.fileName, contentType: audio.mimeType, bytes, kind: 'audio' },
      { timeoutMs: UPLOAD_TIMEOUT_MS },
    );
    await ctx.store.setAudioUpstreamId(audio.id, upstreamAssetId);
    return { kind: 'ready', upstreamAssetId };
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    if (isRejection(error)) {
      return { kind: 'failed', error: { code: 'UPSTREAM_REJECTED', message: error.reason ?? 'upstream refused the audio', hint: null, retryable: false } };
    }
    return { kind: 'retry', error };
  }
}

function sanitizeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim().slice(0, 200);
  return cleaned || 'audio';
}
