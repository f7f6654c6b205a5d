// The SQLite implementation of `Store`. Every query goes through drizzle, so the optional logger sees all of them.
// better-sqlite3 is synchronous: each method runs its statements (one change = one transaction) without yielding,
// and the async signatures only keep the interface open to other databases.
// The hot statements (a job by id, a change of a job, nested reads by job ids, the token lookup) are drizzle
// prepared queries built once per store: building a query and preparing it in SQLite cost more than running it.
// Lists of ids are bound as one JSON array (`IN (SELECT value FROM json_each(?))`), so one prepared statement serves
// any number of ids.
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { and, asc, count, desc, eq, getTableColumns, inArray, isNotNull, isNull, lte, max, sql, type SQL } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type { VideoJobFilter } from '../../domain/job-filter.ts';
import {
  ACTIVE_STATUSES,
  type AudioAsset,
  type EnginePhase,
  type JobEvent,
  type JobStatus,
  type NewVideoJob,
  type VideoAsset,
  type VideoJob,
  type VideoJobPatch,
} from '../../domain/video-job.ts';
import type {
  CreateJobResult,
  JobPage,
  JobPageQuery,
  RunDuration,
  Store,
  JobChange,
  UpdateJobOptions,
  User,
} from '../store.ts';
import { jobFilterCondition, pageRead } from './job-queries.ts';
import * as schema from './schema.ts';
import { apiTokens, audioAssets, jobEvents, settings, users, videoAssets, videoJobs } from './schema.ts';

type Schema = typeof schema;
/** The database or a transaction: both run the same synchronous queries. */
type SyncDb = BaseSQLiteDatabase<'sync', Database.RunResult, Schema>;

/** Phases the scheduler wakes up for; `waiting` jobs are admitted by the queue, not by time alone. */
const DUE_PHASES: EnginePhase[] = ['polling', 'mirroring', 'submitting'];
/** Jobs holding an upstream slot. */
const IN_FLIGHT_PHASES: EnginePhase[] = ['submitting', 'polling'];
/** Every phase but `done`, spelled out so the phase index serves the query (`!=` cannot use it). */
const UNFINISHED_PHASES: EnginePhase[] = ['waiting', 'submitting', 'polling', 'mirroring'];

/** Above this many ids a batched read is split, to stay well below SQLite's bound-parameter limit. */
const MAX_IDS_PER_STATEMENT = 500;

const FIRST_EVENT_MESSAGE = 'Accepted by the gateway';

/** Job columns a patch may set; identity, parameters, version and timestamps are the store's. */
const PATCHABLE_COLUMNS = new Set<string>(Object.keys(getTableColumns(videoJobs)));
for (const fixed of [
  'id',
  'ownerId',
  'version',
  'createdAt',
  'updatedAt',
  'prompt',
  'negativePrompt',
  'size',
  'durationSeconds',
  'enablePromptExpansion',
  'seed',
  'seedDrawn',
  'audioId',
] satisfies Array<keyof VideoJob>) {
  PATCHABLE_COLUMNS.delete(fixed);
}

/** Every column a change writes: the patchable ones, the version and updatedAt. */
const UPDATED_COLUMNS = Object.entries(getTableColumns(videoJobs)).filter(([key]) => PATCHABLE_COLUMNS.has(key) || key === 'version' || key === 'updatedAt');

