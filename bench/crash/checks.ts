// What must hold at the end of a crash test whatever the kills did, read from the drained database, the simulator's
// counts and the media directory: no job lost, nothing submitted twice, events 1..n, a sound database, every stored
// file as its row says. The look times (looks.ts) come in as one more goal.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { VideoAsset, VideoJob } from '../../src/domain/video-job.ts';
import { isTerminal } from '../../src/domain/video-job.ts';
import { SqliteStore } from '../../src/store/sqlite/open.ts';
import type { Store } from '../../src/store/store.ts';
import type { CreatedJob } from './clients.ts';

export interface Goal {
  name: string;
  value: number | string;
  goal: string;
  met: boolean;
  detail?: string;
}

export interface SimulatorCounts {
  submits: number;
  duplicateInputs: string[];
  jobs: Array<{ jobId: string; status: string }>;
}

export interface CheckInput {
  store: Store;
  users: Array<{ name: string; id: string }>;
  created: CreatedJob[];
  unanswered: string[];
  simStats: SimulatorCounts;
  mediaDir: string;
  /** The look-time goal, listed after the file checks. */
  looks: Goal;
}

export interface CheckResult {
  jobsCreated: number;
  jobsByStatus: Record<string, number>;
  failuresByCode: Record<string, number>;
  goals: Goal[];
}

const examples = (items: string[], count = 10) => items.slice(0, count).join(', ');

export async function check(input: CheckInput): Promise<CheckResult> {
  const { store } = input;
  const goals: Goal[] = [];
  // Every job of every user, whether or not a client saw its id.
  const all: VideoJob[] = [];
  for (const user of input.users) {
    all.push(...(await store.listJobs({ ownerId: user.id, order: 'CREATED_AT_ASC', limit: 1_000_000 })).jobs);
  }
  const byId = new Map(all.map((job) => [job.id, job]));
  const createdIds = new Set(input.created.map((c) => c.localId));
  const missing = input.created.filter((c) => !byId.has(c.localId));
  const stuck = all.filter((job) => !isTerminal(job.status));
  const unknownToClients = all.filter((job) => !createdIds.has(job.id));
  const claimed = new Set(all.map((job) => job.upstreamJobId).filter((id): id is string => id !== null));
  const orphans = input.simStats.jobs.filter((job) => !claimed.has(job.jobId));

  const jobsByStatus: Record<string, number> = {};
  const failuresByCode: Record<string, number> = {};
  for (const job of all) {
    jobsByStatus[job.status] = (jobsByStatus[job.status] ?? 0) + 1;
    if (job.error) failuresByCode[job.error.code] = (failuresByCode[job.error.code] ?? 0) + 1;
  }

  goals.push({
    name: 'jobs lost: created but missing',
    value: missing.length + input.unanswered.length,
    goal: '0',
    met: missing.length + input.unanswered.length === 0,
    detail: examples([...missing.map((m) => m.key), ...input.unanswered.map((k) => `${k} (never answered)`)]),
  });
  goals.push({
    name: 'jobs lost: stuck (not terminal after the drain)',
    value: stuck.length,
    goal: '0',
    met: stuck.length === 0,
    detail: examples(stuck.map((j) => `${j.id} ${j.status}/${j.phase}`)),
  });
  goals.push({
    name: 'jobs lost: upstream jobs no gateway job claims (paid, not followed)',
    value: orphans.length,
    goal: '0',
    met: orphans.length === 0,
    detail: examples(orphans.map((j) => `${j.jobId} ${j.status}`)),
  });
  goals.push({
    name: 'duplicate upstream submissions (same input submitted twice)',
    value: input.simStats.duplicateInputs.length,
    goal: '0',
    met: input.simStats.duplicateInputs.length === 0,
    detail: `${input.simStats.submits} submits for ${all.length} jobs (${claimed.size} with an upstream job)`,
  });

  // Events: 1..n per job.
  const events = await store.listEvents(all.map((j) => j.id));
  const badSequences: string[] = [];
  for (const job of all) {
    const seqs = (events.get(job.id) ?? []).map((e) => e.seq);
    if (seqs.length === 0 || seqs.some((seq, i) => seq !== i + 1)) badSequences.push(`${job.id}: ${seqs.join(',')}`);
  }
  goals.push({
    name: 'jobs with duplicate or missing event seq',
    value: badSequences.length,
    goal: '0',
    met: badSequences.length === 0,
    detail: badSequences.slice(0, 5).join('; '),
  });

  const assets = await store.listVideoAssets(all.map((j) => j.id));
  goals.push(...(store instanceof SqliteStore ? [sqliteIntegrity(store)] : await storeConsistency(store, all, assets)));

  // Stored files against their recorded sha256; every SUCCEEDED job has its video.
  let files = 0;
  const badFiles: string[] = [];
  for (const job of all) {
    const rows = assets.get(job.id) ?? [];
    if (job.status === 'SUCCEEDED' && rows.length === 0) badFiles.push(`${job.id}: SUCCEEDED without a video`);
    for (const asset of rows) {
      files++;
      const actual = await sha256Of(join(input.mediaDir, asset.filePath)).catch(() => null);
      if (actual !== asset.sha256) badFiles.push(`${asset.filePath}: ${actual ?? 'missing'}`);
    }
  }
  const leftovers = temporaryFiles(join(input.mediaDir, 'videos'));
  goals.push({
    name: 'stored files whose sha256 does not match',
    value: badFiles.length,
    goal: '0',
    met: badFiles.length === 0,
    detail: `${files} files checked${badFiles.length ? `; ${badFiles.slice(0, 5).join('; ')}` : ''}`,
  });
  goals.push({ name: 'temporary files left by interrupted downloads', value: leftovers, goal: '0', met: leftovers === 0 });
  goals.push(input.looks);
  if (unknownToClients.length) {
    goals.push({
      name: 'jobs no client was told about',
      value: unknownToClients.length,
      goal: '0',
      met: false,
      detail: examples(
        unknownToClients.map((j) => j.id),
        5,
      ),
    });
  }
  return { jobsCreated: input.created.length, jobsByStatus, failuresByCode, goals };
}

