// The PostgreSQL implementation of `Store`, for several replicas on one database. Every query goes through drizzle
// (so the optional logger sees all of them) over a `pg.Pool`; each change is one transaction.
//
// What differs from the SQLite store, where one process holds the database:
// - Leases and heartbeats use the database's clock (`DB_NOW`), the one clock every replica shares. Stored job times
//   (createdAt, updatedAt, event times) use the store's clock, like the ids the caller makes with it.
// - A change locks its job row (SELECT … FOR NO KEY UPDATE) before it compares the revision and the lease, and
//   several rows are always locked in id order, then the owners' data versions (moved by triggers) in owner order,
//   so that two transactions never wait on each other in a circle.
// - Claims skip rows another transaction holds (SKIP LOCKED) instead of waiting; admission and job creation serialise
//   on a lock (an advisory lock, the owner's `users` row) so that their counts hold across replicas.
// The hot statements are named, so each pooled connection parses and plans them once.
import { randomUUID } from 'node:crypto';
import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  gt,
  inArray,
  isNotNull,
  isNull,
  lte,
  or,
  sql,
  type Placeholder,
  type SQL,
  type SQLWrapper,
} from 'drizzle-orm';
import type { NodePgDatabase, NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { PgDatabase, WithSubqueryWithSelection } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { admissionOrder } from '../../domain/admission.ts';
import { firstEvent, newJobRow, planJobChange } from '../../domain/job-change.ts';
import type { VideoJobFilter } from '../../domain/job-filter.ts';
import {
  ACTIVE_STATUSES,
  IN_FLIGHT_PHASES,
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
import { JobListing } from '../job-queries.ts';
import { leaseAllows } from '../lease-rule.ts';
import { groupByJob, inOrderOf } from '../rows.ts';
import { ADMISSION_LOCK } from './locks.ts';
import { jsLower, type Lowering } from './lowering.ts';
import { apiTokens, audioAssets, jobEvents, ownerDataVersions, replicas, settings, users, videoAssets, videoJobs } from './schema.ts';

/** The database or a transaction: both run the same queries. */
type Queryable = PgDatabase<NodePgQueryResultHKT>;

/** The database's clock in epoch milliseconds, fixed for the statement (so one claim compares and sets one instant). */
const DB_NOW = sql<number>`(extract(epoch from statement_timestamp()) * 1000)::bigint`.mapWith(Number);

/** The constraint that makes a repeated idempotency key a unique violation. */
const IDEMPOTENCY_CONSTRAINT = 'video_jobs_owner_idempotency_key_uq';

/** `column = ANY(ids)`: one statement, one parameter, any number of ids. */
function anyOf(column: SQLWrapper, ids: readonly string[] | Placeholder): SQL {
  return sql`${column} = ANY(${Array.isArray(ids) ? sql.param(ids) : ids})`;
}

/** The queries every request or engine step runs, named once per store. */
function prepareHotQueries(db: NodePgDatabase) {
  const ids = sql.placeholder('ids');
  return {
    jobById: db.select().from(videoJobs).where(eq(videoJobs.id, sql.placeholder('id'))).prepare('job_by_id'),
    jobsByIds: db.select().from(videoJobs).where(anyOf(videoJobs.id, ids)).prepare('jobs_by_ids'),
    eventsByJobIds: db
      .select()
      .from(jobEvents)
      .where(anyOf(jobEvents.jobId, ids))
      .orderBy(asc(jobEvents.jobId), asc(jobEvents.seq))
      .prepare('events_by_job_ids'),
    assetsByJobIds: db
      .select()
      .from(videoAssets)
      .where(anyOf(videoAssets.jobId, ids))
      .orderBy(asc(videoAssets.jobId), asc(videoAssets.outputIndex))
      .prepare('assets_by_job_ids'),
    viewerByTokenHash: db
      .select({ user: users, dataVersion: sql<number>`coalesce(${ownerDataVersions.version}, 0)`.mapWith(Number) })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .leftJoin(ownerDataVersions, eq(ownerDataVersions.ownerId, users.id))
      .where(and(eq(apiTokens.tokenHash, sql.placeholder('tokenHash')), isNull(apiTokens.revokedAt)))
      .prepare('viewer_by_token_hash'),
  };
}

/**
 * drizzle reports a failed statement as "Failed query: <sql>", with the database's error as its cause: callers get
 * the database's own error (code, constraint, "duplicate key value violates unique constraint …"), as from SQLite.
 */
function databaseError(error: unknown): unknown {
  return error instanceof Error && error.cause instanceof pg.DatabaseError ? error.cause : error;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return error instanceof pg.DatabaseError && error.code === '23505' && error.constraint === constraint;
}

/** Code-point order, as the "C" collation sorts ids (JavaScript's `<` compares UTF-16 units). */
function codePointOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export interface PostgresStoreOptions {
  instanceId: string;
  /** The clock of stored job times; leases and heartbeats use the database's. */
  now?: () => number;
  leaseMs?: number;
  /** Number of migrations the code ships, for `isReady()`. */
  expectedMigrations: number;
  /** How search lower-cases like JavaScript on this server (./lowering.ts). */
  lowering: Lowering;
  /**
   * Whether this replica still holds its replica lock (CONTRACT §9): a lock lost with its session makes the store
   * unready, so that the gateway is restarted into the replica rule rather than run on beside a replica that took over.
   */
  replicaLockHeld?: () => boolean;
  /** Runs once the pool is closed (the replica lock's release). */
  onClose?: () => Promise<void>;
}

export class PostgresStore implements Store {
  readonly instanceId: string;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly expectedMigrations: number;
  private readonly listing: JobListing;
  private readonly replicaLockHeld: () => boolean;
  private readonly onClose: () => Promise<void>;
  private readonly q: ReturnType<typeof prepareHotQueries>;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly db: NodePgDatabase,
    options: PostgresStoreOptions,
  ) {
    this.instanceId = options.instanceId;
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.expectedMigrations = options.expectedMigrations;
    this.listing = new JobListing(videoJobs, (column) => jsLower(column, options.lowering));
    this.replicaLockHeld = options.replicaLockHeld ?? (() => true);
    this.onClose = options.onClose ?? (async () => {});
    this.q = prepareHotQueries(db);
  }

  /** One transaction (READ COMMITTED: each statement sees what committed before it, locks decide the rest). */
  private async write<T>(change: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(change);
    } catch (error) {
      throw databaseError(error);
    }
  }

  /** One statement on its own (autocommit), with the database's error as the error. */
  private async single<T>(statement: PromiseLike<T>): Promise<T> {
    try {
      return await statement;
    } catch (error) {
      throw databaseError(error);
    }
  }

  // ---- Users and tokens ----

  async ensureUser(name: string): Promise<{ user: User; created: boolean }> {
    // Inserting first makes two replicas adding the same name at once agree: one inserts, both read that user.
    const candidate: User = { id: randomUUID(), name, createdAt: this.now() };
    const inserted = await this.single(this.db.insert(users).values(candidate).onConflictDoNothing({ target: users.name }).returning());
    if (inserted.length > 0) return { user: inserted[0]!, created: true };
    return { user: (await this.findUserByName(name))!, created: false };
  }

  async findUserByName(name: string): Promise<User | null> {
    const [user] = await this.db.select().from(users).where(eq(users.name, name));
    return user ?? null;
  }

  async countUsers(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(users);
    return row?.n ?? 0;
  }

  async listUsers(): Promise<Array<User & { activeTokens: number }>> {
    return this.db
      .select({ ...getTableColumns(users), activeTokens: count(apiTokens.id) })
      .from(users)
      .leftJoin(apiTokens, and(eq(apiTokens.userId, users.id), isNull(apiTokens.revokedAt)))
      .groupBy(users.id)
      .orderBy(asc(users.createdAt), asc(users.name));
  }

  async addToken(userId: string, tokenHash: string): Promise<void> {
    await this.single(this.db.insert(apiTokens).values({ userId, tokenHash, createdAt: this.now() }));
  }

  async revokeTokens(userId: string): Promise<number> {
    const result = await this.db
      .update(apiTokens)
      .set({ revokedAt: this.now() })
      .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)));
    return result.rowCount ?? 0;
  }

  async findViewerByTokenHash(tokenHash: string): Promise<Viewer | null> {
    const [viewer] = await this.q.viewerByTokenHash.execute({ tokenHash });
    return viewer ?? null;
  }

  async getOrCreateSetting(key: string, create: () => string): Promise<string> {
    const read = async () => (await this.db.select().from(settings).where(eq(settings.key, key)))[0]?.value;
    const stored = await read();
    if (stored !== undefined) return stored;
    // Another replica may write the key meanwhile: its value wins and is read back.
    await this.db.insert(settings).values({ key, value: create() }).onConflictDoNothing();
    return (await read())!;
  }

  // ---- Jobs ----

  async createJob(job: NewVideoJob, guard: { maxActiveJobs: number }): Promise<CreateJobResult> {
    try {
      return await this.write(async (tx): Promise<CreateJobResult> => {
        // The owner's row serialises their creates on every replica, so the key lookup and the count below see every
        // job created before; NO KEY UPDATE leaves the foreign-key checks of other writes unblocked.
        await tx.select({ id: users.id }).from(users).where(eq(users.id, job.ownerId)).for('no key update');
        if (job.idempotencyKey !== null) {
          const existing = await findByIdempotencyKey(tx, job.ownerId, job.idempotencyKey);
          if (existing) return { kind: 'existing', job: existing };
        }
        const activeJobs = await countActive(tx, job.ownerId);
        if (activeJobs >= guard.maxActiveJobs) return { kind: 'quota', activeJobs };

        const created = newJobRow(job, this.now());
        await tx.insert(videoJobs).values(created);
        await tx.insert(jobEvents).values(firstEvent(created));
        return { kind: 'created', job: created };
      });
    } catch (error) {
      // A writer that skipped the owner lock (none in this store, maybe an older one) inserted the key first.
      if (job.idempotencyKey !== null && isUniqueViolation(error, IDEMPOTENCY_CONSTRAINT)) {
        const existing = await this.findJobByIdempotencyKey(job.ownerId, job.idempotencyKey);
        if (existing) return { kind: 'existing', job: existing };
      }
      throw error;
    }
  }

  async getJob(id: string): Promise<VideoJob | null> {
    const [job] = await this.q.jobById.execute({ id });
    return job ?? null;
  }

  async getJobs(ids: readonly string[]): Promise<Array<VideoJob | null>> {
    if (ids.length === 0) return [];
    const rows = await this.q.jobsByIds.execute({ ids: [...new Set(ids)] });
    return inOrderOf(ids, rows);
  }

  async updateJob(id: string, patch: VideoJobPatch, options: UpdateJobOptions = {}): Promise<VideoJob | null> {
    const [updated] = await this.updateJobs([{ id, patch, options }]);
    return updated ?? null;
  }

  async updateJobs(changes: readonly JobChange[]): Promise<Array<VideoJob | null>> {
    if (changes.length === 0) return [];
    return this.write(async (tx) => {
      const ids = [...new Set(changes.map((change) => change.id))];
      const locked = await tx
        .select({ job: videoJobs, dbNow: DB_NOW })
        .from(videoJobs)
        .where(anyOf(videoJobs.id, ids))
        .orderBy(asc(videoJobs.id))
        .for('no key update');
      const current = new Map(locked.map((row) => [row.job.id, row.job]));
      const results: Array<VideoJob | null> = changes.map(() => null);
      if (locked.length === 0) return results;
      const dbNow = locked[0]!.dbNow;
      // Applied owner by owner (each change of one job still in the order given): the triggers lock the owners'
      // data versions in the order of the writes.
      const order = changes
        .map((change, index) => ({ index, owner: current.get(change.id)?.ownerId }))
        .filter((entry): entry is { index: number; owner: string } => entry.owner !== undefined)
        .sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.index - b.index));
      for (const { index } of order) {
        const change = changes[index]!;
        const row = await this.applyChange(tx, current.get(change.id)!, dbNow, change.patch, change.options ?? {});
        if (row) current.set(row.id, row);
        results[index] = row;
      }
      return results;
    });
  }

  /** One change of a locked row: compare-and-set on the revision, fenced by the lease; the row and event as planned. */
  private async applyChange(tx: Queryable, current: VideoJob, dbNow: number, patch: VideoJobPatch, options: UpdateJobOptions): Promise<VideoJob | null> {
    if (options.ifRevision !== undefined && current.revision !== options.ifRevision) return null;
    if (!leaseAllows(current, this.instanceId, options.lease ?? 'free', dbNow)) return null;

    const { row, event } = planJobChange(current, patch, options, this.now());
    // Written as planned; the lease as read under this transaction's row lock, or cleared when the job ends.
    const { id, ...written } = row;
    await tx.update(videoJobs).set(written).where(eq(videoJobs.id, id));
    if (event) {
      // The row lock makes this the only writer of the job's events: max + 1 stays gapless.
      const seq = sql<number>`(SELECT coalesce(max(${jobEvents.seq}), 0) + 1 FROM ${jobEvents} WHERE ${jobEvents.jobId} = ${id})`;
      await tx.insert(jobEvents).values({ ...event, seq });
    }
    if (options.videoAssets?.length) await tx.insert(videoAssets).values(options.videoAssets);
    return row;
  }

  async deleteJob(id: string): Promise<VideoAsset[]> {
    return this.write(async (tx) => {
      const assets = await tx.select().from(videoAssets).where(eq(videoAssets.jobId, id)).orderBy(asc(videoAssets.outputIndex));
      // Events and asset rows go with the job (ON DELETE CASCADE).
      await tx.delete(videoJobs).where(eq(videoJobs.id, id));
      return assets;
    });
  }

  async listJobs(query: JobPageQuery): Promise<JobPage> {
    const read = this.listing.pageRead(query);
    const rows = await this.db
      .select()
      .from(videoJobs)
      .where(read.where)
      .orderBy(...read.orderBy)
      .limit(query.limit + 1);
    const jobs = rows.slice(0, query.limit);
    if (read.reversed) jobs.reverse();
    return { jobs, hasMore: rows.length > query.limit };
  }

  async countJobs(ownerId: string, filter?: VideoJobFilter | null): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(videoJobs)
      .where(and(eq(videoJobs.ownerId, ownerId), this.listing.filterCondition(filter)));
    return row?.n ?? 0;
  }

  async countActiveJobs(ownerId: string): Promise<number> {
    return countActive(this.db, ownerId);
  }

  async findJobByIdempotencyKey(ownerId: string, idempotencyKey: string): Promise<VideoJob | null> {
    return (await findByIdempotencyKey(this.db, ownerId, idempotencyKey)) ?? null;
  }

  async findJobByUpstreamId(upstreamJobId: string): Promise<VideoJob | null> {
    const [job] = await this.db.select().from(videoJobs).where(eq(videoJobs.upstreamJobId, upstreamJobId));
    return job ?? null;
  }

  // ---- Engine queries ----

  async claimDueJobs(query: ClaimQuery): Promise<VideoJob[]> {
    if (query.limit <= 0 || query.phases.length === 0) return [];
    // SKIP LOCKED in a CTE: concurrent claimers pass over each other's rows, and the LIMIT bounds what is locked.
    const due = this.db.$with('due').as(
      this.db
        .select({ id: videoJobs.id })
        .from(videoJobs)
        .where(and(inArray(videoJobs.phase, [...query.phases]), lte(videoJobs.nextCheckAt, query.dueBy), leaseFree(DB_NOW)))
        .orderBy(asc(videoJobs.nextCheckAt), asc(videoJobs.id))
        .limit(query.limit)
        .for('no key update', { skipLocked: true }),
    );
    const claimed = await this.lease(this.db, due, sql`${DB_NOW} + ${this.leaseMs}`);
    return claimed.sort((a, b) => a.nextCheckAt! - b.nextCheckAt! || codePointOrder(a.id, b.id));
  }

  async claimAdmissions(maxInFlight: number): Promise<Admission> {
    return this.write(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADMISSION_LOCK})`);
      // Counted after the lock: this statement sees every slot the previous holder took.
      const [slotsInUse] = await tx.select({ n: count(), dbNow: DB_NOW }).from(videoJobs).where(holdingSlot(DB_NOW));
      const dbNow = slotsInUse!.dbNow;
      const waiting = await tx
        .select()
        .from(videoJobs)
        .where(and(eq(videoJobs.phase, 'waiting'), leaseFree(sql`${dbNow}`)))
        .orderBy(asc(videoJobs.createdAt), asc(videoJobs.id));
      const cursor = (await tx.select().from(settings).where(eq(settings.key, ADMISSION_CURSOR_SETTING)))[0]?.value ?? null;

      const now = this.now();
      let slots = maxInFlight - slotsInUse!.n;
      const chosen: VideoJob[] = [];
      const queue: VideoJob[] = [];
      for (const job of admissionOrder(waiting, cursor)) {
        // Due by the clock that scheduled it (nextCheckAt is a stored job time).
        if (slots > 0 && (job.nextCheckAt ?? 0) <= now) {
          slots--;
          chosen.push(job);
        } else {
          queue.push(job);
        }
      }

      let admitted: VideoJob[] = [];
      if (chosen.length > 0) {
        // Still free when locked: a claim outside admission (claimDueJobs of 'waiting') may have leased one meanwhile.
        const free = tx.$with('free').as(
          tx
            .select({ id: videoJobs.id })
            .from(videoJobs)
            .where(and(anyOf(videoJobs.id, chosen.map((job) => job.id)), eq(videoJobs.phase, 'waiting'), leaseFree(sql`${dbNow}`)))
            .orderBy(asc(videoJobs.id))
            .for('no key update'),
        );
        const leased = new Map((await this.lease(tx, free, sql`${dbNow + this.leaseMs}`)).map((job) => [job.id, job]));
        admitted = chosen.flatMap((job) => leased.get(job.id) ?? []);
      }

      const lastServed = admitted.at(-1)?.ownerId ?? cursor;
      if (lastServed !== cursor && lastServed !== null) {
        await tx
          .insert(settings)
          .values({ key: ADMISSION_CURSOR_SETTING, value: lastServed })
          .onConflictDoUpdate({ target: settings.key, set: { value: lastServed } });
      }
      return { admitted, queue };
    });
  }

  /**
   * Leases the jobs `selected` locks to this replica until `expiresAt`, in one statement; a claim is a write
   * (revision + 1), not a visible change.
   */
  private async lease(db: Queryable, selected: WithSubqueryWithSelection<{ id: typeof videoJobs.id }, string>, expiresAt: SQL): Promise<VideoJob[]> {
    return db
      .with(selected)
      .update(videoJobs)
      .set({ revision: sql`${videoJobs.revision} + 1`, leaseOwner: this.instanceId, leaseExpiresAt: expiresAt })
      .from(selected)
      .where(eq(videoJobs.id, selected.id))
      .returning(getTableColumns(videoJobs));
  }

  async renewLeases(jobIds: readonly string[]): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const mine = this.ownLeases(jobIds);
    const renewed = await this.db
      .with(mine)
      .update(videoJobs)
      .set({ leaseExpiresAt: sql`${DB_NOW} + ${this.leaseMs}` })
      .from(mine)
      .where(eq(videoJobs.id, mine.id))
      .returning({ id: videoJobs.id });
    return renewed.map((row) => row.id);
  }

  async releaseLeases(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    const mine = this.ownLeases(jobIds);
    await this.db
      .with(mine)
      .update(videoJobs)
      .set({ leaseOwner: null, leaseExpiresAt: null })
      .from(mine)
      .where(eq(videoJobs.id, mine.id));
  }

  /** This replica's leases among `jobIds`, locked in id order like every multi-row write (see the top of the file). */
  private ownLeases(jobIds: readonly string[]) {
    return this.db.$with('mine').as(
      this.db
        .select({ id: videoJobs.id })
        .from(videoJobs)
        .where(and(anyOf(videoJobs.id, [...jobIds]), eq(videoJobs.leaseOwner, this.instanceId)))
        .orderBy(asc(videoJobs.id))
        .for('no key update'),
    );
  }

  async countLeases(): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(videoJobs)
      .where(and(eq(videoJobs.leaseOwner, this.instanceId), gt(videoJobs.leaseExpiresAt, DB_NOW)));
    return row?.n ?? 0;
  }

  async countInFlight(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(videoJobs).where(holdingSlot(DB_NOW));
    return row?.n ?? 0;
  }

  async countJobsByStatus(): Promise<Partial<Record<JobStatus, number>>> {
    const rows = await this.db.select({ status: videoJobs.status, n: count() }).from(videoJobs).groupBy(videoJobs.status);
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async listUnfinishedJobs(): Promise<VideoJob[]> {
    return this.db
      .select()
      .from(videoJobs)
      .where(inArray(videoJobs.phase, [...UNFINISHED_PHASES]))
      .orderBy(asc(videoJobs.createdAt), asc(videoJobs.id));
  }

  async recentRunDurations(limit: number): Promise<RunDuration[]> {
    const rows = await this.db
      .select({
        submittedAt: videoJobs.submittedAt,
        upstreamSucceededAt: videoJobs.upstreamSucceededAt,
        size: videoJobs.size,
        durationSeconds: videoJobs.durationSeconds,
      })
      .from(videoJobs)
      .where(and(eq(videoJobs.status, 'SUCCEEDED'), isNotNull(videoJobs.submittedAt), isNotNull(videoJobs.upstreamSucceededAt)))
      .orderBy(desc(videoJobs.upstreamSucceededAt))
      .limit(limit);
    return rows.map((row) => ({
      seconds: (row.upstreamSucceededAt! - row.submittedAt!) / 1000,
      size: row.size,
      durationSeconds: row.durationSeconds,
    }));
  }

  // ---- Nested data, batched by job ----

  async listEvents(jobIds: readonly string[]): Promise<Map<string, JobEvent[]>> {
    const rows = jobIds.length === 0 ? [] : await this.q.eventsByJobIds.execute({ ids: [...new Set(jobIds)] });
    return groupByJob(jobIds, rows);
  }

  async listVideoAssets(jobIds: readonly string[]): Promise<Map<string, VideoAsset[]>> {
    const rows = jobIds.length === 0 ? [] : await this.q.assetsByJobIds.execute({ ids: [...new Set(jobIds)] });
    return groupByJob(jobIds, rows);
  }

  async getVideoAsset(id: string): Promise<VideoAsset | null> {
    const [asset] = await this.db.select().from(videoAssets).where(eq(videoAssets.id, id));
    return asset ?? null;
  }

  // ---- Audio ----

  async addAudio(audio: AudioAsset): Promise<void> {
    await this.single(this.db.insert(audioAssets).values(audio));
  }

  async getAudios(ids: readonly string[]): Promise<Array<AudioAsset | null>> {
    if (ids.length === 0) return [];
    const rows = await this.db.select().from(audioAssets).where(anyOf(audioAssets.id, [...new Set(ids)]));
    return inOrderOf(ids, rows);
  }

  async setAudioUpstreamId(id: string, upstreamAssetId: string): Promise<void> {
    await this.db.update(audioAssets).set({ upstreamAssetId }).where(eq(audioAssets.id, id));
  }

  // ---- Replicas ----

  async heartbeat(): Promise<void> {
    await this.db
      .insert(replicas)
      .values({ instanceId: this.instanceId, startedAt: DB_NOW, heartbeatAt: DB_NOW })
      .onConflictDoUpdate({ target: replicas.instanceId, set: { heartbeatAt: DB_NOW } });
  }

  async listLiveReplicas(): Promise<Replica[]> {
    return this.db
      .select()
      .from(replicas)
      .where(gt(replicas.heartbeatAt, sql`${DB_NOW} - ${REPLICA_LIVE_MS}`))
      .orderBy(asc(replicas.startedAt), asc(replicas.instanceId));
  }

  async removeReplica(): Promise<void> {
    await this.db.delete(replicas).where(eq(replicas.instanceId, this.instanceId));
  }

  // ---- Lifecycle ----

  async isReady(): Promise<boolean> {
    if (this.closed || !this.replicaLockHeld()) return false;
    try {
      const [applied] = await this.db.select({ n: count() }).from(sql`drizzle.__drizzle_migrations`);
      // At least as many: a newer deployment may already have added its own migration.
      return (applied?.n ?? 0) >= this.expectedMigrations;
    } catch {
      return false;
    }
  }

  /**
   * Drops every lease and heartbeat left by earlier processes: only for the replica that holds the database alone (no
   * REDIS_URL), when it starts (no other replica can be alive), so their jobs are taken up at once.
   */
  async clearDeadProcesses(): Promise<void> {
    await this.write(async (tx) => {
      await tx.update(videoJobs).set({ leaseOwner: null, leaseExpiresAt: null }).where(isNotNull(videoJobs.leaseOwner));
      await tx.delete(replicas);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
    await this.onClose();
  }
}

/** No live lease: never leased, released, or expired (its replica died or stalled). */
function leaseFree(now: SQL): SQL {
  return or(isNull(videoJobs.leaseOwner), lte(videoJobs.leaseExpiresAt, now))!;
}

/** Jobs holding an upstream slot: submitting or polling, and waiting jobs leased for their submit. */
function holdingSlot(now: SQL): SQL {
  // An OR of the two: PostgreSQL combines the phase index and the partial lease index (a bitmap OR), so a long queue
  // of waiting jobs without a lease is never read.
  return or(
    inArray(videoJobs.phase, [...IN_FLIGHT_PHASES]),
    and(eq(videoJobs.phase, 'waiting'), isNotNull(videoJobs.leaseOwner), gt(videoJobs.leaseExpiresAt, now)),
  )!;
}

async function countActive(db: Queryable, ownerId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(videoJobs)
    .where(and(eq(videoJobs.ownerId, ownerId), inArray(videoJobs.status, [...ACTIVE_STATUSES])));
  return row?.n ?? 0;
}

async function findByIdempotencyKey(db: Queryable, ownerId: string, idempotencyKey: string): Promise<VideoJob | undefined> {
  const [job] = await db
    .select()
    .from(videoJobs)
    .where(and(eq(videoJobs.ownerId, ownerId), eq(videoJobs.idempotencyKey, idempotencyKey)));
  return job;
}
