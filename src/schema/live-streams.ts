// The async iterators behind the subscriptions, fed by the job event bus. Written as plain iterator objects rather
// than async generators: `return()` on a generator that never started skips its `finally`, which would leave a
// listener on the bus when a client leaves before the first message.
import { matchesFilter, type VideoJobFilter } from '../domain/job-filter.ts';
import { isTerminal, type JobView } from '../domain/video-job.ts';

/** A pull queue: `next()` waits for the next item the stream decides to deliver; `return()` ends it and cleans up. */
abstract class LiveStream implements AsyncIterableIterator<JobView> {
  private waiter: ((result: IteratorResult<JobView>) => void) | null = null;
  private closed = false;
  // Ten thousand idle streams are normal: one cleanup (the usual case) is kept without an array.
  private cleanups: (() => void) | Array<() => void> | null = null;
  private beforePull: (() => void) | null = null;

  /** Runs once when the stream ends, however it ends. */
  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else if (this.cleanups === null) this.cleanups = cleanup;
    else if (typeof this.cleanups === 'function') this.cleanups = [this.cleanups, cleanup];
    else this.cleanups.push(cleanup);
  }

  /** Runs each time the consumer asks for the next item, i.e. once it is done with the previous one. */
  onPull(hook: () => void): void {
    this.beforePull = hook;
  }

  /** The next item to deliver, or null while there is none yet; `finished` is true after the last one. */
  protected abstract take(): JobView | null;
  protected abstract get finished(): boolean;

  /** Subclasses call this after queueing something. */
  protected wake(): void {
    if (!this.waiter) return;
    const item = this.take();
    if (item) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter({ value: item, done: false });
    }
  }

  next(): Promise<IteratorResult<JobView>> {
    this.beforePull?.();
    if (this.closed || this.finished) return this.return();
    const item = this.take();
    if (item) return Promise.resolve({ value: item, done: false });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<JobView>> {
    if (!this.closed) {
      this.closed = true;
      const cleanups = this.cleanups;
      this.cleanups = null;
      if (typeof cleanups === 'function') cleanups();
      else for (const cleanup of cleanups ?? []) cleanup();
    }
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<JobView>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * jobUpdated: the job as it is now, then every later version in version order, ending after a terminal one.
 * Listen on the bus before reading the row (`push` may be called before `start`): nothing is lost in between,
 * and versions at or below the row's are dropped.
 */
export class JobUpdateStream extends LiveStream {
  /** Versions not delivered yet; dropped (not kept empty) once delivered, so an idle stream holds no array. */
  private pending: JobView[] | null = null;
  private started = false;
  private lastVersion = 0;
  private terminalSent = false;

  push(job: JobView): void {
    // Before start() everything is kept: the row read later decides what is stale.
    if (this.terminalSent || (this.started && job.version <= this.lastVersion)) return;
    (this.pending ??= []).push(job);
    this.wake();
  }

  /** The row read after subscribing: always the first message. */
  start(current: JobView): void {
    this.started = true;
    this.lastVersion = current.version - 1;
    (this.pending ??= []).push(current);
    this.wake();
  }

  protected get finished(): boolean {
    return this.terminalSent;
  }

  protected take(): JobView | null {
    const pending = this.pending;
    if (!this.started || this.terminalSent || pending === null) return null;
    let next: JobView | null = null;
    for (const job of pending) {
      if (job.version > this.lastVersion && (next === null || job.version < next.version)) next = job;
    }
    // Whatever is not newer than what is delivered now will never be delivered.
    const delivered = next?.version ?? this.lastVersion;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i]!.version <= delivered) pending.splice(i, 1);
    }
    if (pending.length === 0) this.pending = null;
    if (!next) return null;
    this.lastVersion = next.version;
    if (isTerminal(next.status)) {
      this.terminalSent = true;
      this.pending = null;
    }
    return next;
  }
}

interface Seen {
  version: number;
  matched: boolean;
}

/**
 * Finished jobs remembered per stream, newest kept: a late or repeated message of a finished job (a resync after a
 * Redis outage re-reads recent changes; two replicas' messages may cross) must not be delivered after its end.
 */
const MAX_FINISHED_REMEMBERED = 1000;

/**
 * videoJobsUpdated: every change of the owner's jobs that matches `filter` before or after the change, so a client
 * can drop a job that left its view, each job's changes in version order. "Before" is the last state seen of the job:
 * seeded with the owner's unfinished jobs when the subscription starts (only those can still change), then kept per
 * job; a finished job's last version is kept too (up to MAX_FINISHED_REMEMBERED), so nothing older follows it.
 */
export class OwnerJobsStream extends LiveStream {
  private readonly pending: JobView[] = [];
  private readonly seen = new Map<string, Seen>();
  /** Ids of finished jobs in `seen`, oldest first. */
  private readonly finishedJobs = new Set<string>();
  private early: JobView[] | null = [];

  constructor(private readonly filter: VideoJobFilter | null) {
    super();
  }

  /** Called by the bus listener, possibly before `start`. */
  push(job: JobView): void {
    if (this.early) this.early.push(job);
    else this.consider(job);
  }

  /** The owner's unfinished jobs, read after subscribing to the bus. */
  start(unfinished: readonly JobView[]): void {
    for (const job of unfinished) this.seen.set(job.id, { version: job.version, matched: matchesFilter(job, this.filter) });
    const early = this.early ?? [];
    this.early = null;
    // Changes published while the snapshot was read: those it already contains are not repeated.
    for (const job of early) this.consider(job);
  }

  private consider(job: JobView): void {
    const previous = this.seen.get(job.id);
    if (previous && job.version <= previous.version) return;
    // Unseen: a job created after the start (version 1) did not match before; any other unseen job was finished
    // at the start and a finished job no longer changes what the filter looks at.
    const matchedBefore = previous ? previous.matched : job.version > 1 && matchesFilter(job, this.filter);
    const matchedAfter = matchesFilter(job, this.filter);
    this.seen.set(job.id, { version: job.version, matched: matchedAfter });
    if (isTerminal(job.status)) this.rememberFinished(job.id);
    if (matchedBefore || matchedAfter) {
      this.pending.push(job);
      this.wake();
    }
  }

  private rememberFinished(jobId: string): void {
    this.finishedJobs.add(jobId);
    if (this.finishedJobs.size <= MAX_FINISHED_REMEMBERED) return;
    const oldest = this.finishedJobs.values().next().value!;
    this.finishedJobs.delete(oldest);
    this.seen.delete(oldest);
  }

  protected get finished(): boolean {
    return false;
  }

  protected take(): JobView | null {
    return this.pending.shift() ?? null;
  }
}
