// Following submitted jobs upstream. When several jobs are followed, one round of list calls answers for all of them
// (paging on, newest first, until every followed job was seen), and everything a round learnt is written in one
// transaction; due jobs the list did not show are read one by one. Poll errors back off and never fail a job; only
// repeated 404s or 24 h without an end do.
import type { JobStatus, VideoJob, VideoJobPatch } from '../domain/video-job.ts';
import { ScenarioError, type UpstreamJob } from '../scenario/types.ts';
import { backoffDelay } from './backoff.ts';
import { commitJobChange, commitJobChanges, endingPatch, type EngineContext, type PlannedChange } from './context.ts';
import { CLOCK_SKEW_MS, GIVE_UP_AFTER_MS } from './limits.ts';
import { nextPollDelay, STALL_AFTER_MS } from './poll-schedule.ts';
import { oldestCreatedAt, pagesFor, upstreamJobPages } from './upstream-list.ts';
import { mapUpstreamStatus } from './upstream-status.ts';

/**
 * At least this many jobs followed at once ⇒ one list call reports on all of them instead of one read each. Two is
 * enough: one request either way when only one of them is due, and the other is answered (and rescheduled) for free.
 */
export const LIST_CALL_THRESHOLD = 2;
/** Most list pages one round reads (2 000 upstream jobs); followed jobs older than that are read one by one. */
const MAX_LIST_PAGES = 20;
/** Consecutive 404s before a submitted job counts as lost upstream. */
const LOST_AFTER_NOT_FOUND = 3;
/** Reads in parallel, at most. */
const READ_CONCURRENCY = 4;

/** Milliseconds until the next poll of `job`, given how many polls it has had. */
export function schedulePoll(ctx: EngineContext, job: VideoJob, pollsSoFar: number): number {
  const now = ctx.now();
  const earliest = ctx.history.earliestFinishSeconds(job.size, job.durationSeconds);
  return nextPollDelay({
    ageMs: now - (job.submittedAt ?? now),
    minIntervalMs: ctx.settings.pollMinIntervalMs,
    maxIntervalMs: ctx.settings.pollMaxIntervalMs,
    earliestFinishMs: earliest === null ? null : earliest * 1000,
    cannotFinishForMs: ctx.runs.cannotFinishForMs(job, job.upstreamStatus, now),
    stalled: job.stalled,
    pollsSoFar,
    random: ctx.random,
  });
}

/**
 * Polls the `due` jobs. When enough jobs are followed (`due` plus the `others` not yet due), one list call
 * answers for every one of them it reports: those all count as polled now, which spares their own reads later.
 * Due jobs the list does not show (older than its page, or listing failed) are read one by one.
 */
export async function pollJobs(ctx: EngineContext, due: VideoJob[], others: VideoJob[] = []): Promise<void> {
  let unanswered = due;
  if (due.length + others.length >= LIST_CALL_THRESHOLD) {
    const followed = [...due, ...others];
    const listed = await listUpstreamJobsCovering(ctx, followed);
    if (listed) {
      unanswered = due.filter((job) => !listed.has(job.upstreamJobId!));
      const changes: PlannedChange[] = [];
      for (const job of followed) {
        const upstream = listed.get(job.upstreamJobId!);
        if (upstream) changes.push({ job, ...upstreamChange(ctx, job, upstream) });
      }
      await commitJobChanges(ctx, changes);
    }
  }
  await forEachLimited(unanswered, READ_CONCURRENCY, (job) => pollOne(ctx, job));
}

/**
 * Upstream's job list, newest first, page after page until every job of `jobs` was seen, a page reaches before the
 * oldest of them was submitted, or MAX_LIST_PAGES; null when the first page fails (the caller reads jobs one by one).
 */
async function listUpstreamJobsCovering(ctx: EngineContext, jobs: readonly VideoJob[]): Promise<Map<string, UpstreamJob> | null> {
  const wanted = new Set(jobs.map((job) => job.upstreamJobId!));
  const oldestSubmit = Math.min(...jobs.map((job) => job.submittedAt ?? ctx.now()));
  const listed = new Map<string, UpstreamJob>();
  let missing = wanted.size;
  let pagesRead = 0;
  try {
    for await (const page of upstreamJobPages(ctx, Math.min(MAX_LIST_PAGES, pagesFor(jobs.length)))) {
      pagesRead++;
      for (const upstream of page) {
        if (wanted.has(upstream.jobId) && !listed.has(upstream.jobId)) missing--;
        listed.set(upstream.jobId, upstream);
      }
      if (missing <= 0 || oldestCreatedAt(page) < oldestSubmit - CLOCK_SKEW_MS) break;
    }
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    ctx.log.warn({ kind: error.kind, status: error.status, page: pagesRead }, 'job list failed; reading jobs one by one');
    return pagesRead === 0 ? null : listed;
  }
  return listed;
}

async function pollOne(ctx: EngineContext, job: VideoJob): Promise<void> {
  try {
    const upstream = await ctx.scenario.getJob(job.upstreamJobId!);
    await applyUpstreamJob(ctx, job, upstream);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    await recordPollFailure(ctx, job, error);
  }
}

