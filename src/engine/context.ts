// What every engine step needs, and the one way a step changes a job: a compare-and-set update that is
// published on the event bus when a client-visible field changed.
import type { Config } from '../config.ts';
import type { JobError, VideoJob, VideoJobPatch } from '../domain/video-job.ts';
import type { JobEventBus } from '../events/job-event-bus.ts';
import type { Logger } from '../log.ts';
import type { ScenarioApi } from '../scenario/types.ts';
import type { Store, UpdateJobOptions } from '../store/store.ts';
import type { RunProgress } from './run-progress.ts';
import type { RunTimeHistory } from './run-time-history.ts';
import type { UpstreamHealth } from './upstream-health.ts';

export interface EngineSettings {
  modelId: string;
  mediaDir: string;
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
    mediaDir: config.mediaDir,
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

const PUBLIC_FIELDS = [
  'status',
  'upstreamStatus',
  'upstreamJobId',
  'progress',
  'queuePosition',
  'error',
  'creativeUnitsCost',
  'submittedAt',
  'completedAt',
] as const satisfies ReadonlyArray<keyof VideoJob>;

function changesPublicFields(before: VideoJob, after: VideoJob): boolean {
  // Only `error` is an object; the rest compare as they are.
  return PUBLIC_FIELDS.some((field) =>
    field === 'error' ? JSON.stringify(before.error) !== JSON.stringify(after.error) : before[field] !== after[field],
  );
}

function publishIfVisible(ctx: EngineContext, before: VideoJob, updated: VideoJob | null, options: Omit<UpdateJobOptions, 'ifVersion'>): void {
  if (updated && (changesPublicFields(before, updated) || options.videoAssets?.length || options.message)) {
    ctx.bus.publish(updated);
  }
}

/**
 * Applies `patch` if the job is still at the version the caller read; returns the new job, or null when
 * someone else changed it first (the caller drops its step; the scheduler looks at the job again).
 */
export async function commitJobChange(
  ctx: EngineContext,
  job: VideoJob,
  patch: VideoJobPatch,
  options: Omit<UpdateJobOptions, 'ifVersion'> = {},
): Promise<VideoJob | null> {
  const updated = await ctx.store.updateJob(job.id, patch, { ...options, ifVersion: job.version });
  publishIfVisible(ctx, job, updated, options);
  return updated;
}

/** A change a step decided on, to be committed with others. */
export interface PlannedChange {
  job: VideoJob;
  patch: VideoJobPatch;
  options?: Omit<UpdateJobOptions, 'ifVersion'>;
}

/**
 * Several `commitJobChange`s in one transaction (a poll round's findings): each is compare-and-set on the version
 * its job was read at, and published like a single one. Returns the new jobs, null where a job changed meanwhile.
 */
export async function commitJobChanges(ctx: EngineContext, changes: readonly PlannedChange[]): Promise<Array<VideoJob | null>> {
  const updated = await ctx.store.updateJobs(
    changes.map(({ job, patch, options }) => ({ id: job.id, patch, options: { ...options, ifVersion: job.version } })),
  );
  changes.forEach((change, index) => publishIfVisible(ctx, change.job, updated[index] ?? null, change.options ?? {}));
  return updated;
}

/**
 * For results that must not be lost (an upstream job id that costs money): re-reads and re-applies on a
 * version conflict, a bounded number of times.
 */
export async function commitJobChangeSurely(
  ctx: EngineContext,
  job: VideoJob,
  patch: VideoJobPatch,
  options: Omit<UpdateJobOptions, 'ifVersion'> = {},
): Promise<VideoJob> {
  let current: VideoJob | null = job;
  for (let attempt = 0; attempt < 5 && current; attempt++) {
    const updated = await commitJobChange(ctx, current, patch, options);
    if (updated) return updated;
    current = await ctx.store.getJob(job.id);
  }
  throw new Error(`could not record a change of job ${job.id}`);
}
