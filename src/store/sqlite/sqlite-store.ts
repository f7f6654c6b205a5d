// The SQLite implementation of `Store`. Every query goes through drizzle, so the optional logger sees all of them.
// better-sqlite3 is synchronous: each method runs its statements (one change = one transaction) without yielding,
// and the async signatures only keep the interface open to other databases.
// The hot statements (a job by id, a change of a job, nested reads by job ids, the token lookup) are drizzle
// prepared queries built once per store: building a query and preparing it in SQLite cost more than running it.
// Lists of ids are bound as one JSON array (`IN (SELECT value FROM json_each(?))`), so one prepared statement serves
// any number of ids.
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { and, asc, count, desc, eq, getTableColumns, gt, inArray, isNotNull, isNull, lte, max, or, sql, type SQL } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import { admissionOrder } from '../../domain/admission.ts';
import { firstEvent, newJobRow, planJobChange } from '../../domain/job-change.ts';
import type { VideoJobFilter } from '../../domain/job-filter.ts';
import {
  ACTIVE_STATUSES,
  IN_FLIGHT_PHASES,
  PARAM_FIELDS,
  UNFINISHED_PHASES,
  type AudioAsset,
  type JobEvent,
  type JobStatus,
  type NewVideoJob,
  type VideoAsset,
  type VideoJob,
  type VideoJobPatch,
} from '../../domain/video-job.ts';
import {
  ADMISSION_CURSOR_SETTING,
  DEFAULT_LEASE_MS,
  REPLICA_LIVE_MS,
  type Admission,
  type ClaimQuery,
  type CreateJobResult,
  type JobChange,
  type JobPage,
  type JobPageQuery,
  type Replica,
  type RunDuration,
  type Store,
  type UpdateJobOptions,
  type User,
  type Viewer,
} from '../store.ts';
import { leaseAllows } from '../lease-rule.ts';
import { groupByJob, inOrderOf } from '../rows.ts';
import { sqliteJobListing as listing } from './job-queries.ts';
import * as schema from './schema.ts';
import { apiTokens, audioAssets, jobEvents, ownerDataVersions, replicas, settings, users, videoAssets, videoJobs } from './schema.ts';

type Schema = typeof schema;
/** The database or a transaction: both run the same synchronous queries. */
type SyncDb = BaseSQLiteDatabase<'sync', Database.RunResult, Schema>;

/** Above this many ids a batched read is split, to stay well below SQLite's bound-parameter limit. */
const MAX_IDS_PER_STATEMENT = 500;

/**
 * Columns a change never writes: identity and parameters, fixed at creation. The lease columns are written as planned:
 * as read in the change's own transaction, or cleared when the job ends.
 */
const UNCHANGING_COLUMNS = new Set<string>(['id', 'ownerId', 'idempotencyKey', 'createdAt', ...PARAM_FIELDS] satisfies Array<keyof VideoJob>);

/** Every column a change writes: the row planJobChange computed, but for the unchanging columns. */
const UPDATED_COLUMNS = Object.entries(getTableColumns(videoJobs)).filter(([key]) => !UNCHANGING_COLUMNS.has(key));

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
    viewerByTokenHash: db
      .select({ user: users, dataVersion: sql<number>`coalesce(${ownerDataVersions.version}, 0)` })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .leftJoin(ownerDataVersions, eq(ownerDataVersions.ownerId, users.id))
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
  instanceId: string;
  leaseMs?: number;
  /** Runs once the database is closed (the process lock's release). */
  onClose?: () => void;
}