/** `column IN (the JSON array bound to placeholder "ids")`. */
function inIds(column: typeof videoJobs.id | typeof jobEvents.jobId | typeof videoAssets.jobId): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`;
}

/** The queries every request or engine step runs, prepared once. */
function prepareHotQueries(db: BetterSQLite3Database<Schema>) {
  const placeholder = (name: string) => sql.placeholder(name);
  // The update's values are bound as they are stored (encoded by `encodeJobColumns`), so that a null stays NULL.
  const setAll = Object.fromEntries(UPDATED_COLUMNS.map(([key]) => [key, sql`${sql.placeholder(key)}`]));
  return {
    jobById: db.select().from(videoJobs).where(eq(videoJobs.id, placeholder('id'))).prepare(),
    jobsByIds: db.select().from(videoJobs).where(inIds(videoJobs.id)).prepare(),
    updateJob: db.update(videoJobs).set(setAll).where(eq(videoJobs.id, placeholder('id'))).prepare(),
    lastSeq: db.select({ seq: max(jobEvents.seq) }).from(jobEvents).where(eq(jobEvents.jobId, placeholder('id'))).prepare(),
    insertEvent: db
      .insert(jobEvents)
      .values({
        jobId: placeholder('jobId'),
        seq: placeholder('seq'),
        at: placeholder('at'),
        status: placeholder('status'),
        upstreamStatus: placeholder('upstreamStatus'),
        progress: placeholder('progress'),
        message: placeholder('message'),
      })
      .prepare(),
    eventsByJobIds: db.select().from(jobEvents).where(inIds(jobEvents.jobId)).orderBy(asc(jobEvents.jobId), asc(jobEvents.seq)).prepare(),
    assetsByJobIds: db
      .select()
      .from(videoAssets)
      .where(inIds(videoAssets.jobId))
      .orderBy(asc(videoAssets.jobId), asc(videoAssets.outputIndex))
      .prepare(),
    userByTokenHash: db
      .select({ user: users })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(and(eq(apiTokens.tokenHash, placeholder('tokenHash')), isNull(apiTokens.revokedAt)))
      .prepare(),
  };
}

/** A job's updated columns as SQLite stores them (JSON text, 0/1), nulls as NULL. */
function encodeJobColumns(job: VideoJob): Record<string, unknown> {
  const values: Record<string, unknown> = { id: job.id };
  for (const [key, column] of UPDATED_COLUMNS) {
    const value = job[key as keyof VideoJob];
    values[key] = value === null || value === undefined ? null : column.mapToDriverValue(value);
  }
  return values;
}

export interface SqliteStoreOptions {
  /** The clock for every stored time; tests pass a fake one. */
  now?: () => number;
  /** Number of migrations the code ships, for `isReady()`. */
  expectedMigrations: number;
}

export class SqliteStore implements Store {
  private readonly now: () => number;
  private readonly expectedMigrations: number;
  private hot: ReturnType<typeof prepareHotQueries> | null = null;

  /** The prepared hot queries, built on first use. */
  private get q(): ReturnType<typeof prepareHotQueries> {
    return (this.hot ??= prepareHotQueries(this.db));
  }

  constructor(
    private readonly sqlite: Database.Database,
    private readonly db: BetterSQLite3Database<Schema>,
    options: SqliteStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.expectedMigrations = options.expectedMigrations;
  }

  /**
   * Writes take the write lock at BEGIN (IMMEDIATE): a deferred transaction that reads first and then writes
   * cannot wait for another connection's lock in WAL mode, it fails with SQLITE_BUSY at once.
   */
  private write<T>(change: (tx: SyncDb) => T): T {
    return this.db.transaction((tx) => change(tx), { behavior: 'immediate' });
  }

  // ---- Users and tokens ----

  async ensureUser(name: string): Promise<{ user: User; created: boolean }> {
    return this.write((tx) => {
      const existing = tx.select().from(users).where(eq(users.name, name)).get();
      if (existing) return { user: existing, created: false };
      const user: User = { id: randomUUID(), name, createdAt: this.now() };
      tx.insert(users).values(user).run();
      return { user, created: true };
    });
  }

  async findUserByName(name: string): Promise<User | null> {
    return this.db.select().from(users).where(eq(users.name, name)).get() ?? null;
  }

  async countUsers(): Promise<number> {
    return this.db.select({ n: count() }).from(users).get()?.n ?? 0;
  }

  async listUsers(): Promise<Array<User & { activeTokens: number }>> {
    return this.db
      .select({ ...getTableColumns(users), activeTokens: count(apiTokens.id) })
      .from(users)
      .leftJoin(apiTokens, and(eq(apiTokens.userId, users.id), isNull(apiTokens.revokedAt)))
      .groupBy(users.id)
      .orderBy(asc(users.createdAt), asc(users.name))
      .all();
  }

  async addToken(userId: string, tokenHash: string): Promise<void> {
    this.db.insert(apiTokens).values({ userId, tokenHash, createdAt: this.now() }).run();
  }

  async revokeTokens(userId: string): Promise<number> {
    const result = this.db
      .update(apiTokens)
      .set({ revokedAt: this.now() })
      .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .run();
    return result.changes;
  }

  async findUserByTokenHash(tokenHash: string): Promise<User | null> {
    return this.q.userByTokenHash.get({ tokenHash })?.user ?? null;
  }

  async getOrCreateSetting(key: string, create: () => string): Promise<string> {
    return this.write((tx) => {
      const read = () => tx.select().from(settings).where(eq(settings.key, key)).get()?.value;
      const stored = read();
      if (stored !== undefined) return stored;
      // OR IGNORE: another process may have written the key since; its value wins and is read back.
      tx.insert(settings).values({ key, value: create() }).onConflictDoNothing().run();
      return read()!;
    });
  }

  // ---- Jobs ----

  async createJob(job: NewVideoJob, guard: { maxActiveJobs: number }): Promise<CreateJobResult> {
    return this.write((tx): CreateJobResult => {
      if (job.idempotencyKey !== null) {
        const existing = findByIdempotencyKey(tx, job.ownerId, job.idempotencyKey);
        if (existing) return { kind: 'existing', job: existing };
      }
      const activeJobs = countActive(tx, job.ownerId);
      if (activeJobs >= guard.maxActiveJobs) return { kind: 'quota', activeJobs };

      const created = newJobRow(job, this.now());
      tx.insert(videoJobs).values(created).run();
      tx.insert(jobEvents)
        .values({ ...eventOf(created, FIRST_EVENT_MESSAGE), seq: 1, at: created.createdAt })
        .run();
      return { kind: 'created', job: created };
    });
  }

  async getJob(id: string): Promise<VideoJob | null> {
    return this.q.jobById.get({ id }) ?? null;
  }

  async getJobs(ids: readonly string[]): Promise<Array<VideoJob | null>> {
    const rows = this.selectByIds(ids, (chunk) => this.q.jobsByIds.all({ ids: JSON.stringify(chunk) }));
    const byId = new Map(rows.map((job) => [job.id, job]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async updateJob(id: string, patch: VideoJobPatch, options: UpdateJobOptions = {}): Promise<VideoJob | null> {
    return this.write((tx) => this.applyChange(tx, id, patch, options));
  }

  async updateJobs(changes: readonly JobChange[]): Promise<Array<VideoJob | null>> {
    if (changes.length === 0) return [];
    return this.write((tx) => changes.map((change) => this.applyChange(tx, change.id, change.patch, change.options ?? {})));
  }

  /** One change inside the caller's transaction: compare-and-set on the version, the row, and its event. */
  private applyChange(tx: SyncDb, id: string, patch: VideoJobPatch, options: UpdateJobOptions): VideoJob | null {
    const current = this.q.jobById.get({ id });
    if (!current) return null;
    if (options.ifVersion !== undefined && current.version !== options.ifVersion) return null;

    const now = this.now();
    const updated: VideoJob = { ...current, ...patchableFields(patch), version: current.version + 1, updatedAt: now };
    this.q.updateJob.run(encodeJobColumns(updated));

    const message = options.message ?? null;
    if (message !== null || publicStateChanged(current, updated)) {
      const lastSeq = this.q.lastSeq.get({ id })?.seq ?? 0;
      this.q.insertEvent.run({ ...eventOf(updated, message), seq: lastSeq + 1, at: now });
    }
    if (options.videoAssets?.length) tx.insert(videoAssets).values(options.videoAssets).run();
    return updated;
  }

  async deleteJob(id: string): Promise<VideoAsset[]> {
    return this.write((tx) => {
      const assets = tx.select().from(videoAssets).where(eq(videoAssets.jobId, id)).orderBy(asc(videoAssets.outputIndex)).all();
      // Events and asset rows go with the job (ON DELETE CASCADE).
      tx.delete(videoJobs).where(eq(videoJobs.id, id)).run();
      return assets;
    });
  }

  async listJobs(query: JobPageQuery): Promise<JobPage> {
    let rows: VideoJob[];
    let reversed: boolean;
    if (jobFilterCondition(query.filter) === undefined) {
      // Unfiltered pages (the history view) come in a few shapes: one prepared query per shape.
      const page = this.unfilteredPageQuery(query);
      reversed = page.reversed;
      rows = page.query.all({
        ownerId: query.ownerId,
        afterTime: query.after?.time,
        afterId: query.after?.id,
        beforeTime: query.before?.time,
        beforeId: query.before?.id,
        limit: query.limit + 1,
      });
    } else {
      const read = pageRead(query);
      reversed = read.reversed;
      rows = this.db
        .select()
        .from(videoJobs)
        .where(read.where)
        .orderBy(...read.orderBy)
        .limit(query.limit + 1)
        .all();
    }
    const jobs = rows.slice(0, query.limit);
    if (reversed) jobs.reverse();
    return { jobs, hasMore: rows.length > query.limit };
  }

  private readonly pageQueries = new Map<string, { query: ReturnType<SqliteStore['preparePageQuery']>; reversed: boolean }>();

  private unfilteredPageQuery(query: JobPageQuery) {
    const key = `${query.order}:${query.fromEnd ? 1 : 0}:${query.after ? 1 : 0}:${query.before ? 1 : 0}`;
    let page = this.pageQueries.get(key);
    if (!page) {
      const placeholder = (name: string) => sql.placeholder(name) as unknown as string & number;
      const read = pageRead({
        ownerId: placeholder('ownerId'),
        order: query.order,
        fromEnd: query.fromEnd,
        after: query.after ? { time: placeholder('afterTime'), id: placeholder('afterId') } : null,
        before: query.before ? { time: placeholder('beforeTime'), id: placeholder('beforeId') } : null,
        limit: 0,
      });
      page = { query: this.preparePageQuery(read.where, read.orderBy), reversed: read.reversed };
      this.pageQueries.set(key, page);
    }
    return page;
  }

  private preparePageQuery(where: SQL | undefined, orderBy: SQL[]) {
    return this.db
      .select()
      .from(videoJobs)
      .where(where)
      .orderBy(...orderBy)
      .limit(sql.placeholder('limit'))
      .prepare();
  }

  async countJobs(ownerId: string, filter?: VideoJobFilter | null): Promise<number> {
    return (
      this.db
        .select({ n: count() })
        .from(videoJobs)
        .where(and(eq(videoJobs.ownerId, ownerId), jobFilterCondition(filter)))
        .get()?.n ?? 0
    );
  }

  async countActiveJobs(ownerId: string): Promise<number> {
    return countActive(this.db, ownerId);
  }

  async findJobByIdempotencyKey(ownerId: string, idempotencyKey: string): Promise<VideoJob | null> {
    return findByIdempotencyKey(this.db, ownerId, idempotencyKey) ?? null;
  }

  async findJobByUpstreamId(upstreamJobId: string): Promise<VideoJob | null> {
    return this.db.select().from(videoJobs).where(eq(videoJobs.upstreamJobId, upstreamJobId)).get() ?? null;
  }

  // ---- Engine queries ----

  async listDueJobs(now: number, limit: number): Promise<VideoJob[]> {
    return this.db
      .select()
      .from(videoJobs)
      .where(and(inArray(videoJobs.phase, DUE_PHASES), lte(videoJobs.nextCheckAt, now)))
      .orderBy(asc(videoJobs.nextCheckAt), asc(videoJobs.id))
      .limit(limit)
      .all();
  }

  async listWaitingJobs(): Promise<VideoJob[]> {
    return this.db
      .select()
      .from(videoJobs)
      .where(eq(videoJobs.phase, 'waiting'))
      .orderBy(asc(videoJobs.createdAt), asc(videoJobs.id))
      .all();
  }

  async countInFlight(): Promise<number> {
    return this.db.select({ n: count() }).from(videoJobs).where(inArray(videoJobs.phase, IN_FLIGHT_PHASES)).get()?.n ?? 0;
  }

  async countJobsByStatus(): Promise<Partial<Record<JobStatus, number>>> {
    // Answered from the (status, upstream_succeeded_at) index alone.
    const rows = this.db.select({ status: videoJobs.status, n: count() }).from(videoJobs).groupBy(videoJobs.status).all();
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async listUnfinishedJobs(): Promise<VideoJob[]> {
    return this.db
      .select()
      .from(videoJobs)
      .where(inArray(videoJobs.phase, UNFINISHED_PHASES))
      .orderBy(asc(videoJobs.createdAt), asc(videoJobs.id))
      .all();
  }

  async recentRunDurations(limit: number): Promise<RunDuration[]> {
    const rows = this.db
      .select({
        submittedAt: videoJobs.submittedAt,
        upstreamSucceededAt: videoJobs.upstreamSucceededAt,
        size: videoJobs.size,
        durationSeconds: videoJobs.durationSeconds,
      })
      .from(videoJobs)
      .where(
        and(eq(videoJobs.status, 'SUCCEEDED'), isNotNull(videoJobs.submittedAt), isNotNull(videoJobs.upstreamSucceededAt)),
      )
      .orderBy(desc(videoJobs.upstreamSucceededAt))
      .limit(limit)
      .all();
    return rows.map((row) => ({
      seconds: (row.upstreamSucceededAt! - row.submittedAt!) / 1000,
      size: row.size,
      durationSeconds: row.durationSeconds,
    }));
  }

  // ---- Nested data, batched by job ----

  async listEvents(jobIds: readonly string[]): Promise<Map<string, JobEvent[]>> {
    const rows = this.selectByIds(jobIds, (chunk) => this.q.eventsByJobIds.all({ ids: JSON.stringify(chunk) }));
    return groupByJob(jobIds, rows);
  }

  async listVideoAssets(jobIds: readonly string[]): Promise<Map<string, VideoAsset[]>> {
    const rows = this.selectByIds(jobIds, (chunk) => this.q.assetsByJobIds.all({ ids: JSON.stringify(chunk) }));
    return groupByJob(jobIds, rows);
  }

  async getVideoAsset(id: string): Promise<VideoAsset | null> {
    return this.db.select().from(videoAssets).where(eq(videoAssets.id, id)).get() ?? null;
  }

  // ---- Audio ----

  async addAudio(audio: AudioAsset): Promise<void> {
    this.db.insert(audioAssets).values(audio).run();
  }

  async getAudios(ids: readonly string[]): Promise<Array<AudioAsset | null>> {
    const rows = this.selectByIds(ids, (chunk) =>
      this.db.select().from(audioAssets).where(inArray(audioAssets.id, chunk)).all(),
    );
    const byId = new Map(rows.map((audio) => [audio.id, audio]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async setAudioUpstreamId(id: string, upstreamAssetId: string): Promise<void> {
    this.db.update(audioAssets).set({ upstreamAssetId }).where(eq(audioAssets.id, id)).run();
  }

  // ---- Lifecycle ----

  async isReady(): Promise<boolean> {
    try {
      this.db.get(sql`SELECT 1`);
      const applied = this.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM __drizzle_migrations`);
      // At least as many: a newer deployment may already have added its own migration.
      return applied.n >= this.expectedMigrations;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.sqlite.open) return;
    // SQLite's advice for closing connections: refresh the planner's statistics where they are stale (cheap).
    this.sqlite.pragma('optimize');
    this.sqlite.close();
  }

  // ---- Diagnostics (tests, health checks) ----

  /** A connection setting as SQLite reports it, e.g. `journal_mode` → 'wal'. */
  readPragma(name: 'journal_mode' | 'synchronous' | 'foreign_keys' | 'busy_timeout'): unknown {
    return this.sqlite.pragma(name, { simple: true });
  }

  /** `PRAGMA integrity_check`: `['ok']` for a sound database file, otherwise the problems SQLite found. */
  integrityCheck(): string[] {
    return (this.sqlite.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
  }

  /** The `detail` lines of `EXPLAIN QUERY PLAN` for a statement, e.g. one captured with the logger. */
  explainQueryPlan(statement: string, params: readonly unknown[]): string[] {
    const plan = this.sqlite.prepare(`EXPLAIN QUERY PLAN ${statement}`).all(...params) as Array<{ detail: string }>;
    return plan.map((step) => step.detail);
  }

  /** Runs `select` once per chunk of distinct ids: one statement up to MAX_IDS_PER_STATEMENT ids. */
  private selectByIds<Row>(ids: readonly string[], select: (chunk: string[]) => Row[]): Row[] {
    const distinct = [...new Set(ids)];
    const rows: Row[] = [];
    for (let start = 0; start < distinct.length; start += MAX_IDS_PER_STATEMENT) {
      rows.push(...select(distinct.slice(start, start + MAX_IDS_PER_STATEMENT)));
    }
    return rows;
  }
}

