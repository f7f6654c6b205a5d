// GENERATE_RATE_LIMIT_PER_MINUTE across replicas (CONTRACT §9): the sliding window of SlidingWindowRateLimiter, kept
// in one Redis sorted set per user and checked and recorded in one script so that two replicas cannot both take the
// last slot. While Redis is down each replica falls back to its own window: the gateway keeps answering, with a limit
// that holds per replica only.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { InProcessRateLimiter, type GenerateRateLimiter } from '../engine/rate-limiter.ts';
import { DEFAULT_KEY_PREFIX, RedisConnection, type RedisConnectionState, type RedisLog } from './connection.ts';

const WINDOW_MS = 60_000;

// KEYS[1]: the user's window. ARGV: now, window (ms), limit, the member recording this start.
// Same rule as SlidingWindowRateLimiter: entries at or before now - window no longer count, and when the limit is
// reached the wait runs until the entry `limit` places from the newest leaves the window.
const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return math.max(1, math.ceil((tonumber(oldest[2]) + window - now) / 1000))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

interface WindowCommands {
  acquireGenerateSlot(key: string, now: number, windowMs: number, limit: number, member: string): Promise<number>;
}

export interface RedisRateLimiterOptions {
  url: string;
  keyPrefix?: string;
  instanceId: string;
  limitPerMinute: number;
  log: RedisLog;
}

const windowKey = (key: string) => `rate:generate:${key}`;

export class RedisRateLimiter implements GenerateRateLimiter {
  private readonly connection: RedisConnection;
  private readonly redis: Redis & WindowCommands;
  private readonly fallback: InProcessRateLimiter;
  /**
   * The starts of the last minute by (at, key), so that release can remove exactly what its acquire added: a Redis
   * member, or null when the fallback recorded it. Insertion order is time order, which makes forgetting cheap.
   */
  private readonly acquired = new Map<string, { at: number; members: Array<string | null> }>();
  private outage = false;

  constructor(private readonly options: RedisRateLimiterOptions) {
    const { url, keyPrefix = DEFAULT_KEY_PREFIX, instanceId, limitPerMinute, log } = options;
    this.connection = new RedisConnection({ url, keyPrefix, name: `rate-limiter:${instanceId}`, log });
    this.connection.client.defineCommand('acquireGenerateSlot', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
    this.redis = this.connection.client as Redis & WindowCommands;
    this.fallback = new InProcessRateLimiter(limitPerMinute);
  }

  async tryAcquire(key: string, now: number): Promise<number> {
    this.forgetUntil(now - WINDOW_MS);
    const member = `${now}:${randomBytes(8).toString('hex')}`;
    try {
      await this.connection.firstAttempt;
      const wait = await this.redis.acquireGenerateSlot(windowKey(key), now, WINDOW_MS, this.options.limitPerMinute, member);
      this.redisAnswered();
      if (wait === 0) this.remember(key, now, member);
      return wait;
    } catch (error) {
      this.redisFailed(error);
      const wait = await this.fallback.tryAcquire(key, now);
      if (wait === 0) this.remember(key, now, null);
      return wait;
    }
  }

  async release(key: string, at: number): Promise<void> {
    const member = this.take(key, at);
    if (member === undefined) return;
    if (member === null) return this.fallback.release(key, at);
    try {
      await this.redis.zrem(windowKey(key), member);
      this.redisAnswered();
    } catch (error) {
      // The start stays counted until it leaves the window: too strict for a minute, never too lax.
      this.redisFailed(error);
    }
  }

  connectionState(): RedisConnectionState {
    return this.connection.state();
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private remember(key: string, at: number, member: string | null): void {
    const id = `${at}\u0000${key}`;
    const entry = this.acquired.get(id);
    if (entry) entry.members.push(member);
    else this.acquired.set(id, { at, members: [member] });
  }

  /** The record of one start of `key` at `at`, removed; undefined when there is none. */
  private take(key: string, at: number): string | null | undefined {
    const id = `${at}\u0000${key}`;
    const entry = this.acquired.get(id);
    if (!entry) return undefined;
    const member = entry.members.pop();
    if (entry.members.length === 0) this.acquired.delete(id);
    return member;
  }

  /** Drops records a release could no longer matter for; stops at the first newer one (callers' clocks may step back). */
  private forgetUntil(cutoff: number): void {
    for (const [id, entry] of this.acquired) {
      if (entry.at > cutoff) return;
      this.acquired.delete(id);
    }
  }

  private redisFailed(error: unknown): void {
    if (this.outage) return;
    this.outage = true;
    const err = error instanceof Error ? error.message : String(error);
    this.options.log.warn({ err }, 'Redis unavailable: generate rate limit kept per replica until it is back');
  }

  private redisAnswered(): void {
    if (!this.outage) return;
    this.outage = false;
    this.options.log.info({}, 'Redis is back: generate rate limit shared by replicas again');
  }
}
