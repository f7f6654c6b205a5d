// Upstream's job list, newest first, page after page: the one pager behind polling rounds and reconciliation.
// Callers stop reading (break) as soon as they have what they need; a failed page throws to the caller.
import type { UpstreamJob } from '../scenario/types.ts';
import type { EngineContext } from './context.ts';

const LIST_PAGE_SIZE = 100;

/** Pages of upstream jobs, at most `maxPages`, ending early where upstream has no more. */
export async function* upstreamJobPages(ctx: EngineContext, maxPages: number): AsyncGenerator<UpstreamJob[]> {
  let token: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const list = await ctx.scenario.listJobs({ pageSize: LIST_PAGE_SIZE, paginationToken: token });
    yield list.jobs;
    token = list.nextPaginationToken;
    if (!token) return;
  }
}

/** Pages needed to see `jobs` jobs, plus one: the newest are not always ours. */
export function pagesFor(jobs: number): number {
  return Math.ceil(jobs / LIST_PAGE_SIZE) + 1;
}

/** The creation time of the oldest job of a page (Infinity when none says). */
export function oldestCreatedAt(jobs: readonly UpstreamJob[]): number {
  let oldest = Infinity;
  for (const job of jobs) if (job.createdAt !== null && job.createdAt < oldest) oldest = job.createdAt;
  return oldest;
}
