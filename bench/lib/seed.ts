// A gateway database with a long history: `jobs` finished jobs of one user, each with its events (waiting, queued,
// running, stored, succeeded) and one stored video, written through the store's own schema in one transaction
// (the store's API would commit, and sync, every row on its own: minutes instead of seconds). The same rows go to
// SQLite and to PostgreSQL (whose schema has the same property names), so the two stores are compared on equal data.
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { createTokenFor } from '../../src/auth/tokens.ts';
import type { JobEvent, VideoAsset, VideoJob } from '../../src/domain/video-job.ts';
import { newTimeOrderedId } from '../../src/domain/ids.ts';
import { openStore } from '../../src/store/open.ts';
import * as postgresSchema from '../../src/store/postgres/schema.ts';
import { databaseFilePath, openSqliteStore } from '../../src/store/sqlite/open.ts';
import { jobEvents, videoAssets, videoJobs } from '../../src/store/sqlite/schema.ts';

export interface SeededHistory {
  token: string;
  userId: string;
  jobs: number;
}

const SIZES = ['LANDSCAPE_720P', 'PORTRAIT_720P', 'LANDSCAPE_1080P', 'PORTRAIT_1080P'] as const;
/** Rows per insert: well under PostgreSQL's 65 535 parameters per statement for every table. */
const BATCH = 200;

interface HistoryBatch {
  jobRows: VideoJob[];
  eventRows: JobEvent[];
  assetRows: VideoAsset[];
}

function* historyBatches(userId: string, jobs: number): Generator<HistoryBatch> {
  const start = Date.now() - jobs * 60_000;
  for (let batch = 0; batch < jobs; batch += BATCH) {
    const jobRows: VideoJob[] = [];
    const eventRows: JobEvent[] = [];
    const assetRows: VideoAsset[] = [];
    for (let i = batch; i < Math.min(jobs, batch + BATCH); i++) {
      const createdAt = start + i * 60_000;
      const id = newTimeOrderedId(createdAt);
      const submittedAt = createdAt + 1_000;
      const succeededAt = submittedAt + 90_000;
      const completedAt = succeededAt + 2_000;
      const size = SIZES[i % SIZES.length]!;
      jobRows.push({
        id,
        ownerId: userId,
        idempotencyKey: null,
        prompt: `history job ${i}: a lighthouse at dusk, waves crashing against the rocks, cinematic`,
        negativePrompt: i % 3 === 0 ? 'blurry, low quality' : null,
        size,
        durationSeconds: i % 2 === 0 ? 5 : 10,
        enablePromptExpansion: true,
        seed: 1000 + i,
        seedDrawn: true,
        audioId: null,
        version: 9,
        status: 'SUCCEEDED',
        phase: 'done',
        upstreamStatus: 'success',
        upstreamJobId: `job_seed${String(i).padStart(20, '0')}`,
        progress: 1,
        queuePosition: null,
        error: null,
        creativeUnitsCost: 40,
        createdAt,
        updatedAt: completedAt,
        submittedAt,
        completedAt,
        nextCheckAt: null,
        upstreamRequest: { prompt: `history job ${i}`, size: '1280*720', duration: 5, seed: 1000 + i },
        upstreamPayload: { jobId: `job_seed${i}`, status: 'success', progress: 1 },
        submitAttempts: 1,
        submitStartedAt: createdAt + 500,
        pollFailures: 0,
        notFoundCount: 0,
        lastUpstreamChangeAt: succeededAt,
        stalled: false,
        upstreamSucceededAt: succeededAt,
        upstreamAssetIds: [`asset_seed${i}`],
        mirrorAttempts: 0,
        revision: 12,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      const event = (seq: number, at: number, status: JobEvent['status'], upstreamStatus: string | null, progress: number, message: string | null) =>
        eventRows.push({ jobId: id, seq, at, status, upstreamStatus, progress, message });
      event(1, createdAt, 'PENDING', null, 0, 'Accepted; waiting to be sent upstream');
      event(2, submittedAt, 'QUEUED', 'queued', 0, null);
      event(3, submittedAt + 30_000, 'IN_PROGRESS', 'in-progress', 0.4, null);
      event(4, succeededAt, 'IN_PROGRESS', 'success', 1, 'Finished upstream; storing the video');
      event(5, completedAt, 'SUCCEEDED', 'success', 1, null);
      assetRows.push({
        id: newTimeOrderedId(completedAt),
        jobId: id,
        ownerId: userId,
        outputIndex: 0,
        upstreamAssetId: `asset_seed${i}`,
        filePath: `videos/${id}/0.mp4`,
        thumbnailPath: `videos/${id}/0.jpg`,
        mimeType: 'video/mp4',
        byteSize: 1_234_567,
        sha256: 'a'.repeat(64),
        width: 1280,
        height: 720,
        durationSeconds: 5,
        frameRate: 24,
        createdAt: completedAt,
      });
    }
    yield { jobRows, eventRows, assetRows };
  }
}

export async function seedHistory(databaseUrl: string, jobs: number, userName = 'bench'): Promise<SeededHistory> {
  // Migrations and the user through the store, as the gateway would.
  const store = await openSqliteStore(databaseUrl);
  const { user, token } = await createTokenFor(store, userName);
  await store.close();

  const sqlite = new Database(databaseFilePath(databaseUrl));
  sqlite.pragma('journal_mode = WAL');
  const db = drizzle({ client: sqlite });
  const insert = sqlite.transaction(() => {
    for (const { jobRows, eventRows, assetRows } of historyBatches(user.id, jobs)) {
      db.insert(videoJobs).values(jobRows).run();
      db.insert(jobEvents).values(eventRows).run();
      db.insert(videoAssets).values(assetRows).run();
    }
  });
  insert();
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  return { token, userId: user.id, jobs };
}

/** The same history on a PostgreSQL database (migrated by the store, then written in one transaction). */
export async function seedPostgresHistory(databaseUrl: string, jobs: number, userName = 'bench'): Promise<SeededHistory> {
  const store = await openStore(databaseUrl, { instanceId: 'bench-seed' });
  const { user, token } = await createTokenFor(store, userName);
  await store.close();

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const db = drizzlePostgres({ client });
    await db.transaction(async (tx) => {
      for (const { jobRows, eventRows, assetRows } of historyBatches(user.id, jobs)) {
        await tx.insert(postgresSchema.videoJobs).values(jobRows);
        await tx.insert(postgresSchema.jobEvents).values(eventRows);
        await tx.insert(postgresSchema.videoAssets).values(assetRows);
      }
    });
    // A database that has held these rows for a while has planner statistics for them (autovacuum); a bulk load
    // measured at once would not, and would be measured on plans no deployment runs.
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
  return { token, userId: user.id, jobs };
}
