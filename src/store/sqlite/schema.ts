// The SQLite tables. Property names are the domain's field names, so a selected row of `videoJobs` *is* a
// `VideoJob`; column names are snake_case. Times are integer epoch milliseconds, JSON fields are JSON text.
// After a change here: `npx drizzle-kit generate --config drizzle.sqlite.config.ts --name <what>` and commit the new
// file under migrations/sqlite/; src/store/postgres/schema.ts must follow (test/store-schemas.test.ts compares them).
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { EnginePhase, JobError, JobStatus, VideoSize } from '../../domain/video-job.ts';

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: integer('created_at').notNull(),
});

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Only the hash is stored; the token itself is shown once. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_tokens_user_id_idx').on(t.userId)],
);

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const audioAssets = sqliteTable(
  'audio_assets',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    fileName: text('file_name').notNull(),
    mimeType: text('mime_type').notNull(),
    byteSize: integer('byte_size').notNull(),
    durationSeconds: real('duration_seconds'),
    sha256: text('sha256').notNull(),
    filePath: text('file_path').notNull(),
    upstreamAssetId: text('upstream_asset_id'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('audio_assets_owner_id_idx').on(t.ownerId)],
);

export const videoJobs = sqliteTable(
  'video_jobs',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    version: integer('version').notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    phase: text('phase').$type<EnginePhase>().notNull(),
    // Parameters (VideoJobParams).
    prompt: text('prompt').notNull(),
    negativePrompt: text('negative_prompt'),
    size: text('size').$type<VideoSize>().notNull(),
    durationSeconds: integer('duration_seconds').notNull(),
    enablePromptExpansion: integer('enable_prompt_expansion', { mode: 'boolean' }).notNull(),
    seed: integer('seed').notNull(),
    seedDrawn: integer('seed_drawn', { mode: 'boolean' }).notNull(),
    // Not a foreign key: the GraphQL layer checks the audio when the job is created, and audio rows are never deleted.
    audioId: text('audio_id'),
    // Public state.
    upstreamStatus: text('upstream_status'),
    upstreamJobId: text('upstream_job_id'),
    /** 0..1, as upstream reports it. */
    progress: real('progress').notNull(),
    queuePosition: integer('queue_position'),
    idempotencyKey: text('idempotency_key'),
    error: text('error', { mode: 'json' }).$type<JobError | null>(),
    creativeUnitsCost: real('creative_units_cost'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    submittedAt: integer('submitted_at'),
    completedAt: integer('completed_at'),
    // Engine bookkeeping.
    nextCheckAt: integer('next_check_at'),
    upstreamRequest: text('upstream_request', { mode: 'json' }).$type<Record<string, unknown> | null>(),
    upstreamPayload: text('upstream_payload', { mode: 'json' }).$type<unknown>(),
    submitAttempts: integer('submit_attempts').notNull(),
    submitStartedAt: integer('submit_started_at'),
    pollFailures: integer('poll_failures').notNull(),
    notFoundCount: integer('not_found_count').notNull(),
    lastUpstreamChangeAt: integer('last_upstream_change_at'),
    stalled: integer('stalled', { mode: 'boolean' }).notNull(),
    upstreamSucceededAt: integer('upstream_succeeded_at'),
    upstreamAssetIds: text('upstream_asset_ids', { mode: 'json' }).$type<string[]>().notNull(),
    mirrorAttempts: integer('mirror_attempts').notNull(),
    // The store's own columns.
    revision: integer('revision').notNull().default(1),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: integer('lease_expires_at'),
  },
  (t) => [
    // Idempotency: one key per owner. SQLite treats NULLs as distinct, so jobs without a key never collide.
    uniqueIndex('video_jobs_owner_idempotency_key_uq').on(t.ownerId, t.idempotencyKey),
    // One gateway job per upstream job (reconciliation must never adopt an upstream job twice).
    uniqueIndex('video_jobs_upstream_job_id_uq')
      .on(t.upstreamJobId)
      .where(sql`${t.upstreamJobId} IS NOT NULL`),
    // History pages: keyset on (created_at, id) or (updated_at, id) within one owner.
    index('video_jobs_owner_created_idx').on(t.ownerId, t.createdAt, t.id),
    index('video_jobs_owner_updated_idx').on(t.ownerId, t.updatedAt, t.id),
    // History filtered by status (with the id, one status is already in page order), and the owner's active-job count (quota).
    index('video_jobs_owner_status_created_idx').on(t.ownerId, t.status, t.createdAt, t.id),
    // Engine: due jobs (phase IN … AND next_check_at <= now), waiting jobs, in-flight count, next wake-up.
    index('video_jobs_phase_next_check_idx').on(t.phase, t.nextCheckAt),
    // Engine: recent run durations of succeeded jobs, newest first.
    index('video_jobs_status_upstream_succeeded_idx').on(t.status, t.upstreamSucceededAt),
    // Leases held by a replica (renewal, metrics).
    index('video_jobs_lease_owner_idx')
      .on(t.leaseOwner)
      .where(sql`${t.leaseOwner} IS NOT NULL`),
  ],
);

/**
 * A counter per user that the database moves itself (triggers in the migration `owner_data_versions`) on every
 * visible write to the user's jobs and audio: the response cache compares it, whichever replica wrote.
 */
export const ownerDataVersions = sqliteTable('owner_data_versions', {
  ownerId: text('owner_id').primaryKey(),
  version: integer('version').notNull(),
});

/** Replicas on this database and their last heartbeat (by the database's clock). */
export const replicas = sqliteTable('replicas', {
  instanceId: text('instance_id').primaryKey(),
  startedAt: integer('started_at').notNull(),
  heartbeatAt: integer('heartbeat_at').notNull(),
});

export const jobEvents = sqliteTable(
  'job_events',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => videoJobs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    at: integer('at').notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    upstreamStatus: text('upstream_status'),
    progress: real('progress').notNull(),
    message: text('message'),
  },
  // The primary key is the unique (job_id, seq): a duplicate seq cannot be written, and reads by job use it.
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

export const videoAssets = sqliteTable(
  'video_assets',
  {
    id: text('id').primaryKey(),
    jobId: text('job_id')
      .notNull()
      .references(() => videoJobs.id, { onDelete: 'cascade' }),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    outputIndex: integer('output_index').notNull(),
    upstreamAssetId: text('upstream_asset_id').notNull(),
    filePath: text('file_path').notNull(),
    thumbnailPath: text('thumbnail_path'),
    mimeType: text('mime_type').notNull(),
    byteSize: integer('byte_size').notNull(),
    sha256: text('sha256').notNull(),
    width: integer('width'),
    height: integer('height'),
    durationSeconds: real('duration_seconds'),
    frameRate: real('frame_rate'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('video_assets_job_output_uq').on(t.jobId, t.outputIndex)],
);
