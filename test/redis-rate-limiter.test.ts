// RedisRateLimiter against the machine's Redis: two limiters on one Redis stand for two replicas.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlidingWindowRateLimiter } from '../src/engine/rate-limiter.ts';
import type { RedisLog } from '../src/redis/connection.ts';
import { RedisRateLimiter } from '../src/redis/rate-limiter.ts';
import { hasRedis, TEST_REDIS_URL, uniqueName } from './helpers/services.ts';

function captureLog() {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (_fields: object, message: string) => void lines.push({ level, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') } satisfies RedisLog & { lines: unknown[] };
}

describe.skipIf(!hasRedis)('RedisRateLimiter', () => {
  const keyPrefix = `${uniqueName('rate')}:`;
  const limiters: RedisRateLimiter[] = [];
  let admin: Redis;

  function newLimiter(limitPerMinute: number, url = TEST_REDIS_URL) {
    const log = captureLog();
    const limiter = new RedisRateLimiter({ url, keyPrefix, instanceId: uniqueName('replica'), limitPerMinute, log });
    limiters.push(limiter);
    return { limiter, log };
  }

  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL);
  });

  afterEach(async () => {
    await Promise.all(limiters.splice(0).map((limiter) => limiter.close()));
  });

  afterAll(async () => {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('shares the window between replicas, with the waits of SlidingWindowRateLimiter', async () => {
    const { limiter: a } = newLimiter(3);
    const { limiter: b } = newLimiter(3);
    const reference = new SlidingWindowRateLimiter(3);
    const t = Date.now();
    const steps: Array<[RedisRateLimiter, number]> = [
      [a, t],
      [b, t + 1],
      [a, t + 2],
      [b, t + 3],
      [a, t + 30_500],
      [b, t + 59_999],
      [a, t + 60_000],
      [b, t + 60_001],
    ];
    const waits: number[] = [];
    for (const [limiter, now] of steps) {
      const wait = await limiter.tryAcquire('user-1', now);
      expect(wait, `at t+${now - t}`).toBe(reference.tryAcquire('user-1', now));
      waits.push(wait);
    }
    // The 4th start waits for the first to leave the window; from t+60 s on, the early starts leave one by one.
    expect(waits).toEqual([0, 0, 0, 60, 30, 1, 0, 0]);
    expect(await admin.zcard(`${keyPrefix}rate:generate:user-1`)).toBe(3);
    const ttl = await admin.pttl(`${keyPrefix}rate:generate:user-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Other users have their own window.
    expect(await a.tryAcquire('user-2', t + 3)).toBe(0);
  });

  it('gives back a released start, once', async () => {
    const { limiter: a } = newLimiter(3);
    const { limiter: b } = newLimiter(3);
    const t = Date.now();
    expect(await a.tryAcquire('user-3', t)).toBe(0);
    expect(await b.tryAcquire('user-3', t)).toBe(0);
    expect(await b.tryAcquire('user-3', t)).toBe(0);
    const wait = await a.tryAcquire('user-3', t + 10);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);

    await b.release('user-3', t);
    await b.release('user-3', t + 5); // never acquired: nothing to give back
    expect(await admin.zcard(`${keyPrefix}rate:generate:user-3`)).toBe(2);
    expect(await a.tryAcquire('user-3', t + 20)).toBe(0);
    expect(await b.tryAcquire('user-3', t + 30)).toBeGreaterThan(0);
  });

  it('lets exactly the limit through when replicas race', async () => {
    const { limiter: a } = newLimiter(5);
    const { limiter: b } = newLimiter(5);
    const t = Date.now();
    const waits = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).tryAcquire('user-4', t + i)),
    );
    expect(waits.filter((wait) => wait === 0)).toHaveLength(5);
    expect(waits.every((wait) => wait === 0 || (wait >= 1 && wait <= 60))).toBe(true);
    expect(await admin.zcard(`${keyPrefix}rate:generate:user-4`)).toBe(5);
  });

  it('enforces the limit in memory while Redis cannot be reached, warning once', async () => {
    const { limiter, log } = newLimiter(2, 'redis://127.0.0.1:1');
    const t = Date.now();
    const started = Date.now();
    expect(await limiter.tryAcquire('user-5', t)).toBe(0);
    expect(await limiter.tryAcquire('user-5', t + 1)).toBe(0);
    expect(await limiter.tryAcquire('user-5', t + 2)).toBe(60);
    await limiter.release('user-5', t + 1);
    expect(await limiter.tryAcquire('user-5', t + 3)).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(limiter.connectionState()).toBe('down');
    const fallbackWarnings = log.lines.filter((line) => line.message.startsWith('Redis unavailable'));
    expect(fallbackWarnings).toHaveLength(1);
  });
});
