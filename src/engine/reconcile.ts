// An uncertain submit (timeout, reset, 5xx after the body was sent, or a crash mid-request) is settled by
// looking for the job in upstream's job list: the same model's job, created in the submit's time window,
// whose echoed input equals what was sent, and that no other gateway job has claimed (CONTRACT.md §5).
import type { VideoJob } from '../domain/video-job.ts';
import { ScenarioError, type UpstreamJob } from '../scenario/types.ts';
import { inputMatches } from '../scenario/wan-request.ts';
import { backoffDelay } from './backoff.ts';
import { commitJobChangeSurely, endingPatch, type EngineContext } from './context.ts';
import { CLOCK_SKEW_MS, GIVE_UP_AFTER_MS } from './limits.ts';
import { intoPolling } from './poll.ts';
import { oldestCreatedAt, upstreamJobPages } from './upstream-list.ts';

export const RECONCILE_FIRST_DELAY_MS = 2_000;
/** How long after the submit started a job may still appear in the list before the outcome counts as unknown. */
const DEFAULT_LOOK_FOR_MS = 60_000;
const MAX_PAGES = 10;

export async function reconcileSubmit(ctx: EngineContext, job: VideoJob): Promise<void> {
  const now = ctx.now();
  const startedAt = job.submitStartedAt ?? job.updatedAt;
  const lookForMs = ctx.settings.reconcileWindowMs ?? DEFAULT_LOOK_FOR_MS;
  let candidates: UpstreamJob[];
  try {
    candidates = await findCandidates(ctx, job, startedAt, lookForMs);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    if (now - startedAt > GIVE_UP_AFTER_MS) return failUncertain(ctx, job, 'upstream job list unreachable');
    const delay = backoffDelay(job.pollFailures, { baseMs: 2_000, maxMs: 5 * 60_000, retryAfterMs: error.retryAfterMs, random: ctx.random });
    await commitJobChangeSurely(ctx, job, { pollFailures: job.pollFailures + 1, nextCheckAt: now + delay });
    return;
  }

  if (candidates.length === 1) return adopt(ctx, job, candidates[0]!);
  if (candidates.length > 1) return failUncertain(ctx, job, `${candidates.length} upstream jobs match what was sent`);
  if (now - startedAt < lookForMs) {
    // Not listed yet: upstream may still be creating it.
    await commitJobChangeSurely(ctx, job, { pollFailures: 0, nextCheckAt: now + Math.min(10_000, lookForMs / 3) });
    return;
  }
  return failUncertain(ctx, job, 'no upstream job matches what was sent');
}

async function findCandidates(ctx: EngineContext, job: VideoJob, startedAt: number, lookForMs: number): Promise<UpstreamJob[]> {
  const sent = job.upstreamRequest ?? {};
  const windowStart = startedAt - CLOCK_SKEW_MS;
  const windowEnd = startedAt + lookForMs + CLOCK_SKEW_MS;
  const matches: UpstreamJob[] = [];
  for await (const page of upstreamJobPages(ctx, MAX_PAGES)) {
    for (const upstream of page) {
      const created = upstream.createdAt;
      const inWindow = created === null || (created >= windowStart && created <= windowEnd);
      const sameKind = upstream.jobType === null || upstream.jobType === 'custom';
      if (inWindow && sameKind && inputMatches(sent, upstream.input)) matches.push(upstream);
    }
    // Newest first: once a page reaches before the window, older pages cannot match.
    if (oldestCreatedAt(page) < windowStart) break;
  }
  const unclaimed: UpstreamJob[] = [];
  for (const candidate of matches) {
    const owner = await ctx.store.findJobByUpstreamId(candidate.jobId);
    if (!owner || owner.id === job.id) unclaimed.push(candidate);
  }
  return unclaimed;
}

async function adopt(ctx: EngineContext, job: VideoJob, upstream: UpstreamJob): Promise<void> {
  const submittedAt = upstream.createdAt ?? job.submitStartedAt ?? ctx.now();
  await commitJobChangeSurely(
    ctx,
    job,
    // Poll soon: the listed state may be old, and the job may be done already.
    intoPolling(ctx, job, upstream, submittedAt, ctx.settings.pollMinIntervalMs),
    { message: 'Uncertain submit settled: the upstream job was found' },
  );
  ctx.log.info({ jobId: job.id, upstreamJobId: upstream.jobId }, 'uncertain submit reconciled');
}

async function failUncertain(ctx: EngineContext, job: VideoJob, why: string): Promise<void> {
  await commitJobChangeSurely(
    ctx,
    job,
    endingPatch(ctx.now(), 'FAILED', {
      code: 'SUBMIT_UNCERTAIN',
      message: `The submit's outcome is unknown: ${why}`,
      hint: 'A job may have run upstream and been charged. The gateway never resubmits on its own; submit again if you want a new attempt.',
      retryable: true,
    }),
  );
  ctx.log.warn({ jobId: job.id, why }, 'submit outcome could not be settled');
}
