// The persistence interface, implemented by the SQLite store (synchronous better-sqlite3 transactions inside) and
// the PostgreSQL store. No SQL outside src/store/. Both save what src/domain/job-change.ts computes; the shared
// contract suite (test/store-contract.ts) holds them to the same behaviour.
//
// Each store instance acts for one replica (its `instanceId`): engine steps claim jobs under a lease kept in the
// database, and every job write is refused (null) while another replica holds a live lease on the job.
import type { JobChangeExtras } from '../domain/job-change.ts';
import type { VideoJobFilter, VideoJobOrder } from '../domain/job-filter.ts';
import type {
  AudioAsset,
  EnginePhase,
  JobEvent,
  JobStatus,
  NewVideoJob,
  VideoAsset,
  VideoJob,
  VideoJobPatch,
  VideoSize,
} from '../domain/video-job.ts';

/** An engine step's lease lasts this long unless renewed (the engine renews every third of it while a step runs). */
export const DEFAULT_LEASE_MS = 10_000;
/** A replica whose heartbeat is older than this counts as gone. */
export const REPLICA_LIVE_MS = 15_000;
/** The setting that keeps the owner served last by admission, so that round-robin holds across replicas. */
export const ADMISSION_CURSOR_SETTING = 'admission.lastServedOwner';

/** Another live gateway holds the database in a way this one may not share (CONTRACT §9): the start is refused. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
}

export interface User {
  id: string;
  name: string;
  createdAt: number;
}

export type CreateJobResult =
  | { kind: 'created'; job: VideoJob }
  /** A job of the same owner already has this idempotency key. */
  | { kind: 'existing'; job: VideoJob }
  | { kind: 'quota'; activeJobs: number };

export interface UpdateJobOptions extends JobChangeExtras {
  /** Apply only if the job is still at this revision (compare-and-set); otherwise the update returns null. */
  ifRevision?: number;
  /**
   * How the job's lease decides (by the database's clock):
   * - `free` (default): refused while another replica holds a live lease;
   * - `held`: an engine step's write, applied only while this replica's own lease is live, so a step that stalled past
   *   its lease changes nothing even when no other replica took the job yet (an intent to submit would otherwise take
   *   an upstream slot the admission no longer counts);
   * - `override`: applied whoever holds it, for canceling a job not yet sent: the holder's next write then fails its
   *   compare-and-set.
   */
  lease?: 'free' | 'held' | 'override';
}

/** One change of `updateJobs`: what `updateJob(id, patch, options)` would do. */
export interface JobChange {
  id: string;
  patch: VideoJobPatch;
  options?: UpdateJobOptions;
}

/** Keyset position in a listing: the order's time column and the id as tie-breaker. */
export interface JobCursor {
  time: number;
  id: string;
}

export interface JobPageQuery {
  ownerId: string;
  filter?: VideoJobFilter | null;
  order: VideoJobOrder;
  after?: JobCursor | null;
  before?: JobCursor | null;
  /** How many rows to return; the store reads one more to tell whether there are more. */
  limit: number;
  /** Take the rows nearest to `before` (Relay `last`), still returned in the order's direction. */
  fromEnd?: boolean;
}

export interface JobPage {
  jobs: VideoJob[];
  /** More rows beyond the page in the direction it was read. */
  hasMore: boolean;
}

export interface RunDuration {
  /** Seconds from submission to upstream success. */
  seconds: number;
  size: VideoSize;
  durationSeconds: number;
}

/** An authenticated token's user, with the version of their data (it moves on every visible write to it). */
export interface Viewer {
  user: User;
  /** Moved by the database itself (triggers) on every visible write to the user's jobs and audio, from any replica. */
  dataVersion: number;
}

export interface ClaimQuery {
  phases: readonly EnginePhase[];
  /** Jobs whose next check is at or before this time. */
  dueBy: number;
  limit: number;
}

export interface Admission {
  /** Waiting jobs now leased to this replica for their submit, at most the free upstream slots. */
  admitted: VideoJob[];
  /** The other waiting jobs not leased by anyone, in admission order: position 1 is next. */
  queue: VideoJob[];
}

export interface Replica {
  instanceId: string;
  startedAt: number;
  heartbeatAt: number;
}

export interface Store {
  /** The replica this store acts for: the owner of the leases it takes. */
  readonly instanceId: string;

  // Users and tokens.
  ensureUser(name: string): Promise<{ user: User; created: boolean }>;
  findUserByName(name: string): Promise<User | null>;
  countUsers(): Promise<number>;
  listUsers(): Promise<Array<User & { activeTokens: number }>>;
  addToken(userId: string, tokenHash: string): Promise<void>;
  /** Revokes every token of the user; returns how many were active. */
  revokeTokens(userId: string): Promise<number>;
  findViewerByTokenHash(tokenHash: string): Promise<Viewer | null>;