function sqliteIntegrity(store: SqliteStore): Goal {
  const integrity = store.integrityCheck();
  return { name: 'PRAGMA integrity_check', value: integrity.join('; '), goal: 'ok', met: integrity.length === 1 && integrity[0] === 'ok' };
}

/**
 * PostgreSQL has no `PRAGMA integrity_check` (its own page checks are not read here): what the drained database must
 * say through the store instead, gateway-wide figures against the rows read job by job.
 */
async function storeConsistency(store: Store, all: VideoJob[], assets: Map<string, VideoAsset[]>): Promise<Goal[]> {
  const counted = await store.countJobsByStatus();
  const listed: Record<string, number> = {};
  for (const job of all) listed[job.status] = (listed[job.status] ?? 0) + 1;
  const statuses = [...new Set([...Object.keys(counted), ...Object.keys(listed)])];
  const differing = statuses.filter((status) => (counted[status as keyof typeof counted] ?? 0) !== (listed[status] ?? 0));
  const total = Object.values(counted).reduce((sum, n) => sum + (n ?? 0), 0);
  const now = Date.now();
  const leased = all.filter((job) => job.leaseOwner !== null && (job.leaseExpiresAt ?? 0) > now);
  const expired = all.filter((job) => job.leaseOwner !== null && (job.leaseExpiresAt ?? 0) <= now);
  const inFlight = await store.countInFlight();
  const storedNotSucceeded = all.filter((job) => (assets.get(job.id)?.length ?? 0) > 0 && job.status !== 'SUCCEEDED');
  return [
    {
      name: 'database: jobs counted per status (count(*) … GROUP BY status) = jobs listed per user',
      value: `${total} = ${all.length}`,
      goal: 'equal per status',
      met: differing.length === 0 && total === all.length,
      detail: differing.length ? `counted ${JSON.stringify(counted)}, listed ${JSON.stringify(listed)}` : undefined,
    },
    {
      name: 'database: jobs still holding a live lease after every replica stopped',
      value: leased.length,
      goal: '0',
      met: leased.length === 0,
      detail: [
        examples(leased.map((j) => `${j.id} ${j.status}/${j.phase} leased by ${j.leaseOwner}`)),
        // A replica killed between a step's last commit and its release leaves its owner on the row; it has expired,
        // and nothing claims a terminal job.
        expired.length ? `${expired.length} keep an expired lease (${examples(expired.map((j) => `${j.id} ${j.status} by ${j.leaseOwner}`), 3)})` : '',
      ]
        .filter(Boolean)
        .join('; '),
    },
    { name: 'database: upstream slots still in use after the drain', value: inFlight, goal: '0', met: inFlight === 0 },
    {
      name: 'database: jobs with stored videos that are not SUCCEEDED',
      value: storedNotSucceeded.length,
      goal: '0',
      met: storedNotSucceeded.length === 0,
      detail: examples(storedNotSucceeded.map((j) => `${j.id} ${j.status}`)),
    },
  ];
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

function temporaryFiles(dir: string): number {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return 0;
  }
  return entries.filter((entry) => /\.part-[0-9a-f]+$/.test(entry)).length;
}
