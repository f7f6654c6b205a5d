import { describe, expect, it } from 'vitest';
import { normalizeGenerateRequest } from '../src/domain/generate-request.ts';
import { sameRequest, type JobView, type VideoJob } from '../src/domain/video-job.ts';
import { admissionOrder } from '../src/domain/admission.ts';
import { backoffDelay } from '../src/engine/backoff.ts';
import { nextPollDelay, STALLED_POLL_INTERVAL_MS } from '../src/engine/poll-schedule.ts';
import { SlidingWindowRateLimiter } from '../src/engine/rate-limiter.ts';
import { RunTimeHistory } from '../src/engine/run-time-history.ts';
import { mapUpstreamStatus } from '../src/engine/upstream-status.ts';
import { InProcessJobEventBus } from '../src/events/job-event-bus.ts';

const job = (id: string, ownerId: string) => ({ id, ownerId }) as VideoJob;

describe('admission order', () => {
  it('serves owners round-robin, each owner oldest first', () => {
    const waiting = [job('a1', 'A'), job('a2', 'A'), job('a3', 'A'), job('b1', 'B'), job('c1', 'C'), job('b2', 'B')];
    expect(admissionOrder(waiting, null).map((j) => j.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('puts the owner served last at the end of the rotation', () => {
    const waiting = [job('a2', 'A'), job('b1', 'B'), job('a3', 'A')];
    expect(admissionOrder(waiting, 'A').map((j) => j.id)).toEqual(['b1', 'a2', 'a3']);
    expect(admissionOrder(waiting, 'B').map((j) => j.id)).toEqual(['a2', 'b1', 'a3']);
    expect(admissionOrder([], 'A')).toEqual([]);
  });
});

describe('poll schedule', () => {
  const base = { minIntervalMs: 2000, maxIntervalMs: 20000, earliestFinishMs: null, stalled: false, pollsSoFar: 1, random: () => 0.5 };

  it('keeps the interval within the bounds and under the lag budget max(3 s, 15 % of the age)', () => {
    for (const ageMs of [0, 10_000, 30_000, 60_000, 120_000]) {
      for (const random of [() => 0, () => 1]) {
        const delay = nextPollDelay({ ...base, ageMs, random });
        expect(delay).toBeGreaterThanOrEqual(2000 * 0.95);
        expect(delay).toBeLessThanOrEqual(Math.max(3000, 0.15 * ageMs));
      }
    }
    expect(nextPollDelay({ ...base, ageMs: 3_600_000 })).toBe(20000);
    expect(nextPollDelay({ ...base, ageMs: 0, minIntervalMs: 50, maxIntervalMs: 300 })).toBe(300);
  });

  it('sleeps until similar jobs start to finish, but polls once early', () => {
    const withHistory = { ...base, earliestFinishMs: 50_000 };
    expect(nextPollDelay({ ...withHistory, ageMs: 2000 })).toBe(48_000);
    expect(nextPollDelay({ ...withHistory, ageMs: 0, pollsSoFar: 0 })).toBe(2550);
    expect(nextPollDelay({ ...withHistory, ageMs: 52_000 })).toBeLessThan(0.15 * 52_000);
  });

  it('polls a stalled job slowly', () => {
    expect(nextPollDelay({ ...base, ageMs: 3_600_000, stalled: true })).toBe(STALLED_POLL_INTERVAL_MS);
  });
});

describe('run-time history', () => {
  it('says nothing until three similar jobs are known', () => {
    const history = new RunTimeHistory([
      { seconds: 60, size: 'LANDSCAPE_720P', durationSeconds: 5 },
      { seconds: 62, size: 'LANDSCAPE_720P', durationSeconds: 5 },
      { seconds: 300, size: 'LANDSCAPE_1080P', durationSeconds: 10 },
    ]);
    expect(history.medianSeconds('LANDSCAPE_720P', 5)).toBeNull();
    history.record({ seconds: 64, size: 'LANDSCAPE_720P', durationSeconds: 5 });
    expect(history.medianSeconds('LANDSCAPE_720P', 5)).toBe(62);
    expect(history.earliestFinishSeconds('LANDSCAPE_720P', 5)).toBeLessThan(60);
    expect(history.medianSeconds('LANDSCAPE_1080P', 10)).toBeNull();
  });
});

describe('backoff', () => {
  it('grows exponentially, is capped, and honours Retry-After as a floor', () => {
    const max = { baseMs: 1000, maxMs: 30_000, random: () => 1 };
    expect(backoffDelay(0, max)).toBe(1000);
    expect(backoffDelay(3, max)).toBe(8000);
    expect(backoffDelay(20, max)).toBe(30_000);
    expect(backoffDelay(0, { ...max, retryAfterMs: 12_000 })).toBe(12_000);
    expect(backoffDelay(2, { ...max, random: () => 0 })).toBe(2000);
  });
});

describe('upstream status mapping', () => {
  it('follows CONTRACT.md §5 and leaves unknown statuses alone', () => {
    expect(['pending', 'queued', 'warming-up'].map(mapUpstreamStatus)).toEqual(['QUEUED', 'QUEUED', 'QUEUED']);
    expect(['in-progress', 'finalizing', 'success'].map(mapUpstreamStatus)).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS']);
    expect(mapUpstreamStatus('failure')).toBe('FAILED');
    expect(mapUpstreamStatus('canceled')).toBe('CANCELED');
    expect(mapUpstreamStatus('pondering')).toBeNull();
  });
});

describe('generate request', () => {
  const draw = () => 42;

  it('applies defaults, treats null as the default and draws a seed', () => {
    const result = normalizeGenerateRequest({ prompt: 'a cat', size: null, durationSeconds: null, enablePromptExpansion: null }, draw);
    expect(result).toEqual({
      ok: true,
      idempotencyKey: null,
      params: {
        prompt: 'a cat',
        negativePrompt: null,
        size: 'LANDSCAPE_720P',
        durationSeconds: 5,
        enablePromptExpansion: true,
        seed: 42,
        seedDrawn: true,
        audioId: null,
      },
    });
  });

  it('names every bad field', () => {
    const result = normalizeGenerateRequest(
      { prompt: ' ', negativePrompt: 'x'.repeat(501), durationSeconds: 7, seed: -1, idempotencyKey: '' },
      draw,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.fieldErrors.map((e) => e.path.join('.'))).toEqual([
      'input.prompt',
      'input.negativePrompt',
      'input.durationSeconds',
      'input.seed',
      'input.idempotencyKey',
    ]);
    const long = normalizeGenerateRequest({ prompt: 'x'.repeat(801), seed: 2_147_483_648 }, draw);
    expect(long.ok ? [] : long.fieldErrors.map((e) => e.path[1])).toEqual(['prompt', 'seed']);
  });

  it('compares requests as asked: a drawn seed matches no seed', () => {
    const first = normalizeGenerateRequest({ prompt: 'p' }, () => 1);
    const again = normalizeGenerateRequest({ prompt: 'p' }, () => 2);
    const seeded = normalizeGenerateRequest({ prompt: 'p', seed: 1 }, draw);
    if (!first.ok || !again.ok || !seeded.ok) throw new Error('unexpected');
    expect(sameRequest(first.params, again.params)).toBe(true);
    expect(sameRequest(first.params, seeded.params)).toBe(false);
  });
});

describe('rate limiter', () => {
  it('allows N per sliding minute and says when the next one is allowed', () => {
    const limiter = new SlidingWindowRateLimiter(2);
    limiter.record('u', 0);
    limiter.record('u', 10_000);
    expect(limiter.retryAfterSeconds('u', 20_000)).toBe(40);
    expect(limiter.retryAfterSeconds('other', 20_000)).toBe(0);
    expect(limiter.retryAfterSeconds('u', 60_001)).toBe(0);
  });
});

describe('job event bus', () => {
  it('delivers to job and owner listeners, isolates a throwing listener, and unsubscribes', async () => {
    const errors: unknown[] = [];
    const bus = new InProcessJobEventBus((e) => errors.push(e));
    const seen: string[] = [];
    const offJob = await bus.subscribeToJob('j1', (j) => seen.push(`job:${j.version}`));
    await bus.subscribeToJob('j1', () => {
      throw new Error('boom');
    });
    const offOwner = await bus.subscribeToOwner('A', (j) => seen.push(`owner:${j.id}`));
    await bus.publish({ id: 'j1', ownerId: 'A', version: 2 } as JobView);
    await bus.publish({ id: 'j2', ownerId: 'B', version: 1 } as JobView);
    expect(seen).toEqual(['job:2', 'owner:j1']);
    expect(errors).toHaveLength(1);
    offJob();
    offJob();
    offOwner();
    expect(bus.listenerCount()).toBe(1);
  });

  it('holds thousands of listeners on one job without warnings', async () => {
    const bus = new InProcessJobEventBus();
    let delivered = 0;
    const offs = await Promise.all(Array.from({ length: 5000 }, () => bus.subscribeToJob('j', () => delivered++)));
    await bus.publish({ id: 'j', ownerId: 'A', version: 1 } as JobView);
    expect(delivered).toBe(5000);
    offs.forEach((off) => off());
    expect(bus.listenerCount()).toBe(0);
  });
});

describe('time-ordered ids', () => {
  it('sort in creation order, even within one millisecond', async () => {
    const { newTimeOrderedId } = await import('../src/domain/ids.ts');
    const ids = Array.from({ length: 5000 }, () => newTimeOrderedId(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
