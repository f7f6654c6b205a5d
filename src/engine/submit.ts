// Submitting a job upstream, at most once. The intent (phase `submitting`, the exact body) is committed
// before the request leaves; an answer that cannot tell whether upstream took the job leads to
// reconciliation, never to a second submit.
import type { JobError, VideoJob } from '../domain/video-job.ts';
import { buildWanRequest } from '../scenario/wan-request.ts';
import { ScenarioError } from '../scenario/types.ts';
import { backoffDelay } from './backoff.ts';
import { commitJobChange, commitJobChangeSurely, endingPatch, type EngineContext } from './context.ts';
import { importAudioUpstream } from './audio-import.ts';
import { intoPolling } from './poll.ts';
import { RECONCILE_FIRST_DELAY_MS } from './reconcile.ts';
import { isBusy, isRejection } from './upstream-errors.ts';

export type SubmitOutcome = 'submitted' | 'backoff' | 'rejected' | 'uncertain' | 'skipped';

export async function submitJob(ctx: EngineContext, waiting: VideoJob): Promise<SubmitOutcome> {
  let job = waiting;
  let audioUpstreamId: string | null = null;
  if (job.audioId) {
    const audio = await importAudioUpstream(ctx, job.audioId);
    if (audio.kind === 'failed') return failBeforeSubmit(ctx, job, audio.error);
    if (audio.kind === 'retry') return deferSubmit(ctx, job, audio.error, 'audio upload failed');
    audioUpstreamId = audio.upstreamAssetId;
  }

  const body = buildWanRequest(job, audioUpstreamId);
  const startedAt = ctx.now();
  const intent = await commitJobChange(ctx, job, {
    phase: 'submitting',
    upstreamRequest: body,
    submitStartedAt: startedAt,
    submitAttempts: job.submitAttempts + 1,
    queuePosition: null,
    // Should the process die with the request on the wire, the scheduler reconciles from here.
    nextCheckAt: startedAt + RECONCILE_FIRST_DELAY_MS,
  });
  if (!intent) return 'skipped'; // canceled or changed meanwhile: nothing was sent
  job = intent;

  try {
    const result = await ctx.scenario.submitJob(ctx.settings.modelId, body);
    const upstream = result.job;
    await commitJobChangeSurely(ctx, job, { ...intoPolling(ctx, job, upstream, ctx.now()), creativeUnitsCost: result.creativeUnitsCost });
    ctx.health.recordSuccess();
    ctx.log.info({ jobId: job.id, upstreamJobId: upstream.jobId }, 'job submitted upstream');
    return 'submitted';
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return handleSubmitError(ctx, job, error);
  }
}

/** Nothing was taken upstream: the job waits, in its place in the queue, and is tried again later. */
async function deferSubmit(ctx: EngineContext, job: VideoJob, error: ScenarioError, why: string): Promise<SubmitOutcome> {
  const delay = backoffDelay(job.submitAttempts, {
    baseMs: ctx.settings.pollMinIntervalMs,
    maxMs: 5 * 60_000,
    retryAfterMs: error.retryAfterMs,
    random: ctx.random,
  });
  await commitJobChangeSurely(
    ctx,
    job,
    {
      phase: 'waiting',
      submitStartedAt: null,
      upstreamRequest: null,
      // The intent write already counted a request that was sent; an audio failure before it counts here.
      submitAttempts: job.phase === 'waiting' ? job.submitAttempts + 1 : job.submitAttempts,
      nextCheckAt: ctx.now() + delay,
    },
    { message: `Not submitted: ${why}; trying again in ${Math.ceil(delay / 1000)} s` },
  );
  ctx.log.warn({ jobId: job.id, route: error.route, status: error.status, delayMs: delay }, 'submit deferred');
  return 'backoff';
}

async function handleSubmitError(ctx: EngineContext, job: VideoJob, error: ScenarioError): Promise<SubmitOutcome> {
  const now = ctx.now();
  if (isBusy(error)) {
    return deferSubmit(ctx, job, error, error.notSent ? 'upstream unreachable' : 'upstream busy (429)');
  }
  if (isRejection(error)) {
    // Without an audio input, a 404 can only mean the model itself is unknown.
    ctx.health.recordRejection(error, { modelLevel: job.audioId === null });
    await failBeforeSubmit(ctx, job, {
      code: 'UPSTREAM_REJECTED',
      message: error.reason ?? `upstream refused the request (HTTP ${error.status})`,
      hint: null,
      retryable: false,
    });
    ctx.log.warn({ jobId: job.id, status: error.status }, 'submit rejected upstream');
    return 'rejected';
  }
  // Timeout, reset, 5xx or an unreadable answer: upstream may have taken the job. Reconcile, never resend.
  await commitJobChangeSurely(
    ctx,
    job,
    { nextCheckAt: now + RECONCILE_FIRST_DELAY_MS },
    { message: 'Submit outcome unknown; looking for the job upstream' },
  );
  ctx.log.warn({ jobId: job.id, kind: error.kind, status: error.status }, 'submit outcome unknown');
  return 'uncertain';
}

async function failBeforeSubmit(ctx: EngineContext, job: VideoJob, error: JobError): Promise<SubmitOutcome> {
  await commitJobChangeSurely(ctx, job, endingPatch(ctx.now(), 'FAILED', error));
  return 'rejected';
}
