// How numbers, times and states read on screen.

/** @type {Record<string, { label: string, tone: string }>} */
export const STATUS = {
  PENDING: { label: 'Waiting', tone: 'pending' },
  QUEUED: { label: 'Queued', tone: 'queued' },
  IN_PROGRESS: { label: 'Generating', tone: 'running' },
  SUCCEEDED: { label: 'Ready', tone: 'ok' },
  FAILED: { label: 'Failed', tone: 'bad' },
  CANCELED: { label: 'Canceled', tone: 'muted' },
};

export const ACTIVE_STATUSES = ['PENDING', 'QUEUED', 'IN_PROGRESS'];

/** @param {string} status */
export const isTerminal = (status) => status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELED';

/** @type {Record<string, { label: string, aspect: string, quality: string, portrait: boolean }>} */
export const SIZES = {
  LANDSCAPE_720P: { label: 'Landscape 720p', aspect: '16:9', quality: '720p', portrait: false },
  PORTRAIT_720P: { label: 'Portrait 720p', aspect: '9:16', quality: '720p', portrait: true },
  LANDSCAPE_1080P: { label: 'Landscape 1080p', aspect: '16:9', quality: '1080p', portrait: false },
  PORTRAIT_1080P: { label: 'Portrait 1080p', aspect: '9:16', quality: '1080p', portrait: true },
};

/** @param {string} size */
export const sizeShort = (size) => (SIZES[size] ? `${SIZES[size].aspect} · ${SIZES[size].quality}` : size);

/**
 * A span of seconds the way people say it: "8 s", "1 min 05 s", "2 h 03 min".
 * @param {number} seconds
 */
export function formatSpan(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * A stopwatch: "0:07", "12:34", "1:02:03".
 * @param {number} seconds
 */
export function formatClock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** @param {number | null | undefined} bytes */
export function formatBytes(bytes) {
  if (bytes == null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** @param {number | null | undefined} seconds */
export function formatSeconds(seconds) {
  if (seconds == null) return '';
  return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** @param {string} iso */
export const formatDateTime = (iso) => dateTime.format(new Date(iso));

/** @param {string} iso */
export const formatTime = (iso) => timeOnly.format(new Date(iso));

/**
 * "just now", "5 minutes ago", "yesterday", then the date.
 * @param {string} iso
 * @param {number} now
 */
export function formatAgo(iso, now) {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return dateTime.format(new Date(iso));
}

/** @param {number | null | undefined} units */
export function formatCost(units) {
  if (units == null) return '—';
  return `${Number.isInteger(units) ? units : units.toFixed(2)} CU`;
}

/**
 * How long a job has been running, or how long it took once it ended.
 * @param {{ createdAt: string, completedAt?: string | null }} job
 * @param {number} now
 */
export function elapsedSeconds(job, now) {
  const start = new Date(job.createdAt).getTime();
  const end = job.completedAt ? new Date(job.completedAt).getTime() : now;
  return Math.max(0, (end - start) / 1000);
}

/**
 * The ETA counted down since the message that carried it arrived; null when unknown.
 * @param {{ etaSeconds?: number | null, receivedAt?: number }} job
 * @param {number} now
 */
export function etaLeft(job, now) {
  if (job.etaSeconds == null) return null;
  const since = job.receivedAt ? (now - job.receivedAt) / 1000 : 0;
  return Math.max(0, job.etaSeconds - since);
}

/**
 * @param {number} count
 * @param {string} one
 * @param {string} [many]
 */
export const plural = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