  /** Returns the stored value of a setting, creating it with `create()` the first time (e.g. the media signing secret). */
  getOrCreateSetting(key: string, create: () => string): Promise<string>;

  // Jobs.
  /**
   * In one transaction: an existing job with the same owner and idempotency key wins; otherwise the owner's
   * active jobs are counted against `maxActiveJobs`; otherwise the job is inserted as PENDING with event 1.
   */
  createJob(job: NewVideoJob, guard: { maxActiveJobs: number }): Promise<CreateJobResult>;
  getJob(id: string): Promise<VideoJob | null>;
  /** In the order of `ids`, null where unknown. */
  getJobs(ids: readonly string[]): Promise<Array<VideoJob | null>>;
  /**
   * One change as `planJobChange` computes it, in one transaction. Null when the job is unknown, not at `ifRevision`,
   * or leased by another live replica.
   */
  updateJob(id: string, patch: VideoJobPatch, options?: UpdateJobOptions): Promise<VideoJob | null>;
  /**
   * Several changes in one transaction (one commit, one sync to disk): each is applied exactly as `updateJob` would,
   * its own compare-and-set included; results in the order of `changes`, null where a change did not apply.
   */
  updateJobs(changes: readonly JobChange[]): Promise<Array<VideoJob | null>>;
  /** Removes the job with its events and asset rows; returns the removed assets so their files can be deleted. */
  deleteJob(id: string): Promise<VideoAsset[]>;
  listJobs(query: JobPageQuery): Promise<JobPage>;
  countJobs(ownerId: string, filter?: VideoJobFilter | null): Promise<number>;
  countActiveJobs(ownerId: string): Promise<number>;
  /** The owner's job with this idempotency key, if any. */
  findJobByIdempotencyKey(ownerId: string, idempotencyKey: string): Promise<VideoJob | null>;
  findJobByUpstreamId(upstreamJobId: string): Promise<VideoJob | null>;

  // Engine: leases and admission.
  /**
   * Leases to this replica the jobs of `phases` that are due and that no live lease holds, oldest due first, each
   * for the lease duration (by the database's clock). Concurrent claimers never get the same job.
   */
  claimDueJobs(query: ClaimQuery): Promise<VideoJob[]>;
  /**
   * In one locked transaction, gateway-wide: counts the upstream slots in use (jobs submitting or polling, and waiting
   * jobs leased for their submit), orders the waiting jobs round-robin across owners after the owner served last, and
   * leases the first due ones to this replica, at most `maxInFlight` minus the slots in use.
   */
  claimAdmissions(maxInFlight: number): Promise<Admission>;
  /** Extends this replica's leases on `jobIds`; returns the ids it still holds. */
  renewLeases(jobIds: readonly string[]): Promise<string[]>;
  /** Gives up this replica's leases on `jobIds` (a step ended). */
  releaseLeases(jobIds: readonly string[]): Promise<void>;
  /** Live leases held by this replica. */
  countLeases(): Promise<number>;
  /** Jobs holding an upstream slot: submitted (or being submitted) and not finished there, and waiting jobs leased for their submit. */
  countInFlight(): Promise<number>;
  /** Jobs per status, gateway-wide (for metrics); statuses without jobs may be absent. */
  countJobsByStatus(): Promise<Partial<Record<JobStatus, number>>>;
  /** Every job not terminal, for resuming after a restart. */
  listUnfinishedJobs(): Promise<VideoJob[]>;
  /** Recent upstream run times of succeeded jobs, newest first. */
  recentRunDurations(limit: number): Promise<RunDuration[]>;

  // Nested data, batched by job.
  listEvents(jobIds: readonly string[]): Promise<Map<string, JobEvent[]>>;
  listVideoAssets(jobIds: readonly string[]): Promise<Map<string, VideoAsset[]>>;
  getVideoAsset(id: string): Promise<VideoAsset | null>;

  // Audio.
  addAudio(audio: AudioAsset): Promise<void>;
  getAudios(ids: readonly string[]): Promise<Array<AudioAsset | null>>;
  setAudioUpstreamId(id: string, upstreamAssetId: string): Promise<void>;

  // Replicas.
  /** Records that this replica is alive (by the database's clock). */
  heartbeat(): Promise<void>;
  /** Replicas whose last heartbeat is recent, this one included once it has beaten. */
  listLiveReplicas(): Promise<Replica[]>;
  /** Removes this replica's heartbeat row (a graceful stop). */
  removeReplica(): Promise<void>;

  /** True when the database answers and every migration is applied. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}
