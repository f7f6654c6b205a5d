// The gateway's own model of a text-to-video job. Nothing here knows GraphQL, SQL or Scenario's wire format.

export const JOB_STATUSES = ['PENDING', 'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED'];
export const ACTIVE_STATUSES: readonly JobStatus[] = ['PENDING', 'QUEUED', 'IN_PROGRESS'];
export const isTerminal = (status: JobStatus): boolean => TERMINAL_STATUSES.includes(status);

export const VIDEO_SIZES = {
  LANDSCAPE_720P: { width: 1280, height: 720 },
  PORTRAIT_720P: { width: 720, height: 1280 },
  LANDSCAPE_1080P: { width: 1920, height: 1080 },
  PORTRAIT_1080P: { width: 1080, height: 1920 },
} as const;
export type VideoSize = keyof typeof VIDEO_SIZES;
export const VIDEO_SIZE_NAMES = Object.keys(VIDEO_SIZES) as VideoSize[];

/** What the model accepts. Prompt limits follow SCENARIO-API.md §8.2: the conservative 800/500 of DashScope's own text. */
export const WAN_T2V = {
  name: 'Wan 2.5 Text-to-Video',
  durationsSeconds: [5, 10] as readonly number[],
  maxPromptLength: 800,
  maxNegativePromptLength: 500,
  maxSeed: 2_147_483_647,
} as const;

/** The fields of VideoJobParams, fixed once a job exists. */
export const PARAM_FIELDS = [
  'prompt',
  'negativePrompt',
  'size',
  'durationSeconds',
  'enablePromptExpansion',
  'seed',
  'seedDrawn',
  'audioId',
] as const satisfies ReadonlyArray<keyof VideoJobParams>;

/** The parameters of a job after defaults were applied; what idempotency compares. */
export interface VideoJobParams {
  prompt: string;
  negativePrompt: string | null;
  size: VideoSize;
  durationSeconds: number;
  enablePromptExpansion: boolean;
  /** The seed sent upstream: the client's, or one the gateway drew. */
  seed: number;
  /** True when the client gave no seed and the gateway drew `seed`. */
  seedDrawn: boolean;
  audioId: string | null;
}

