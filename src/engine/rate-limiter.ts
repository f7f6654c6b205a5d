// Per-user limit on started jobs: a sliding one-minute window kept in memory.
const WINDOW_MS = 60_000;

export class SlidingWindowRateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly limitPerMinute: number) {}

  /** Seconds until `key` may act again, or 0 when it may act now. Does not record anything. */
  retryAfterSeconds(key: string, now: number): number {
    const recent = this.prune(key, now);
    if (recent.length < this.limitPerMinute) return 0;
    return Math.max(1, Math.ceil((recent[recent.length - this.limitPerMinute]! + WINDOW_MS - now) / 1000));
  }

  /** Records an action and returns 0 when `key` may act now; otherwise records nothing and returns the wait in seconds. */
  tryAcquire(key: string, now: number): number {
    const wait = this.retryAfterSeconds(key, now);
    if (wait === 0) this.record(key, now);
    return wait;
  }

  /** Gives back an action recorded at `at` that did not happen after all. */
  release(key: string, at: number): void {
    const recent = this.hits.get(key);
    const index = recent?.lastIndexOf(at) ?? -1;
    if (index === -1) return;
    recent!.splice(index, 1);
    if (recent!.length === 0) this.hits.delete(key);
  }

  record(key: string, now: number): void {
    const recent = this.prune(key, now);
    recent.push(now);
    this.hits.set(key, recent);
  }

  private prune(key: string, now: number): number[] {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    if (recent.length === 0) this.hits.delete(key);
    else this.hits.set(key, recent);
    return recent;
  }
}

/** The per-user generate limit as the engine uses it: in this process, or shared by replicas (src/redis/rate-limiter.ts). */
export interface GenerateRateLimiter {
  /** Records a start and returns 0 when `key` may start now; otherwise records nothing and returns the wait in seconds. */
  tryAcquire(key: string, now: number): Promise<number>;
  /** Gives back a start recorded at `at` that did not happen after all. */
  release(key: string, at: number): Promise<void>;
}

/** One replica's limit, in memory. */
export class InProcessRateLimiter implements GenerateRateLimiter {
  private readonly window: SlidingWindowRateLimiter;

  constructor(limitPerMinute: number) {
    this.window = new SlidingWindowRateLimiter(limitPerMinute);
  }

  async tryAcquire(key: string, now: number): Promise<number> {
    return this.window.tryAcquire(key, now);
  }

  async release(key: string, at: number): Promise<void> {
    this.window.release(key, at);
  }
}
