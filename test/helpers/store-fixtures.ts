// Fixtures for the store tests: temporary database files, a controllable clock, job builders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NewVideoJob, VideoAsset, VideoJob } from '../../src/domain/video-job.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/open.ts';

/** A clock the test moves by hand, so times (and therefore orders) are predictable. */
export class FakeClock {
  constructor(public time = 1_700_000_000_000) {}
  now = (): number => this.time;
  advance(ms = 1000): number {
    this.time += ms;
    return this.time;
  }
}

export interface Statement {
  sql: string;
  params: unknown[];
}

/** A temp directory of database files, each store with its own clock and statement log. */
export class StoreFiles {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-test-'));
  private readonly opened: SqliteStore[] = [];
  private counter = 0;

  newFile(): string {
    this.counter += 1;
    return path.join(this.dir, `db-${this.counter}.db`);
  }

  private readonly files = new Map<SqliteStore, { file: string; clock: FakeClock }>();

  async open(file = this.newFile(), clock = new FakeClock(), options: { instanceId?: string; leaseMs?: number } = {}) {
    const statements: Statement[] = [];
    const store = await openSqliteStore(`file:${file}`, {
      now: clock.now,
      logger: (sql, params) => statements.push({ sql, params }),
      ...options,
    });
    this.opened.push(store);
    this.files.set(store, { file, clock });
    return { store, clock, statements, file };
  }

  /** Another store on the file of `store`, sharing its clock (another replica, or the token CLI). */
  async openBeside(store: unknown, options: { instanceId?: string; leaseMs?: number } = {}) {
    const opened = this.files.get(store as SqliteStore);
    if (!opened) throw new Error('not a store of this set');
    return (await this.open(opened.file, opened.clock, options)).store;
  }

  async cleanup(): Promise<void> {
    for (const store of this.opened) await store.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let jobCounter = 0;

/** A new job's input with plain defaults; ids sort in creation order (job-0001, job-0002, …). */
export function newJob(ownerId: string, overrides: Partial<NewVideoJob> = {}): NewVideoJob {
  jobCounter += 1;
  return {
    id: `job-${String(jobCounter).padStart(4, '0')}`,
    ownerId,
    idempotencyKey: null,
    prompt: 'A red fox runs through snow',
    negativePrompt: null,
    size: 'LANDSCAPE_720P',
    durationSeconds: 5,
    enablePromptExpansion: true,
    seed: 42,
    seedDrawn: false,
    audioId: null,
    ...overrides,
  };
}

export function videoAsset(job: Pick<VideoJob, 'id' | 'ownerId'>, outputIndex: number, createdAt = 0): VideoAsset {
  return {
    id: `${job.id}-asset-${outputIndex}`,
    jobId: job.id,
    ownerId: job.ownerId,
    outputIndex,
    upstreamAssetId: `up-${job.id}-${outputIndex}`,
    filePath: `videos/${job.id}/${outputIndex}.mp4`,
    thumbnailPath: null,
    mimeType: 'video/mp4',
    byteSize: 1234,
    sha256: 'ab'.repeat(32),
    width: 1280,
    height: 720,
    durationSeconds: 5,
    frameRate: 24,
    createdAt,
  };
}
