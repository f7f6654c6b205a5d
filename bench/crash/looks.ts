// When the gateway looks upstream at a job again after a kill, timed by the recording proxy in front of the simulator
// (bench/lib/simulator-process.ts): the job's read, a list page that showed it, its asset read while it is being
// stored, or any list call for a job being submitted (reconciliation searches the list).
//
// One process (SQLite): from the restart to the first such request at each job that was in flight at the kill, while
// that process lives. Replicas (PostgreSQL): from the kill to the first such request at each job the killed replica
// held a lease on, until the run ends or a replica holding the job is killed again. No other replica may work on such
// a job before that lease expires, yet the list calls they make for their own jobs show it all along; so a request
// counts only from the last moment the database still showed the dead replica's lease (LeaseWatch), which makes a
// takeover that never comes visible instead of hiding it behind those list calls.
import { isTerminal, type VideoJob } from '../../src/domain/video-job.ts';
import type { Store } from '../../src/store/store.ts';
import { sleep } from '../lib/proc.ts';
import { quantile } from '../lib/stats.ts';
import type { GatewayLife } from './topology.ts';

export const IN_FLIGHT_PHASES = new Set(['submitting', 'polling', 'mirroring']);
const LEASE_WATCH_INTERVAL_MS = 200;

export interface RecordedRequest {
  t: number;
  route: string;
  jobIds: string[];
  assetIds: string[];
}

/** The proxy's log, read page by page (GET /_rec/log). */
export class RequestLog {
  private next = 0;
  private readonly records: RecordedRequest[] = [];
  constructor(private readonly origin: string) {}

  async all(): Promise<RecordedRequest[]> {
    for (let page = 0; page < 1000; page++) {
      const body = (await (await fetch(`${this.origin}/_rec/log?from=${this.next}`)).json()) as { next: number; records: RecordedRequest[] };
      this.records.push(...body.records);
      if (body.records.length === 0) break;
      this.next = body.next;
    }
    return this.records;
  }
}

/** A job a kill interrupted, waiting for its first upstream look. */
export interface WatchedJob {
  /** The kill (1…) and the gateway it hit. */
  kill: number;
  killed: string;
  jobId: string;
  phase: string;
  upstreamJobId: string | null;
  assetIds: string[];
  /** Where the measured time starts: the restart (one process) or the kill (replicas). */
  from: number;
  /** Requests before this cannot be the look. */
  lookFrom: number;
  /** A look must come while this lasts: the restarted process (one process), or until the job's next kill or the run's end (replicas). */
  life: GatewayLife;
  firstLookAt: number | null;
  /** Replicas: what replaced the killed replica's lease in the database, for the report of a miss. */
  leaseFate: string | null;
}

export function watch(kill: { number: number; gateway: string }, job: VideoJob, from: number, life: GatewayLife): WatchedJob {
  return {
    kill: kill.number,
    killed: kill.gateway,
    jobId: job.id,
    phase: job.phase,
    upstreamJobId: job.upstreamJobId,
    assetIds: job.upstreamAssetIds,
    from,
    lookFrom: from,
    life,
    firstLookAt: null,
    leaseFate: null,
  };
}

/**
 * Follows, in the database, the jobs a killed replica held until another lease (or none) replaces the dead one or the
 * job ends: each read that still shows it moves `lookFrom` to the moment that read started.
 */
export class LeaseWatch {
  private readonly pending: Array<{ watched: WatchedJob; owner: string | null; expiresAt: number | null }> = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly store: Store) {
    this.done = this.loop();
  }

  /** `job` as read at `readAt`, right after the kill. */
  add(watched: WatchedJob, job: VideoJob, readAt: number): void {
    watched.lookFrom = Math.max(watched.lookFrom, readAt);
    this.pending.push({ watched, owner: job.leaseOwner, expiresAt: job.leaseExpiresAt });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (this.pending.length > 0) {
        const readAt = Date.now();
        try {
          const ids = [...new Set(this.pending.map((entry) => entry.watched.jobId))];
          const current = new Map((await this.store.getJobs(ids)).flatMap((job) => (job ? [[job.id, job] as const] : [])));
          for (let i = this.pending.length - 1; i >= 0; i--) {
            const entry = this.pending[i]!;
            const job = current.get(entry.watched.jobId);
            const unchanged = job && job.leaseOwner === entry.owner && job.leaseExpiresAt === entry.expiresAt;
            if (unchanged && !isTerminal(job.status)) {
              entry.watched.lookFrom = readAt;
              continue;
            }
            entry.watched.leaseFate = !job
              ? 'job gone'
              : unchanged
                ? `job ${job.status} under the killed replica's lease`
                : job.leaseOwner === null
                  ? `released, job ${job.status}/${job.phase}`
                  : `taken by ${job.leaseOwner}`;
            this.pending.splice(i, 1);
          }
        } catch {
          // A read that failed shows nothing: the next one decides.
        }
      }
      await sleep(LEASE_WATCH_INTERVAL_MS);
    }
  }
}

/** The earliest request at or after `lookFrom` that looked at each watched job (the log is in answer order, not arrival order). */
export function matchFirstLooks(watched: WatchedJob[], requests: RecordedRequest[]): void {
  for (const job of watched) {
    for (const request of requests) {
      if (request.t < job.lookFrom || (job.firstLookAt !== null && request.t >= job.firstLookAt)) continue;
      const looks =
        job.phase === 'submitting'
          ? request.route === 'listJobs'
          : job.phase === 'mirroring'
            ? request.route === 'getAsset' && request.assetIds.some((id) => job.assetIds.includes(id))
            : (request.route === 'getJob' || request.route === 'listJobs') && job.upstreamJobId !== null && request.jobIds.includes(job.upstreamJobId);
      if (looks) job.firstLookAt = request.t;
    }
  }
}

export interface LookTimes {
  samples: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

/**
 * The time to the first look of each watched job. A job not looked at while its life lasted counts as a miss once
 * that life outlasted the goal, and as not measurable otherwise.
 */
export function summariseLooks(watched: WatchedJob[], goalMs: number): { times: LookTimes; over: number; censored: number; misses: string[] } {
  const samples: number[] = [];
  const misses: Array<{ ms: number; text: string }> = [];
  let censored = 0;
  const sample = (job: WatchedJob, ms: number, looked: boolean) => {
    samples.push(ms);
    if (ms <= goalMs) return;
    const lease = job.lookFrom > job.from ? `, lease ${job.leaseFate ?? 'unchanged'} after ${job.lookFrom - job.from} ms` : '';
    misses.push({ ms, text: `${job.jobId} (${job.phase}, kill ${job.kill} of ${job.killed}${lease}): ${looked ? `${ms} ms` : `not looked at in ${ms} ms`}` });
  };
  for (const job of watched) {
    const endedAt = job.life.endedAt ?? Infinity;
    if (job.firstLookAt !== null && job.firstLookAt <= endedAt) sample(job, job.firstLookAt - job.from, true);
    else if (endedAt - job.from > goalMs) sample(job, endedAt - job.from, false);
    else censored++;
  }
  const over = misses.length;
  const worstFirst = misses.sort((a, b) => b.ms - a.ms).map((miss) => miss.text);
  const times = {
    samples: samples.length,
    p50: samples.length ? Math.round(quantile(samples, 0.5)) : null,
    p95: samples.length ? Math.round(quantile(samples, 0.95)) : null,
    max: samples.length ? Math.max(...samples) : null,
  };
  return { times, over, censored, misses: worstFirst };
}