export class SqliteStore implements Store {
  readonly instanceId: string;
  private readonly now: () => number;
  private readonly expectedMigrations: number;
  private readonly leaseMs: number;
  private readonly onClose: () => void;
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
    this.instanceId = options.instanceId;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.onClose = options.onClose ?? (() => {});
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
    this.write((tx) => tx.insert(apiTokens).values({ userId, tokenHash, createdAt: this.now() }).run());
  }

  async revokeTokens(userId: string): Promise<number> {
    const result = this.write((tx) => tx
      .update(apiTokens)
      .set({ revokedAt: this.now() })
      .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .run());
    return result.changes;
  }

  async findViewerByTokenHash(tokenHash: string): Promise<Viewer | null> {
    return this.q.viewerByTokenHash.get({ tokenHash }) ?? null;
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
      tx.insert(jobEvents).values(firstEvent(created)).run();
      return { kind: 'created', job: created };
    });
  }

  async getJob(id: string): Promise<VideoJob | null> {
    return this.q.jobById.get({ id }) ?? null;
  }

  async getJobs(ids: readonly string[]): Promise<Array<VideoJob | null>> {
    const rows = this.selectByIds(ids, (chunk) => this.q.jobsByIds.all({ ids: JSON.stringify(chunk) }));
    return inOrderOf(ids, rows);
  }

  async updateJob(id: string, patch: VideoJobPatch, options: UpdateJobOptions = {}): Promise<VideoJob | null> {
    return this.write((tx) => this.applyChange(tx, id, patch, options));
  }

  async updateJobs(changes: readonly JobChange[]): Promise<Array<VideoJob | null>> {
    if (changes.length === 0) return [];
    return this.write((tx) => changes.map((change) => this.applyChange(tx, change.id, change.patch, change.options ?? {})));
  }

  /** One change inside the caller's transaction: compare-and-set on the revision, fenced by the lease; the row and event as planned. */
  private applyChange(tx: SyncDb, id: string, patch: VideoJobPatch, options: UpdateJobOptions): VideoJob | null {
    const current = this.q.jobById.get({ id });
    if (!current) return null;
    if (options.ifRevision !== undefined && current.revision !== options.ifRevision) return null;
    if (!leaseAllows(current, this.instanceId, options.lease ?? 'free', leaseClock())) return null;
    const now = this.now();

    const { row, event } = planJobChange(current, patch, options, now);
    this.q.updateJob.run(encodeJobColumns(row));
    if (event) {
      const lastSeq = this.q.lastSeq.get({ id })?.seq ?? 0;
      this.q.insertEvent.run({ ...event, seq: lastSeq + 1 });
    }
    if (options.videoAssets?.length) tx.insert(videoAssets).values(options.videoAssets).run();
    return row;
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
    if (listing.filterCondition(query.filter) === undefined) {
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
      const read = listing.pageRead(query);
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
      const read = listing.pageRead({
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
        .where(and(eq(videoJobs.ownerId, ownerId), listing.filterCondition(filter)))
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

  async claimDueJobs(query: ClaimQuery): Promise<VideoJob[]> {
    if (query.limit <= 0 || query.phases.length === 0) return [];
    return this.write((tx) => {
      const now = leaseClock();
      const due = tx
        .select()
        .from(videoJobs)
        .where(and(inArray(videoJobs.phase, [...query.phases]), lte(videoJobs.nextCheckAt, query.dueBy), leaseFree(now)))
        .orderBy(asc(videoJobs.nextCheckAt), asc(videoJobs.id))
        .limit(query.limit)
        .all();
      return due.map((job) => this.lease(tx, job, now));
    });
  }

  async claimAdmissions(maxInFlight: number): Promise<Admission> {
    return this.write((tx) => {
      const now = leaseClock();
      const dueBy = this.now();
      let slots = maxInFlight - countInFlight(tx, now);
      const waiting = tx
        .select()
        .from(videoJobs)
        .where(and(eq(videoJobs.phase, 'waiting'), leaseFree(now)))
        .orderBy(asc(videoJobs.createdAt), asc(videoJobs.id))
        .all();
      const cursor = tx.select().from(settings).where(eq(settings.key, ADMISSION_CURSOR_SETTING)).get()?.value ?? null;
      let lastServed = cursor;
      const admitted: VideoJob[] = [];
      const queue: VideoJob[] = [];
      for (const job of admissionOrder(waiting, cursor)) {
        if (slots > 0 && (job.nextCheckAt ?? 0) <= dueBy) {
          slots--;
          lastServed = job.ownerId;
          admitted.push(this.lease(tx, job, now));
        } else {
          queue.push(job);
        }
      }
      if (lastServed !== cursor && lastServed !== null) {
        tx.insert(settings)
          .values({ key: ADMISSION_CURSOR_SETTING, value: lastServed })
          .onConflictDoUpdate({ target: settings.key, set: { value: lastServed } })
          .run();
      }
      return { admitted, queue };
    });
  }

  /** Leases `job` to this replica inside the caller's transaction; a claim is a write (revision + 1), not a visible change. */
  private lease(tx: SyncDb, job: VideoJob, now: number): VideoJob {
    const leased: VideoJob = { ...job, revision: job.revision + 1, leaseOwner: this.instanceId, leaseExpiresAt: now + this.leaseMs };
    tx.update(videoJobs)
      .set({ revision: leased.revision, leaseOwner: leased.leaseOwner, leaseExpiresAt: leased.leaseExpiresAt })
      .where(eq(videoJobs.id, job.id))
      .run();
    return leased;
  }

  async renewLeases(jobIds: readonly string[]): Promise<string[]> {
    if (jobIds.length === 0) return [];
    return this.write((tx) =>
      tx
        .update(videoJobs)
        .set({ leaseExpiresAt: leaseClock() + this.leaseMs })
        .where(and(eq(videoJobs.leaseOwner, this.instanceId), inArray(videoJobs.id, [...jobIds])))
        .returning({ id: videoJobs.id })
        .all()
        .map((row) => row.id),
    );
  }

  async releaseLeases(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    this.write((tx) =>
      tx
        .update(videoJobs)
        .set({ leaseOwner: null, leaseExpiresAt: null })
        .where(and(eq(videoJobs.leaseOwner, this.instanceId), inArray(videoJobs.id, [...jobIds])))
        .run(),
    );
  }

  async countLeases(): Promise<number> {
    return (
      this.db
        .select({ n: count() })
        .from(videoJobs)
        .where(and(eq(videoJobs.leaseOwner, this.instanceId), gt(videoJobs.leaseExpiresAt, leaseClock())))
        .get()?.n ?? 0
    );
  }

  async countInFlight(): Promise<number> {
    return countInFlight(this.db, leaseClock());
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
      .where(inArray(videoJobs.phase, [...UNFINISHED_PHASES]))
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
    this.write((tx) => tx.insert(audioAssets).values(audio).run());
  }

  async getAudios(ids: readonly string[]): Promise<Array<AudioAsset | null>> {
    const rows = this.selectByIds(ids, (chunk) =>
      this.db.select().from(audioAssets).where(inArray(audioAssets.id, chunk)).all(),
    );
    return inOrderOf(ids, rows);
  }

  async setAudioUpstreamId(id: string, upstreamAssetId: string): Promise<void> {
    this.write((tx) => tx.update(audioAssets).set({ upstreamAssetId }).where(eq(audioAssets.id, id)).run());
  }

  // ---- Replicas ----

  async heartbeat(): Promise<void> {
    const now = leaseClock();
    this.write((tx) =>
      tx
        .insert(replicas)
        .values({ instanceId: this.instanceId, startedAt: now, heartbeatAt: now })
        .onConflictDoUpdate({ target: replicas.instanceId, set: { heartbeatAt: now } })
        .run(),
    );
  }

  async listLiveReplicas(): Promise<Replica[]> {
    return this.db
      .select()
      .from(replicas)
      .where(gt(replicas.heartbeatAt, leaseClock() - REPLICA_LIVE_MS))
      .orderBy(asc(replicas.startedAt), asc(replicas.instanceId))
      .all();
  }

  async removeReplica(): Promise<void> {
    this.write((tx) => tx.delete(replicas).where(eq(replicas.instanceId, this.instanceId)).run());
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
    this.onClose();
  }

  /**
   * Drops every lease and heartbeat left by earlier processes: only for the process that holds the database file's
   * lock, when it starts (no other process can be alive), so their jobs are taken up at once.
   */
  async clearDeadProcesses(): Promise<void> {
    this.write((tx) => {
      tx.update(videoJobs).set({ leaseOwner: null, leaseExpiresAt: null }).where(isNotNull(videoJobs.leaseOwner)).run();
      tx.delete(replicas).run();
    });
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

/**
 * Leases and heartbeats run on the machine's clock, as PostgreSQL's run on the database's: never on the clock of stored
 * times, which tests move by hand.
 */
const leaseClock = (): number => Date.now();

/** No live lease: never leased, released, or expired (its replica died or stalled). */
function leaseFree(now: number): SQL {
  return or(isNull(videoJobs.leaseOwner), lte(videoJobs.leaseExpiresAt, now))!;
}

function countInFlight(db: SyncDb, now: number): number {
  // One phase condition (not an OR of two) keeps the phase index usable.
  const holdingSlot = and(
    inArray(videoJobs.phase, [...IN_FLIGHT_PHASES, 'waiting']),
    or(sql`${videoJobs.phase} <> 'waiting'`, and(isNotNull(videoJobs.leaseOwner), gt(videoJobs.leaseExpiresAt, now))),
  );
  return db.select({ n: count() }).from(videoJobs).where(holdingSlot).get()?.n ?? 0;
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
