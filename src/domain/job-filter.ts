import type { JobStatus, JobView, VideoSize } from './video-job.ts';

export interface VideoJobFilter {
  status?: JobStatus[] | null;
  /** Case-insensitive substring of the prompt or the negative prompt. */
  search?: string | null;
  createdAfter?: number | null;
  createdBefore?: number | null;
  size?: VideoSize[] | null;
  durationSeconds?: number[] | null;
  hasAudio?: boolean | null;
}

export type VideoJobOrder = 'CREATED_AT_DESC' | 'CREATED_AT_ASC' | 'UPDATED_AT_DESC';

/** The same predicate as the store's SQL filter, for live updates that never touch the database. */
export function matchesFilter(job: JobView, filter: VideoJobFilter | null | undefined): boolean {
  if (!filter) return true;
  if (filter.status?.length && !filter.status.includes(job.status)) return false;
  if (filter.size?.length && !filter.size.includes(job.size)) return false;
  if (filter.durationSeconds?.length && !filter.durationSeconds.includes(job.durationSeconds)) return false;
  if (filter.createdAfter != null && !(job.createdAt > filter.createdAfter)) return false;
  if (filter.createdBefore != null && !(job.createdAt < filter.createdBefore)) return false;
  if (filter.hasAudio != null && (job.audioId !== null) !== filter.hasAudio) return false;
  if (filter.search) {
    const needle = filter.search.toLowerCase();
    const inPrompt = job.prompt.toLowerCase().includes(needle);
    const inNegative = job.negativePrompt?.toLowerCase().includes(needle) ?? false;
    if (!inPrompt && !inNegative) return false;
  }
  return true;
}