function countActive(db: SyncDb, ownerId: string): number {
  return (
    db
      .select({ n: count() })
      .from(videoJobs)
      .where(and(eq(videoJobs.ownerId, ownerId), inArray(videoJobs.status, [...ACTIVE_STATUSES])))
      .get()?.n ?? 0
  );
}

function findByIdempotencyKey(db: SyncDb, ownerId: string, idempotencyKey: string): VideoJob | undefined {
  return db
    .select()
    .from(videoJobs)
    .where(and(eq(videoJobs.ownerId, ownerId), eq(videoJobs.idempotencyKey, idempotencyKey)))
    .get();
}

/** A new job as admitted: PENDING, waiting for admission right away, every counter at zero. */
function newJobRow(job: NewVideoJob, now: number): VideoJob {
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
  };
}

/**
 * Only the patchable columns of a patch: callers sometimes spread a whole job into a patch, and its id,
 * version or parameters must never overwrite the stored ones.
 */
function patchableFields(patch: VideoJobPatch): VideoJobPatch {
  // Undefined means "not part of the patch", as drizzle's `set` treats it.
  return Object.fromEntries(Object.entries(patch).filter(([key, value]) => PATCHABLE_COLUMNS.has(key) && value !== undefined));
}

/** What clients see change; progress alone counts too (CONTRACT §5: one event per change). */
function publicStateChanged(before: VideoJob, after: VideoJob): boolean {
  return (
    before.status !== after.status || before.upstreamStatus !== after.upstreamStatus || before.progress !== after.progress
  );
}

function eventOf(job: VideoJob, message: string | null): Omit<JobEvent, 'seq' | 'at'> {
  return { jobId: job.id, status: job.status, upstreamStatus: job.upstreamStatus, progress: job.progress, message };
}

/** Groups rows (already in their final order) by job, with an entry, possibly empty, for every requested id. */
function groupByJob<Row extends { jobId: string }>(jobIds: readonly string[], rows: Row[]): Map<string, Row[]> {
  const grouped = new Map<string, Row[]>(jobIds.map((id) => [id, []]));
  for (const row of rows) grouped.get(row.jobId)?.push(row);
  return grouped;
}
