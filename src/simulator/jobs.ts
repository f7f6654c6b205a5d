// Simulated Wan jobs. A job is its creation time, its jittered length and the behaviour its prompt asked for;
// its status, progress and history are computed whenever it is read, so no timer runs per job.
import { randomInt } from 'node:crypto';

/** Behaviours a test selects with markers in the prompt. */
export interface JobBehaviour {
  /** `[sim:fail]`: ends in `failure` with `metadata.error` and `metadata.hint`. */
  fail: boolean;
  /** `[sim:never]`: stays `in-progress` for ever. */
  never: boolean;
  /** `[sim:status=<word>]`: reports this unknown status for the middle of its run, then carries on. */
  unknownStatus: string | null;
  /** `[sim:lost]`: GET of the job (and the job list) no longer know it once it is created. */
  lost: boolean;
}

export function behaviourOf(prompt: string): JobBehaviour {
  return {
    fail: prompt.includes('[sim:fail]'),
    never: prompt.includes('[sim:never]'),
    unknownStatus: /\[sim:status=([A-Za-z0-9_-]{1,40})\]/.exec(prompt)?.[1] ?? null,
    lost: prompt.includes('[sim:lost]'),
  };
}

export interface SimJob {
  /** Creation order: newest first in lists, and the pagination cursor. */
  seq: number;
  jobId: string;
  /** The body as sent, echoed as `metadata.input`. */
  input: Record<string, unknown>;
  createdAt: number;
  /** Total run time including jitter, ms. */
  lengthMs: number;
  behaviour: JobBehaviour;
  cost: number;
  /** Output asset id, decided up front; the asset becomes readable when the job succeeds. */
  videoAssetId: string;
  thumbnailAssetId: string;
  authorId: string;
  ownerId: string;
}

/** Where each status starts, as a fraction of the run; `success` at 1. In-progress is the long middle part. */
const PHASES = { warmingUp: 0.1, inProgress: 0.2, finalizing: 0.9 } as const;
const UNKNOWN_STATUS_SPAN = { from: 0.4, to: 0.7 } as const;
const FAILURE_AT = 0.6;
/** A `[sim:never]` job's progress stops short of done. */
const NEVER_PROGRESS_CAP = 0.99;

export const TERMINAL = new Set(['success', 'failure', 'canceled']);

interface Segment {
  status: string;
  /** Fraction of the run at which this status begins. */
  from: number;
}

function segmentsOf(behaviour: JobBehaviour): Segment[] {
  let segments: Segment[] = [
    { status: 'queued', from: 0 },
    { status: 'warming-up', from: PHASES.warmingUp },
    { status: 'in-progress', from: PHASES.inProgress },
  ];
  if (behaviour.unknownStatus) {
    segments.push({ status: behaviour.unknownStatus, from: UNKNOWN_STATUS_SPAN.from }, { status: 'in-progress', from: UNKNOWN_STATUS_SPAN.to });
  }
  segments.push({ status: 'finalizing', from: PHASES.finalizing }, { status: 'success', from: 1 });
  if (behaviour.never) segments = segments.filter((s) => s.from < PHASES.finalizing);
  else if (behaviour.fail) segments = [...segments.filter((s) => s.from < FAILURE_AT), { status: 'failure', from: FAILURE_AT }];
  return segments;
}

export interface JobState {
  status: string;
  progress: number;
  statusHistory: Array<{ status: string; date: string }>;
  updatedAt: number;
  terminal: boolean;
}

/** Progress of the in-progress stretch at run fraction `f`: 0 → 1 between its start and finalizing. */
const runningProgress = (f: number) => Math.min(1, Math.max(0, (f - PHASES.inProgress) / (PHASES.finalizing - PHASES.inProgress)));

export function jobStateAt(job: SimJob, now: number): JobState {
  const segments = segmentsOf(job.behaviour);
  const fraction = Math.max(0, now - job.createdAt) / job.lengthMs;
  const reached = segments.filter((s) => s.from <= fraction);
  const current = reached[reached.length - 1]!;
  const at = (f: number) => job.createdAt + Math.round(f * job.lengthMs);
  const terminal = TERMINAL.has(current.status);

  let progress: number;
  let updatedAt = at(current.from);
  if (current.status === 'success' || current.status === 'finalizing') progress = 1;
  else if (current.status === 'failure') progress = runningProgress(current.from); // frozen where it broke
  else if (current.from < PHASES.inProgress) progress = 0;
  else {
    const cap = job.behaviour.never ? NEVER_PROGRESS_CAP : 1;
    progress = Math.min(cap, runningProgress(fraction));
    // Progress moves, so the job changes until it reaches its cap.
    const capReachedAt = at(PHASES.inProgress + cap * (PHASES.finalizing - PHASES.inProgress));
    updatedAt = Math.max(updatedAt, Math.min(now, capReachedAt));
  }
  return {
    status: current.status,
    progress: Math.round(progress * 10_000) / 10_000,
    statusHistory: reached.map((s) => ({ status: s.status, date: new Date(at(s.from)).toISOString() })),
    updatedAt,
    terminal,
  };
}

/** The job as Scenario's API shows it (SCENARIO-API.md §3.1, §3.2 Wan analogue). */
export function jobToWire(job: SimJob, now: number): Record<string, unknown> {
  const state = jobStateAt(job, now);
  const metadata: Record<string, unknown> = {
    input: job.input,
    assetIds: state.status === 'success' ? [job.videoAssetId] : [],
  };
  if (state.status === 'failure') {
    metadata.error = 'Simulated provider failure: the video model could not render this prompt';
    metadata.hint = 'Rephrase the prompt or try another seed';
  }
  return {
    jobId: job.jobId,
    jobType: 'custom',
    status: state.status,
    progress: state.progress,
    metadata,
    statusHistory: state.statusHistory,
    createdAt: new Date(job.createdAt).toISOString(),
    updatedAt: new Date(state.updatedAt).toISOString(),
    authorId: job.authorId,
    ownerId: job.ownerId,
    ...(state.status === 'success' ? { billing: { cuCost: job.cost, cuDiscount: 0 } } : {}),
  };
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Scenario-style ids: a prefix and 24 alphanumerics (`job_…`, `asset_…`, `upload_…`). */
export function scenarioId(prefix: string): string {
  let id = `${prefix}_`;
  for (let i = 0; i < 24; i++) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

/** ±5 % on a job's length, so that jobs submitted together do not all finish on the same millisecond. */
export const jitteredLengthMs = (jobSeconds: number) => Math.max(1, Math.round(jobSeconds * 1000 * (0.95 + Math.random() * 0.1)));
