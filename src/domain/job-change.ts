// The rules of a job change, in one place for every store: what a new job looks like, which fields a change may
// set, what counts as a change a client can see (only those move `version` and `updatedAt`), and when a change
// adds an event. Stores save the row and the event computed here and nothing else; claims and releases of leases
// are theirs, but a job that ends gives up its lease in the change that ends it.
import { PARAM_FIELDS, type JobEvent, type NewVideoJob, type VideoAsset, type VideoJob, type VideoJobPatch } from './video-job.ts';

export const FIRST_EVENT_MESSAGE = 'Accepted by the gateway';

/** Fields of the job a patch must never set: identity, parameters, the counters and the store's own columns. */
const FIXED_FIELDS = new Set<string>([
  'id',
  'ownerId',
  'idempotencyKey',
  'version',
  'revision',
  'createdAt',
  'updatedAt',
  'leaseOwner',
  'leaseExpiresAt',
  ...PARAM_FIELDS,
] satisfies Array<keyof VideoJob>);

/**
 * What a client can see of a job (CONTRACT §5): a change to any of these, an added event or stored outputs move the
 * version. Scheduling state (next check, counters, the raw upstream payload, leases) does not.
 */
export const VISIBLE_FIELDS = [
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

/** A new job as admitted: PENDING, waiting for admission right away, every counter at zero. */
export function newJobRow(job: NewVideoJob, now: number): VideoJob {
  return {
    id: job.id,
    ownerId: job.ownerId,
    idempotencyKey: job.idempotencyKey,
    prompt: job.prompt,
    negativePrompt: job.negativePrompt,
    size: job.size,
    durationSeconds: job.durationSeconds,
    enablePromptExpansion: job.enablePromptExpansion,
    seed: job.seed,
    seedDrawn: job.seedDrawn,
    audioId: job.audioId,
    version: 1,
    revision: 1,
    status: 'PENDING',
    phase: 'waiting',
    upstreamStatus: null,
    upstreamJobId: null,
    progress: 0,
    queuePosition: null,
    error: null,
    creativeUnitsCost: null,
    createdAt: now,
    updatedAt: now,
    submittedAt: null,
    completedAt: null,
    nextCheckAt: now,
    upstreamRequest: null,
    upstreamPayload: null,
    submitAttempts: 0,
    submitStartedAt: null,
    pollFailures: 0,
    notFoundCount: 0,
    lastUpstreamChangeAt: null,
    stalled: false,
    upstreamSucceededAt: null,
    upstreamAssetIds: [],
    mirrorAttempts: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
  };
}

/** The event a job's row starts with (seq 1). */
export function firstEvent(job: VideoJob): JobEvent {
  return { ...eventOf(job, FIRST_EVENT_MESSAGE), seq: 1, at: job.createdAt };
}

export interface JobChangeExtras {
  /** A message for the event of this change; a message always adds an event. */
  message?: string;
  /** Outputs stored with the change (mirroring's last step). */
  videoAssets?: VideoAsset[];
}

export interface PlannedJobRow {
  /** The row to save: the patch applied, revision + 1, and version + 1 with updatedAt when `visible`. */
  row: VideoJob;
  /** The event to append (the store numbers it), or null. */
  event: Omit<JobEvent, 'seq'> | null;
  visible: boolean;
}

/** The row and event that `patch` makes of `current` at `now`. */
export function planJobChange(current: VideoJob, patch: VideoJobPatch, extras: JobChangeExtras, now: number): PlannedJobRow {
  const applied: VideoJob = { ...current, ...patchableFields(patch) };
  const message = extras.message ?? null;
  const eventDue = message !== null || eventFieldsChanged(current, applied);
  const visible = eventDue || Boolean(extras.videoAssets?.length) || visibleFieldsChanged(current, applied);
  const counted: VideoJob = visible
    ? { ...applied, revision: current.revision + 1, version: current.version + 1, updatedAt: now }
    : { ...applied, revision: current.revision + 1 };
  // Nothing works on a finished job again: its lease would only linger until it expired.
  const row: VideoJob = counted.phase === 'done' ? { ...counted, leaseOwner: null, leaseExpiresAt: null } : counted;
  return { row, event: eventDue ? { ...eventOf(row, message), at: now } : null, visible };
}

/**
 * Only the patchable fields of a patch: callers sometimes spread a whole job into a patch, and its id, version or
 * parameters must never overwrite the stored ones. Undefined means "not part of the patch".
 */
function patchableFields(patch: VideoJobPatch): VideoJobPatch {
  return Object.fromEntries(Object.entries(patch).filter(([key, value]) => !FIXED_FIELDS.has(key) && value !== undefined));
}

/** What an event records: status, upstream status and progress (CONTRACT §5: one event per change of these). */
function eventFieldsChanged(before: VideoJob, after: VideoJob): boolean {
  return before.status !== after.status || before.upstreamStatus !== after.upstreamStatus || before.progress !== after.progress;
}

function visibleFieldsChanged(before: VideoJob, after: VideoJob): boolean {
  // Only `error` is an object; the rest compare as they are.
  return VISIBLE_FIELDS.some((field) =>
    field === 'error' ? JSON.stringify(before.error) !== JSON.stringify(after.error) : before[field] !== after[field],
  );
}

function eventOf(job: VideoJob, message: string | null): Omit<JobEvent, 'seq' | 'at'> {
  return { jobId: job.id, status: job.status, upstreamStatus: job.upstreamStatus, progress: job.progress, message };
}
