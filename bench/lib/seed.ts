// A gateway database with a long history: `jobs` finished jobs of one user, each with its events (waiting, queued,
// running, stored, succeeded) and one stored video, written through the store's own schema in one transaction
// (the store's API would commit, and sync, every row on its own: minutes instead of seconds).
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { createTokenFor } from '../../src/auth/tokens.ts';
import type { JobEvent, VideoAsset, VideoJob } from '../../src/domain/video-job.ts';
import { newTimeOrderedId } from '../../src/domain/ids.ts';
import { databaseFilePath, openSqliteStore } from '../../src/store/sqlite/open.ts';
import { jobEvents, videoAssets, videoJobs } from '../../src/store/sqlite/schema.ts';

export interface SeededHistory {
  token: string;
  userId: string;
  jobs: number;
}

const SIZES = ['LANDSCAPE_720P', 'PORTRAIT_720P', 'LANDSCAPE_1080P', 'PORTRAIT_1080P'] as const;

export async function seedHistory(databaseUrl: string, jobs: number, userName = 'bench'): Promise<SeededHistory> {
  // Migrations and the user through the store, as the gateway would.
  const store = await openSqliteStore(databaseUrl);
  const { user, token } = await createTokenFor(store, userName);
  await store.close();

  const sqlite = new Database(databaseFilePath(databaseUrl));
  sqlite.pragma('journal_mode = WAL');
  const db = drizzle({ client: sqlite });
  const start = Date.now() - jobs * 60_000;
  const insert = sqlite.transaction(() => {
    for (let batch = 0; batch < jobs; batch += 200) {
      const jobRows: VideoJob[] = [];
      const eventRows: JobEvent[] = [];
      const assetRows: VideoAsset[] = [];
      for (let i = batch; i < Math.min(jobs, batch + 200); i++) {
        const createdAt = start + i * 60_000;
        const id = newTimeOrderedId(createdAt);
        const submittedAt = createdAt + 1_000;
        const succeededAt = submittedAt + 90_000;
        const completedAt = succeededAt + 2_000;
        const size = SIZES[i % SIZES.length]!;
        jobRows.push({
          id,
          ownerId: user.id,
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
          ownerId: user.id,
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
