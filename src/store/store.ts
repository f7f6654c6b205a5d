// The persistence interface. Async so that a Postgres store can implement it; the SQLite store runs
// synchronous better-sqlite3 transactions inside. No SQL outside src/store/sqlite.
import type { VideoJobFilter, VideoJobOrder } from '../domain/job-filter.ts';
import type { AudioAsset, JobEvent, JobStatus, NewVideoJob, VideoAsset, VideoJob, VideoJobPatch, VideoSize } from '../domain/video-job.ts';

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

export interface UpdateJobOptions {
  /** Apply only if the job is still at this version (compare-and-set); otherwise the update returns null. */
  ifVersion?: number;
  /**
   * A message for the event of this change. An event is appended when status, upstream status or progress
   * change, or when a message is given.
   */
  message?: string;
  /** Outputs stored in the same transaction as the change (mirroring's last step). */
  videoAssets?: VideoAsset[];
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

export interface Store {
  // Users and tokens.
  ensureUser(name: string): Promise<{ user: User; created: boolean }>;
  findUserByName(name: string): Promise<User | null>;
  countUsers(): Promise<number>;
  listUsers(): Promise<Array<User & { activeTokens: number }>>;
  addToken(userId: string, tokenHash: string): Promise<void>;
  /** Revokes every token of the user; returns how many were active. */
  revokeTokens(userId: string): Promise<number>;
  findUserByTokenHash(tokenHash: string): Promise<User | null>;

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
  /** One change: the patch, version + 1, updatedAt, and one event when status, upstream status or progress changed. */
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

  // Engine queries.
  /** Jobs in phase polling, mirroring or submitting whose next check is due, oldest due first. */
  listDueJobs(now: number, limit: number): Promise<VideoJob[]>;
  /** Every job waiting for admission, in creation order. */
  listWaitingJobs(): Promise<VideoJob[]>;
  /** Jobs submitted (or being submitted) upstream and not finished there. */
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

  /** True when the database answers and every migration is applied. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}