async function recordPollFailure(ctx: EngineContext, job: VideoJob, error: ScenarioError): Promise<void> {
  const now = ctx.now();
  if (error.kind === 'http' && error.status === 404) {
    const notFound = job.notFoundCount + 1;
    if (notFound >= LOST_AFTER_NOT_FOUND) {
      ctx.runs.forget(job.id);
      await commitJobChange(ctx, job, {
        ...endingPatch(now, 'FAILED', {
          code: 'UPSTREAM_JOB_LOST',
          message: `Upstream no longer knows job ${job.upstreamJobId}`,
          hint: 'The job may have been removed upstream; submit again.',
          retryable: true,
        }),
        notFoundCount: notFound,
      });
      return;
    }
    await commitJobChange(ctx, job, { notFoundCount: notFound, nextCheckAt: now + ctx.settings.pollMinIntervalMs });
    return;
  }
  const failures = job.pollFailures + 1;
  const delay = backoffDelay(failures, {
    baseMs: ctx.settings.pollMinIntervalMs,
    maxMs: Math.max(ctx.settings.pollMaxIntervalMs, 60_000),
    retryAfterMs: error.retryAfterMs,
    random: ctx.random,
  });
  ctx.log.warn({ jobId: job.id, kind: error.kind, status: error.status, failures, delayMs: delay }, 'poll failed; backing off');
  await commitJobChange(ctx, job, { pollFailures: failures, nextCheckAt: now + delay });
}

/**
 * The change that takes a job whose upstream job is known (a submit's answer, or one found by reconciliation) into
 * polling; the first poll comes after `firstPollMs`, or on the schedule of a new job.
 */
export function intoPolling(ctx: EngineContext, job: VideoJob, upstream: UpstreamJob, submittedAt: number, firstPollMs?: number): VideoJobPatch {
  const now = ctx.now();
  const scheduled = schedulePoll(ctx, { ...job, submittedAt }, 0);
  return {
    phase: 'polling',
    status: mapUpstreamStatus(upstream.status) === 'IN_PROGRESS' ? 'IN_PROGRESS' : 'QUEUED',
    upstreamStatus: upstream.status,
    upstreamJobId: upstream.jobId,
    upstreamPayload: upstream.raw,
    progress: upstream.progress,
    submittedAt,
    lastUpstreamChangeAt: now,
    pollFailures: 0,
    nextCheckAt: now + (firstPollMs === undefined ? scheduled : Math.min(scheduled, firstPollMs)),
  };
}

/** Records what upstream says about a job and decides when to look next. */
export async function applyUpstreamJob(ctx: EngineContext, job: VideoJob, upstream: UpstreamJob): Promise<VideoJob | null> {
  const { patch, options } = upstreamChange(ctx, job, upstream);
  return commitJobChange(ctx, job, patch, options);
}

/** The change that records what upstream says about `job`, and when to look next. */
export function upstreamChange(ctx: EngineContext, job: VideoJob, upstream: UpstreamJob): Omit<PlannedChange, 'job'> {
  ctx.runs.observe(job, upstream.status, upstream.progress, ctx.now());
  const change = changeFor(ctx, job, upstream);
  // Only a followed job's progress says anything; one that leaves polling (stored, ended) is forgotten.
  if (change.patch.phase !== undefined) ctx.runs.forget(job.id);
  return change;
}

function changeFor(ctx: EngineContext, job: VideoJob, upstream: UpstreamJob): Omit<PlannedChange, 'job'> {
  const now = ctx.now();
  const mapped = mapUpstreamStatus(upstream.status);
  const changed = upstream.status !== job.upstreamStatus || upstream.progress !== job.progress;
  const base: VideoJobPatch = {
    upstreamStatus: upstream.status,
    upstreamPayload: upstream.raw,
    progress: upstream.progress,
    pollFailures: 0,
    notFoundCount: 0,
    lastUpstreamChangeAt: changed ? now : job.lastUpstreamChangeAt,
  };

  if (upstream.status === 'success') {
    return {
      patch: {
        ...base,
        status: 'IN_PROGRESS',
        phase: 'mirroring',
        progress: 1,
        upstreamSucceededAt: now,
        upstreamAssetIds: upstream.assetIds,
        mirrorAttempts: 0,
        nextCheckAt: now,
      },
      options: { message: 'Finished upstream; storing the video' },
    };
  }
  if (mapped === 'FAILED') {
    return {
      patch: {
        ...base,
        ...endingPatch(now, 'FAILED', {
          code: 'UPSTREAM_FAILED',
          message: upstream.error ?? 'The provider reported a failure without a message',
          hint: upstream.hint,
          retryable: false,
        }),
      },
    };
  }
  if (mapped === 'CANCELED') {
    return { patch: { ...base, ...endingPatch(now, 'CANCELED') } };
  }

  const submittedAt = job.submittedAt ?? now;
  if (now - submittedAt > GIVE_UP_AFTER_MS) {
    return {
      patch: {
        ...base,
        ...endingPatch(now, 'FAILED', {
          code: 'TIMED_OUT',
          message: 'No end upstream within 24 hours',
          hint: 'The gateway stopped following the job; submit again.',
          retryable: true,
        }),
      },
    };
  }

  // Still running (or a status this gateway does not know: kept, polling goes on).
  const status: JobStatus = mapped ?? job.status;
  const lastChange = base.lastUpstreamChangeAt ?? submittedAt;
  const stalled = now - lastChange > STALL_AFTER_MS;
  const message = stalled && !job.stalled ? 'No upstream change for 30 minutes; polling slowly' : undefined;
  const next = { ...job, status, stalled, upstreamStatus: upstream.status };
  return { patch: { ...base, status, stalled, nextCheckAt: now + schedulePoll(ctx, next, 1) }, options: message ? { message } : {} };
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
