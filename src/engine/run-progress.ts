// What upstream's `progress` says about when a followed job can finish, for the poll schedule (CONTRACT.md §5: a
// finished job must be noticed within its lag budget, so looking less often is only worth it while the job cannot
// be done yet).
//
// Upstream reports progress 0..1 while a job is `in-progress`. The rate since the gateway first saw the job running
// gives the time its run still needs. A job that is not running yet (pending, queued, warming-up) still needs a whole
// run, and similar jobs running now (same size and duration) show how long one takes. Both are estimates: progress
// may be uneven or stall, and a job may run faster than its neighbours. So the schedule relies on PROGRESS_SAFETY
// (half) of what they say, and never waits longer than POLL_MAX_INTERVAL_MS on them (poll-schedule.ts). That bounds
// what a wrong estimate costs: a job that ends sooner than estimated is noticed at most one POLL_MAX_INTERVAL_MS
// (+5 % jitter, + one scheduler tick) after it ended, and every poll estimates again. That is within the contract's
// budget for any job that ends older than that interval / 15 % (≈ 140 s with the default 20 s), about where the
// age-based schedule itself reaches the maximum; only a job that ends younger than that, and more than twice as fast
// as its own rate (or its running neighbours) said, can be noticed later than its budget, by at most the difference.
//
// Kept in memory, not in the store: after a restart the first look at a running job starts a new baseline, so it is
// polled once more on the age-based schedule before its progress counts again (the cautious side).
import type { VideoSize } from '../domain/video-job.ts';
import { mapUpstreamStatus } from './upstream-status.ts';

/** Share of an estimate the schedule relies on: the rest of the run may go twice as fast as it went so far. */
export const PROGRESS_SAFETY = 0.5;
/** Only similar jobs seen running this recently speak for a job that has not started. */
const SIMILAR_FRESH_MS = 10 * 60_000;
/** The shortest similar run is recomputed at most this often (an estimate; a few seconds old is as good). */
const SHORTEST_RUN_CACHE_MS = 5_000;
/** Entries not seen for this long belong to jobs no longer followed (every followed job is looked at more often). */
const FORGET_AFTER_MS = 60 * 60_000;

/** What the estimate needs to know of a gateway job. */
export interface RunFacts {
  id: string;
  size: VideoSize;
  durationSeconds: number;
}

interface RunningJob {
  kind: string;
  /** The first look at the job running, and its progress then: the baseline of its rate. */
  sinceAt: number;
  sinceProgress: number;
  /** The latest look at it running. */
  lastAt: number;
  lastProgress: number;
  /** Milliseconds a whole run (progress 0 → 1) takes at the rate seen since the baseline; null until progress moved. */
  runMs: number | null;
  /** The latest look at it, in any status. */
  seenAt: number;
}

const kindOf = (job: RunFacts) => `${job.size}:${job.durationSeconds}`;

export class RunProgress {
  private readonly jobs = new Map<string, RunningJob>();
  private readonly shortestRun = new Map<string, { at: number; runMs: number | null }>();
  private prunedAt = 0;

  /** Records what upstream said about a followed job. */
  observe(job: RunFacts, upstreamStatus: string, progress: number, now: number): void {
    this.prune(now);
    const entry = this.jobs.get(job.id);
    if (entry) entry.seenAt = now;
    // Only `in-progress` is known to move progress steadily; other statuses keep the entry but say nothing new.
    if (upstreamStatus !== 'in-progress') return;
    if (!entry || progress < entry.lastProgress) {
      this.jobs.set(job.id, {
        kind: kindOf(job),
        sinceAt: now,
        sinceProgress: progress,
        lastAt: now,
        lastProgress: progress,
        runMs: null,
        seenAt: now,
      });
      return;
    }
    entry.lastAt = now;
    entry.lastProgress = progress;
    const moved = progress - entry.sinceProgress;
    entry.runMs = moved > 0 && now > entry.sinceAt ? (now - entry.sinceAt) / moved : null;
    // A shorter run counts at once (the cautious side); a longer one waits for the cache to expire.
    const cached = this.shortestRun.get(entry.kind);
    if (cached && entry.runMs !== null && (cached.runMs === null || entry.runMs < cached.runMs)) cached.runMs = entry.runMs;
  }

  /** The job left upstream (or is no longer followed). */
  forget(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /**
   * Milliseconds from `now` during which the job cannot finish by the evidence, PROGRESS_SAFETY applied; null when
   * nothing says so (no estimate yet, near the end, finalizing, or a status whose meaning is unknown).
   */
  cannotFinishForMs(job: RunFacts, upstreamStatus: string | null, now: number): number | null {
    if (upstreamStatus === 'in-progress') {
      const entry = this.jobs.get(job.id);
      if (!entry || entry.runMs === null) return null;
      const remaining = (1 - entry.lastProgress) * entry.runMs - (now - entry.lastAt);
      return remaining > 0 ? PROGRESS_SAFETY * remaining : null;
    }
    if (upstreamStatus !== null && mapUpstreamStatus(upstreamStatus) === 'QUEUED') {
      const run = this.shortestRunMs(kindOf(job), now);
      return run === null ? null : PROGRESS_SAFETY * run;
    }
    return null;
  }

  /** The shortest whole run among similar jobs seen running recently, or null when none is known. */
  private shortestRunMs(kind: string, now: number): number | null {
    const cached = this.shortestRun.get(kind);
    if (cached && now - cached.at < SHORTEST_RUN_CACHE_MS) return cached.runMs;
    let shortest: number | null = null;
    for (const entry of this.jobs.values()) {
      if (entry.kind !== kind || entry.runMs === null || now - entry.lastAt > SIMILAR_FRESH_MS) continue;
      if (shortest === null || entry.runMs < shortest) shortest = entry.runMs;
    }
    this.shortestRun.set(kind, { at: now, runMs: shortest });
    return shortest;
  }

  private prune(now: number): void {
    if (now - this.prunedAt < FORGET_AFTER_MS) return;
    this.prunedAt = now;
    for (const [id, entry] of this.jobs) if (now - entry.seenAt > FORGET_AFTER_MS) this.jobs.delete(id);
  }
}
