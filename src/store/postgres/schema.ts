// The PostgreSQL tables: the twin of src/store/sqlite/schema.ts, with the same table, column and index names and the
// same property names, so a selected row of `videoJobs` *is* a `VideoJob` here too (test/store-schemas.test.ts holds
// the two together). Times are bigint epoch milliseconds read as numbers, JSON fields are jsonb.
// After a change here: `npx drizzle-kit generate --config drizzle.postgres.config.ts --name <what>` and commit the new
// file under migrations/postgres/. The migration `byte_order_ids` gives the ordered text columns the "C" collation,
// which drizzle cannot declare: a later migration that retypes one of them must keep it.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { EnginePhase, JobError, JobStatus, VideoSize } from '../../domain/video-job.ts';

/** Epoch milliseconds: beyond int4, and well inside Number.MAX_SAFE_INTEGER. */
const epochMs = (name: string) => bigint(name, { mode: 'number' });

/**
 * jsonb that round-trips every JSON value exactly. drizzle's own `jsonb()` parses again what pg already parsed, so a
 * stored string such as "123" would come back as the number 123. A JS null is SQL NULL, as in the SQLite store.
 */
const json = <T>(name: string) =>
  customType<{ data: T; driverData: unknown }>({
    dataType: () => 'jsonb',
    toDriver: (value) => (value === null ? null : JSON.stringify(value)),
    fromDriver: (value) => value as T,
  })(name);

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: epochMs('created_at').notNull(),
});

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Only the hash is stored; the token itself is shown once. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: epochMs('created_at').notNull(),
    revokedAt: epochMs('revoked_at'),
  },
  (t) => [index('api_tokens_user_id_idx').on(t.userId)],
);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const audioAssets = pgTable(
  'audio_assets',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    fileName: text('file_name').notNull(),
    mimeType: text('mime_type').notNull(),
    byteSize: bigint('byte_size', { mode: 'number' }).notNull(),
    durationSeconds: doublePrecision('duration_seconds'),
    sha256: text('sha256').notNull(),
    filePath: text('file_path').notNull(),
    upstreamAssetId: text('upstream_asset_id'),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [index('audio_assets_owner_id_idx').on(t.ownerId)],
);

export const videoJobs = pgTable(
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
    enablePromptExpansion: boolean('enable_prompt_expansion').notNull(),
    seed: integer('seed').notNull(),
    seedDrawn: boolean('seed_drawn').notNull(),
    // Not a foreign key: the GraphQL layer checks the audio when the job is created, and audio rows are never deleted.
    audioId: text('audio_id'),
    // Public state.
    upstreamStatus: text('upstream_status'),
    upstreamJobId: text('upstream_job_id'),
    /** 0..1, as upstream reports it. */
    progress: doublePrecision('progress').notNull(),
    queuePosition: integer('queue_position'),
    idempotencyKey: text('idempotency_key'),
    error: json<JobError | null>('error'),
    creativeUnitsCost: doublePrecision('creative_units_cost'),
    createdAt: epochMs('created_at').notNull(),
    updatedAt: epochMs('updated_at').notNull(),
    submittedAt: epochMs('submitted_at'),
    completedAt: epochMs('completed_at'),
    // Engine bookkeeping.
    nextCheckAt: epochMs('next_check_at'),
    upstreamRequest: json<Record<string, unknown> | null>('upstream_request'),
    upstreamPayload: json<unknown>('upstream_payload'),
    submitAttempts: integer('submit_attempts').notNull(),
    submitStartedAt: epochMs('submit_started_at'),
    pollFailures: integer('poll_failures').notNull(),
    notFoundCount: integer('not_found_count').notNull(),
    lastUpstreamChangeAt: epochMs('last_upstream_change_at'),
    stalled: boolean('stalled').notNull(),
    upstreamSucceededAt: epochMs('upstream_succeeded_at'),
    upstreamAssetIds: json<string[]>('upstream_asset_ids').notNull(),
    mirrorAttempts: integer('mirror_attempts').notNull(),
    // The store's own columns.
    revision: integer('revision').notNull().default(1),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: epochMs('lease_expires_at'),
  },
  (t) => [
    // Idempotency: one key per owner. NULLs are distinct (PostgreSQL's default), so jobs without a key never collide.
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
    // Engine: due jobs (phase = ANY(…) AND next_check_at <= now), waiting jobs, in-flight count, next wake-up.
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
export const ownerDataVersions = pgTable('owner_data_versions', {
  ownerId: text('owner_id').primaryKey(),
  version: integer('version').notNull(),
});

/** Replicas on this database and their last heartbeat (by the database's clock). */
export const replicas = pgTable('replicas', {
  instanceId: text('instance_id').primaryKey(),
  startedAt: epochMs('started_at').notNull(),
  heartbeatAt: epochMs('heartbeat_at').notNull(),
});

export const jobEvents = pgTable(
  'job_events',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => videoJobs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    at: epochMs('at').notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    upstreamStatus: text('upstream_status'),
    progress: doublePrecision('progress').notNull(),
    message: text('message'),
  },
  // The primary key is the unique (job_id, seq): a duplicate seq cannot be written, and reads by job use it.
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

export const videoAssets = pgTable(
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
    byteSize: bigint('byte_size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    width: integer('width'),
    height: integer('height'),
    durationSeconds: doublePrecision('duration_seconds'),
    frameRate: doublePrecision('frame_rate'),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [uniqueIndex('video_assets_job_output_uq').on(t.jobId, t.outputIndex)],
);