export const JOB_ERROR_CODES = [
  'UPSTREAM_REJECTED',
  'UPSTREAM_FAILED',
  'SUBMIT_UNCERTAIN',
  'UPSTREAM_JOB_LOST',
  'TIMED_OUT',
  'MIRROR_FAILED',
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

export interface JobError {
  code: JobErrorCode;
  message: string;
  hint: string | null;
  retryable: boolean;
}

/**
 * Where the engine is with a job, beyond its public status:
 * - `waiting`: PENDING, waits for admission (or for its backoff to end);
 * - `submitting`: the submit request may be on the wire; after a crash its outcome is unknown and must be reconciled;
 * - `polling`: submitted, followed upstream;
 * - `mirroring`: upstream succeeded, outputs are being copied into MEDIA_DIR;
 * - `done`: terminal.
 */
export type EnginePhase = 'waiting' | 'submitting' | 'polling' | 'mirroring' | 'done';

/** Jobs holding an upstream slot (with waiting jobs leased for their submit, CONTRACT §9). */
export const IN_FLIGHT_PHASES: readonly EnginePhase[] = ['submitting', 'polling'];
/** Every phase but `done`, spelled out so that a phase index serves the query (`!=` cannot use it). */
export const UNFINISHED_PHASES: readonly EnginePhase[] = ['waiting', 'submitting', 'polling', 'mirroring'];

export interface VideoJob extends VideoJobParams {
  id: string;
  ownerId: string;
  version: number;
  status: JobStatus;
  phase: EnginePhase;
  upstreamStatus: string | null;
  upstreamJobId: string | null;
  progress: number;
  queuePosition: number | null;
  idempotencyKey: string | null;
  error: JobError | null;
  creativeUnitsCost: number | null;
  /** Epoch milliseconds, as every time in the domain. */
  createdAt: number;
  updatedAt: number;
  submittedAt: number | null;
  completedAt: number | null;
  // Engine bookkeeping.
  /** When the engine should look at the job next (admission retry, poll, mirror retry); null when terminal. */
  nextCheckAt: number | null;
  /** The exact body sent upstream; kept for reconciliation of an uncertain submit. */
  upstreamRequest: Record<string, unknown> | null;
  /** The last job object upstream returned, raw. */
  upstreamPayload: unknown;
  submitAttempts: number;
  submitStartedAt: number | null;
  /** Consecutive failed polls (network, 5xx, 429); resets on success. */
  pollFailures: number;
  /** Consecutive 404s on the upstream job. */
  notFoundCount: number;
  /** Last time upstream status or progress changed. */
  lastUpstreamChangeAt: number | null;
  stalled: boolean;
  upstreamSucceededAt: number | null;
  upstreamAssetIds: string[];
  mirrorAttempts: number;
  // The store's own columns.
  /** Moves on every write, visible or not: what compare-and-set compares (`version` counts visible changes only). */
  revision: number;
  /** The replica working on the job now (an engine step's lease), and until when by the database's clock. */
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
}

/** What clients can see of a job, and what the event bus carries: no scheduling state, no raw upstream payload. */
export const JOB_VIEW_FIELDS = [
  'id',
  'ownerId',
  'version',
  'status',
  'phase',
  'upstreamStatus',
  'upstreamJobId',
  'progress',
  'queuePosition',
  'idempotencyKey',
  'error',
  'creativeUnitsCost',
  'createdAt',
  'updatedAt',
  'submittedAt',
  'completedAt',
  ...PARAM_FIELDS,
] as const satisfies ReadonlyArray<keyof VideoJob>;
export type JobView = Pick<VideoJob, (typeof JOB_VIEW_FIELDS)[number]>;

export function jobView(job: JobView): JobView {
  return Object.fromEntries(JOB_VIEW_FIELDS.map((field) => [field, job[field]])) as unknown as JobView;
}

export type NewVideoJob = Pick<VideoJob, 'id' | 'ownerId' | 'idempotencyKey'> & VideoJobParams;

/** The fields a change of a job may set; src/domain/job-change.ts adds the counters and updatedAt. */
export type VideoJobPatch = Partial<
  Omit<
    VideoJob,
    'id' | 'ownerId' | 'idempotencyKey' | 'version' | 'revision' | 'createdAt' | 'updatedAt' | 'leaseOwner' | 'leaseExpiresAt' | keyof VideoJobParams
  >
>;

export interface JobEvent {
  jobId: string;
  seq: number;
  at: number;
  status: JobStatus;
  upstreamStatus: string | null;
  progress: number;
  message: string | null;
}

export interface VideoAsset {
  id: string;
  jobId: string;
  ownerId: string;
  /** Index among the job's outputs. */
  outputIndex: number;
  upstreamAssetId: string;
  /** Path relative to MEDIA_DIR. */
  filePath: string;
  thumbnailPath: string | null;
  mimeType: string;
  byteSize: number;
  sha256: string;
  width: number | null;
  height: number | null;
  durationSeconds: number | null;
  frameRate: number | null;
  createdAt: number;
}

export interface AudioAsset {
  id: string;
  ownerId: string;
  fileName: string;
  mimeType: string;
  byteSize: number;
  durationSeconds: number | null;
  sha256: string;
  filePath: string;
  upstreamAssetId: string | null;
  createdAt: number;
}

/**
 * Idempotency compares what the client asked for, after defaults: a drawn seed counts as "no seed",
 * so repeating a request without a seed matches the job that drew one.
 */
export function sameRequest(a: VideoJobParams, b: VideoJobParams): boolean {
  const requestedSeed = (p: VideoJobParams) => (p.seedDrawn ? null : p.seed);
  return (
    a.prompt === b.prompt &&
    a.negativePrompt === b.negativePrompt &&
    a.size === b.size &&
    a.durationSeconds === b.durationSeconds &&
    a.enablePromptExpansion === b.enablePromptExpansion &&
    requestedSeed(a) === requestedSeed(b) &&
    a.audioId === b.audioId
  );
}
