// Scenario's JSON shapes (SCENARIO-API.md §3–§6) mapped to the normalised types of types.ts.
// A private helper of client.ts: nothing else in the gateway imports it. Every reader is tolerant:
// unknown fields are ignored (and kept in `raw`), wrong types become null, unknown statuses stay strings.
import type { UpstreamAsset, UpstreamJob, UpstreamUpload } from './types.ts';

type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const finiteOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** ISO strings (the documented form) or epoch milliseconds → epoch ms; anything else → null. */
function epochMs(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

const clamp01 = (value: number) => Math.min(1, Math.max(0, value));

/** `{ job }`'s inner object → UpstreamJob; null when it lacks the two fields everything depends on. */
export function toUpstreamJob(value: unknown): UpstreamJob | null {
  if (!isObject(value) || typeof value.jobId !== 'string' || value.jobId === '') return null;
  if (typeof value.status !== 'string' || value.status === '') return null;
  const metadata = isObject(value.metadata) ? value.metadata : {};
  const progress = finiteOrNull(value.progress);
  return {
    jobId: value.jobId,
    jobType: stringOrNull(value.jobType),
    status: value.status,
    progress: progress === null ? 0 : clamp01(progress),
    assetIds: Array.isArray(metadata.assetIds)
      ? metadata.assetIds.filter((id): id is string => typeof id === 'string' && id !== '')
      : [],
    error: stringOrNull(metadata.error),
    hint: stringOrNull(metadata.hint),
    input: isObject(metadata.input) ? metadata.input : null,
    createdAt: epochMs(value.createdAt),
    updatedAt: epochMs(value.updatedAt),
    raw: value,
  };
}

/** `{ asset }`'s inner object → UpstreamAsset; null without an id. */
export function toUpstreamAsset(value: unknown): UpstreamAsset | null {
  if (!isObject(value) || typeof value.id !== 'string' || value.id === '') return null;
  const properties = isObject(value.properties) ? value.properties : {};
  const thumbnail = isObject(value.thumbnail) ? value.thumbnail : {};
  return {
    id: value.id,
    kind: stringOrNull(value.kind),
    mimeType: stringOrNull(value.mimeType),
    status: stringOrNull(value.status),
    url: stringOrNull(value.url),
    size: finiteOrNull(properties.size),
    width: finiteOrNull(properties.width),
    height: finiteOrNull(properties.height),
    duration: finiteOrNull(properties.duration),
    frameRate: finiteOrNull(properties.frameRate),
    thumbnailUrl: stringOrNull(thumbnail.url),
    raw: value,
  };
}

/** `{ upload }`'s inner object → UpstreamUpload; null without id or status. */
export function toUpstreamUpload(value: unknown): UpstreamUpload | null {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.status !== 'string') return null;
  const parts = Array.isArray(value.parts) ? value.parts : [];
  return {
    id: value.id,
    status: value.status,
    parts: parts
      .filter((p): p is Json => isObject(p) && typeof p.number === 'number' && typeof p.url === 'string')
      .map((p) => ({ number: p.number as number, url: p.url as string })),
    entityId: stringOrNull(value.entityId) || null,
    errorMessage: stringOrNull(value.errorMessage),
  };
}

/** Upstream's own words from an error body: `reason ?? message ?? error ?? detail` (SCENARIO-API.md §6). */
export function reasonOf(body: unknown): string | null {
  if (!isObject(body)) return null;
  for (const key of ['reason', 'message', 'error', 'detail'] as const) {
    const value = body[key];
    if (typeof value === 'string' && value !== '') return value;
    // Some APIs nest it: {"error": {"message": "…"}}.
    if (isObject(value) && typeof value.message === 'string' && value.message !== '') return value.message;
  }
  return null;
}

/**
 * How long upstream asks us to wait, in ms: `retry-after-ms`, then `Retry-After` (seconds or an HTTP date),
 * then a body's `remainingSeconds` (cool-downs, SCENARIO-API.md §6). Null when none says.
 */
export function retryAfterMsOf(headers: Headers, body: unknown, now: number = Date.now()): number | null {
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const remaining = isObject(body) ? finiteOrNull(body.remainingSeconds) : null;
  if (remaining !== null && remaining >= 0) return Math.round(remaining * 1000);
  return null;
}
