// What a bus that lost messages (Redis away) asks the database for: the current state of every job with a listener on
// this replica, and of every job of a listened-to owner that changed since the messages may have been lost.
import { jobView, type JobView } from '../domain/video-job.ts';
import type { Store } from '../store/store.ts';

/** Replicas' clocks differ and `since` is when the loss was noticed, not when it began: look back further. */
const SINCE_MARGIN_MS = 30_000;
const PAGE_SIZE = 100;
const MAX_PAGES_PER_OWNER = 20;

export function resyncFrom(store: Pick<Store, 'getJobs' | 'listJobs'>) {
  return async (lost: { jobIds: string[]; ownerIds: string[]; since: number }): Promise<JobView[]> => {
    const updates = (await store.getJobs(lost.jobIds)).flatMap((job) => (job ? [jobView(job)] : []));
    const since = lost.since - SINCE_MARGIN_MS;
    for (const ownerId of lost.ownerIds) {
      let after: { time: number; id: string } | null = null;
      for (let page = 0; page < MAX_PAGES_PER_OWNER; page++) {
        const { jobs, hasMore } = await store.listJobs({ ownerId, order: 'UPDATED_AT_DESC', after, limit: PAGE_SIZE });
        const changed = jobs.filter((job) => job.updatedAt >= since);
        updates.push(...changed.map(jobView));
        if (!hasMore || changed.length < jobs.length) break;
        const last = jobs.at(-1)!;
        after = { time: last.updatedAt, id: last.id };
      }
    }
    return updates;
  };
}
