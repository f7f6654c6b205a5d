// Client-side job bookkeeping: one cache of jobs by id where the highest `version` wins, the filter predicate
// (the server's `matchesFilter`, so live updates can place a job in or out of the history without a query), and
// the order of the history (newest first).

/**
 * @typedef {object} VideoAsset
 * @property {string} id
 * @property {string} url
 * @property {string | null} [urlExpiresAt]
 * @property {string | null} [thumbnailUrl]
 * @property {number | null} [durationSeconds]
 * @property {number | null} [width]
 * @property {number | null} [height]
 * @property {number | null} [byteSize]
 * @property {number | null} [frameRate]
 * @property {string} [mimeType]
 */

/**
 * @typedef {object} Job
 * @property {string} id
 * @property {number} version
 * @property {string} status
 * @property {string | null} upstreamStatus
 * @property {number} progress
 * @property {number | null} etaSeconds
 * @property {number | null} queuePosition
 * @property {string} prompt
 * @property {string | null} negativePrompt
 * @property {string} size
 * @property {number} width
 * @property {number} height
 * @property {number} durationSeconds
 * @property {boolean} enablePromptExpansion
 * @property {number | null} seed
 * @property {number | null} creativeUnitsCost
 * @property {string} createdAt
 * @property {string} updatedAt
 * @property {string | null} submittedAt
 * @property {string | null} completedAt
 * @property {{ code: string, message: string, hint: string | null, retryable: boolean } | null} error
 * @property {{ id: string, fileName: string, durationSeconds: number | null } | null} audio
 * @property {VideoAsset[]} videos
 * @property {Array<{ seq: number, at: string, status: string, upstreamStatus: string | null, progress: number, message: string | null }>} [events]
 * @property {string | null} [upstreamJobId]
 * @property {number} [receivedAt] when this browser got the message (for the ETA countdown)
 */

/**
 * @typedef {object} JobFilter the GraphQL VideoJobFilter
 * @property {string[]} [status]
 * @property {string} [search]
 * @property {string} [createdAfter]
 * @property {string} [createdBefore]
 * @property {string[]} [size]
 * @property {number[]} [durationSeconds]
 */

/**
 * The same predicate as the server's (src/domain/job-filter.ts): bounds exclusive, search case-insensitive on the
 * prompt and the negative prompt.
 * @param {Job} job
 * @param {JobFilter} filter
 */
export function matchesFilter(job, filter) {
  if (filter.status?.length && !filter.status.includes(job.status)) return false;
  if (filter.size?.length && !filter.size.includes(job.size)) return false;
  if (filter.durationSeconds?.length && !filter.durationSeconds.includes(job.durationSeconds)) return false;
  const created = new Date(job.createdAt).getTime();
  if (filter.createdAfter && !(created > new Date(filter.createdAfter).getTime())) return false;
  if (filter.createdBefore && !(created < new Date(filter.createdBefore).getTime())) return false;
  if (filter.search) {
    const needle = filter.search.toLowerCase();
    if (!job.prompt.toLowerCase().includes(needle) && !(job.negativePrompt ?? '').toLowerCase().includes(needle)) return false;
  }
  return true;
}

/**
 * Newest first, as the history's CREATED_AT_DESC (ties by id, descending).
 * @param {Job} a
 * @param {Job} b
 */
export function newestFirst(a, b) {
  const byTime = new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const URL_MARGIN_MS = 10 * 60_000;

/**
 * Every read signs media URLs anew; keep the URL a <video> or <img> already uses while it stays valid, so a
 * playing video or a thumbnail is not reloaded by an update that did not change the file.
 * @param {VideoAsset[] | undefined} previous
 * @param {VideoAsset[] | undefined} next
 * @param {number} now
 * @returns {VideoAsset[] | undefined}
 */
function keepValidUrls(previous, next, now) {
  if (!previous?.length || !next) return next;
  return next.map((asset) => {
    const old = previous.find((p) => p.id === asset.id);
    if (!old?.urlExpiresAt || new Date(old.urlExpiresAt).getTime() - now < URL_MARGIN_MS) return { ...old, ...asset };
    return { ...old, ...asset, url: old.url, thumbnailUrl: old.thumbnailUrl ?? asset.thumbnailUrl, urlExpiresAt: old.urlExpiresAt };
  });
}

export class JobCache {
  /** @type {Map<string, Job>} */
  #jobs = new Map();

  /** @param {string} id */
  get(id) {
    return this.#jobs.get(id);
  }

  /** @returns {Job[]} */
  all() {
    return [...this.#jobs.values()];
  }

  /**
   * Stores a job message unless an older version than the one known. An equal version is taken too: `etaSeconds`
   * is computed when read and changes no version, and the detail subscription adds fields the list does not read.
   * @param {Job} incoming
   * @returns {{ job: Job, previous: Job | undefined, applied: boolean }}
   */
  upsert(incoming) {
    const previous = this.#jobs.get(incoming.id);
    if (previous && previous.version > incoming.version) return { job: previous, previous, applied: false };
    const now = Date.now();
    /** @type {Job} */
    const job = { ...previous, ...incoming, receivedAt: now };
    const videos = keepValidUrls(previous?.videos, incoming.videos, now);
    if (videos) job.videos = videos;
    this.#jobs.set(job.id, job);
    return { job, previous, applied: true };
  }

  /** @param {string} id */
  remove(id) {
    this.#jobs.delete(id);
  }

  clear() {
    this.#jobs.clear();
  }
}
