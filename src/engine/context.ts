// What every engine step needs, and the one way a step changes a job: a compare-and-set update (on the revision,
// fenced by the lease) that is published on the event bus when it moved the version.
import type { Config } from '../config.ts';
import type { JobChangeExtras } from '../domain/job-change.ts';
import { jobView, type JobError, type VideoJob, type VideoJobPatch } from '../domain/video-job.ts';
import type { JobEventBus } from '../events/job-event-bus.ts';
import type { Logger } from '../log.ts';
import type { MediaStorage } from '../media/storage/index.ts';
import type { ScenarioApi } from '../scenario/types.ts';
import type { Store } from '../store/store.ts';
import type { RunProgress } from './run-progress.ts';
import type { RunTimeHistory } from './run-time-history.ts';
import type { UpstreamHealth } from './upstream-health.ts';

export interface EngineSettings {
  modelId: string;
  pollMinIntervalMs: number;
  pollMaxIntervalMs: number;
  upstreamMaxInFlight: number;
  maxActiveJobsPerUser: number;
  generateRateLimitPerMinute: number;
  /** How long after an uncertain submit the job may still show up in upstream's list (default 60 s). */
  reconcileWindowMs?: number;
}

/** The engine's part of the gateway's configuration. */
export function engineSettingsFrom(config: Config): EngineSettings {
  return {
    modelId: config.modelId,
    pollMinIntervalMs: config.pollMinIntervalMs,
    pollMaxIntervalMs: config.pollMaxIntervalMs,
    upstreamMaxInFlight: config.upstreamMaxInFlight,
    maxActiveJobsPerUser: config.maxActiveJobsPerUser,
    generateRateLimitPerMinute: config.generateRateLimitPerMinute,
  };
}

export interface EngineContext {
  store: Store;
  scenario: ScenarioApi;
  /** Where stored outputs and audio are kept. */
  media: MediaStorage;
  bus: JobEventBus;
  log: Logger;
  settings: EngineSettings;
  history: RunTimeHistory;
  /** What followed jobs' progress says about when they can finish (in memory). */
  runs: RunProgress;
  health: UpstreamHealth;
  now(): number;
  random(): number;
}

/** The patch that ends a job: its terminal status (and error), phase `done`, out of the queue, no further checks. */
export function endingPatch(now: number, status: 'SUCCEEDED' | 'FAILED' | 'CANCELED', error: JobError | null = null): VideoJobPatch {
  return { status, error, phase: 'done', completedAt: now, nextCheckAt: null, queuePosition: null };
}

/** A job this replica claimed is written only while the claim lasts; any other write only while no other replica holds it. */
function leaseRuleFor(ctx: EngineContext, job: VideoJob): 'held' | 'free' {
  return job.leaseOwner === ctx.store.instanceId ? 'held' : 'free';
}

/**
 * Puts a job's new state on the bus; never fails the change, which is committed already. Not waited for: this replica's
 * subscribers have it once `publish` returns, and a slow Redis must not slow every step (one connection keeps the order).
 */
export function publishJob(ctx: Pick<EngineContext, 'bus' | 'log'>, job: VideoJob): void {
  void ctx.bus.publish(jobView(job)).catch((error: unknown) => {
    // Subscribers on this replica have it; the others catch up when the bus is back (they re-read the rows). The bus
    // reports its outage once; a line per change would only repeat it.
    ctx.log.debug({ err: error, jobId: job.id }, 'job change not published to other replicas');
  });
}

/** A change that moved the version is one clients can see (src/domain/job-change.ts decides): it goes on the bus. */
function publishIfVisible(ctx: EngineContext, before: VideoJob, updated: VideoJob | null): void {
  if (updated && updated.version !== before.version) publishJob(ctx, updated);
}

/**
 * Applies `patch` if the job is still at the version the caller read; returns the new job, or null when
 * someone else changed it first (the caller drops its step; the scheduler looks at the job again).
 */
export async function commitJobChange(
  ctx: EngineContext,
  job: VideoJob,
  patch: VideoJobPatch,
  options: JobChangeExtras & { overrideLease?: boolean } = {},
): Promise<VideoJob | null> {
  const { overrideLease, ...extras } = options;
  const lease = overrideLease ? 'override' : leaseRuleFor(ctx, job);
  const updated = await ctx.store.updateJob(job.id, patch, { ...extras, ifRevision: job.revision, lease });
  publishIfVisible(ctx, job, updated);
  return updated;
}

/** A change a step decided on, to be committed with others. */
export interface PlannedChange {
  job: VideoJob;
  patch: VideoJobPatch;
  options?: JobChangeExtras;
}

/**
 * Several `commitJobChange`s in one transaction (a poll round's findings): each is compare-and-set on the version
 * its job was read at, and published like a single one. Returns the new jobs, null where a job changed meanwhile.
 */
export async function commitJobChanges(ctx: EngineContext, changes: readonly PlannedChange[]): Promise<Array<VideoJob | null>> {
  const updated = await ctx.store.updateJobs(
    changes.map(({ job, patch, options }) => ({ id: job.id, patch, options: { ...options, ifRevision: job.revision, lease: leaseRuleFor(ctx, job) } })),
  );
  changes.forEach((change, index) => publishIfVisible(ctx, change.job, updated[index] ?? null));
  return updated;
}

/**
 * For results that must not be lost (an upstream job id that costs money): re-reads and re-applies on a revision
 * conflict, a bounded number of times, as long as the job is still in the phase the step worked on and no other
 * replica holds it. A job another replica took over (this one's lease lapsed) is left to it: a submit it finds in
 * `submitting` is reconciled against upstream's list, so the upstream job is found, never paid twice.
 */
export async function commitJobChangeSurely(
  ctx: EngineContext,
  job: VideoJob,
  patch: VideoJobPatch,
  options: JobChangeExtras = {},
): Promise<VideoJob | null> {
  let current: VideoJob | null = job;
  const ours = (candidate: VideoJob | null): boolean =>
    candidate?.phase === job.phase && (candidate.leaseOwner === null || candidate.leaseOwner === ctx.store.instanceId);
  for (let attempt = 0; attempt < 5 && current && ours(current); attempt++) {
    const updated = await commitJobChange(ctx, current, patch, options);
    if (updated) return updated;
    current = await ctx.store.getJob(job.id);
  }
  if (ours(current)) throw new Error(`could not record a change of job ${job.id}`);
  ctx.log.warn({ jobId: job.id, phase: current?.phase ?? null, leaseOwner: current?.leaseOwner ?? null }, 'job moved on meanwhile; change dropped');
  return null;
}
