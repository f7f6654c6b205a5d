// The poll schedule's use of upstream progress: a job far from done is looked at less often than its lag budget
// asks, never past POLL_MAX_INTERVAL_MS, and only as long as the evidence holds.
import { describe, expect, it } from 'vitest';
import type { VideoJob } from '../src/domain/video-job.ts';
import type { EngineContext } from '../src/engine/context.ts';
import { upstreamChange } from '../src/engine/poll.ts';
import { nextPollDelay } from '../src/engine/poll-schedule.ts';
import { PROGRESS_SAFETY, RunProgress } from '../src/engine/run-progress.ts';
import { RunTimeHistory } from '../src/engine/run-time-history.ts';
import type { UpstreamJob } from '../src/scenario/types.ts';

const base = { minIntervalMs: 2000, maxIntervalMs: 20_000, earliestFinishMs: null, stalled: false, pollsSoFar: 1, random: () => 0.5 };
const facts = (id: string, size: VideoJob['size'] = 'LANDSCAPE_720P', durationSeconds = 5) => ({ id, size, durationSeconds });

describe('poll schedule with progress evidence', () => {
  it('waits as long as the evidence says, between the budgeted interval and the maximum', () => {
    // Age 30 s: the budget asks for 85 % of 4.5 s.
    expect(nextPollDelay({ ...base, ageMs: 30_000 })).toBe(3825);
    expect(nextPollDelay({ ...base, ageMs: 30_000, cannotFinishForMs: 12_000 })).toBe(12_000);
    expect(nextPollDelay({ ...base, ageMs: 30_000, cannotFinishForMs: 500_000 })).toBe(20_000);
    // Evidence that the job may end sooner than the budgeted interval never makes the gateway look more often.
    expect(nextPollDelay({ ...base, ageMs: 30_000, cannotFinishForMs: 1000 })).toBe(3825);
    expect(nextPollDelay({ ...base, ageMs: 30_000, cannotFinishForMs: null })).toBe(3825);
  });

  it('never waits past the maximum interval (plus jitter) on progress alone', () => {
    for (const ageMs of [0, 5_000, 30_000, 120_000, 600_000]) {
      for (const random of [() => 0, () => 1]) {
        const delay = nextPollDelay({ ...base, ageMs, random, cannotFinishForMs: 3_600_000 });
        expect(delay).toBeLessThanOrEqual(20_000 * 1.05);
        expect(delay).toBeGreaterThanOrEqual(20_000 * 0.95);
      }
    }
  });

  it('keeps the first poll early, and history and stall rules as they were', () => {
    expect(nextPollDelay({ ...base, ageMs: 0, pollsSoFar: 0, cannotFinishForMs: 500_000 })).toBe(2550);
    // The run-time history may say more than the maximum; progress does not shorten that.
    expect(nextPollDelay({ ...base, ageMs: 2000, earliestFinishMs: 50_000, cannotFinishForMs: 500_000 })).toBe(48_000);
    expect(nextPollDelay({ ...base, ageMs: 60_000, stalled: true, cannotFinishForMs: 1000 })).toBe(5 * 60_000);
  });
});

describe('run progress', () => {
  it('estimates a running job from its progress rate since it was first seen running', () => {
    const runs = new RunProgress();
    runs.observe(facts('a'), 'in-progress', 0.1, 0);
    // One look is no rate.
    expect(runs.cannotFinishForMs(facts('a'), 'in-progress', 0)).toBeNull();
    runs.observe(facts('a'), 'in-progress', 0.2, 10_000);
    // 0.1 per 10 s: 80 s to go, of which the schedule trusts half; time passing since the last look counts down.
    expect(runs.cannotFinishForMs(facts('a'), 'in-progress', 10_000)).toBe(PROGRESS_SAFETY * 80_000);
    expect(runs.cannotFinishForMs(facts('a'), 'in-progress', 30_000)).toBe(PROGRESS_SAFETY * 60_000);
    expect(runs.cannotFinishForMs(facts('a'), 'in-progress', 90_000)).toBeNull();
  });

  it('says nothing while finalizing, in an unknown status, once progress is complete, or after progress went back', () => {
    const runs = new RunProgress();
    runs.observe(facts('a'), 'in-progress', 0.1, 0);
    runs.observe(facts('a'), 'in-progress', 0.5, 10_000);
    expect(runs.cannotFinishForMs(facts('a'), 'finalizing', 10_000)).toBeNull();
    expect(runs.cannotFinishForMs(facts('a'), 'rendering', 10_000)).toBeNull();
    runs.observe(facts('a'), 'in-progress', 0.3, 12_000);
    expect(runs.cannotFinishForMs(facts('a'), 'in-progress', 12_000)).toBeNull();
    runs.observe(facts('b'), 'in-progress', 0.5, 0);
    runs.observe(facts('b'), 'in-progress', 1, 10_000);
    expect(runs.cannotFinishForMs(facts('b'), 'in-progress', 10_000)).toBeNull();
  });

  it('lets a job that has not started wait on half the shortest run of similar jobs running now', () => {
    const runs = new RunProgress();
    expect(runs.cannotFinishForMs(facts('q'), 'queued', 0)).toBeNull();
    runs.observe(facts('slow'), 'in-progress', 0, 0);
    runs.observe(facts('slow'), 'in-progress', 0.05, 10_000); // a whole run: 200 s
    runs.observe(facts('fast'), 'in-progress', 0, 0);
    runs.observe(facts('fast'), 'in-progress', 0.1, 10_000); // a whole run: 100 s
    for (const status of ['pending', 'queued', 'warming-up']) {
      expect(runs.cannotFinishForMs(facts('q'), status, 10_000)).toBe(PROGRESS_SAFETY * 100_000);
    }
    // Other sizes or durations run differently.
    expect(runs.cannotFinishForMs(facts('q', 'LANDSCAPE_1080P'), 'queued', 10_000)).toBeNull();
    expect(runs.cannotFinishForMs(facts('q', 'LANDSCAPE_720P', 10), 'queued', 10_000)).toBeNull();
    // A job that ended speaks for nothing any more (once the few seconds' cache of the shortest run expired).
    runs.forget('fast');
    expect(runs.cannotFinishForMs(facts('q'), 'queued', 20_000)).toBe(PROGRESS_SAFETY * 200_000);
    runs.forget('slow');
    expect(runs.cannotFinishForMs(facts('q'), 'queued', 30_000)).toBeNull();
  });

  it('takes a shorter similar run into account at once', () => {
    const runs = new RunProgress();
    runs.observe(facts('slow'), 'in-progress', 0, 0);
    runs.observe(facts('slow'), 'in-progress', 0.05, 10_000);
    expect(runs.cannotFinishForMs(facts('q'), 'queued', 10_000)).toBe(PROGRESS_SAFETY * 200_000);
    runs.observe(facts('fast'), 'in-progress', 0, 10_000);
    runs.observe(facts('fast'), 'in-progress', 0.2, 12_000); // a whole run: 10 s
    expect(runs.cannotFinishForMs(facts('q'), 'queued', 12_000)).toBe(PROGRESS_SAFETY * 10_000);
  });
});

describe('upstream change with progress evidence', () => {
  const now = 1_000_000;
  const ctx = () =>
    ({
      now: () => now,
      random: () => 0.5,
      settings: { pollMinIntervalMs: 2000, pollMaxIntervalMs: 20_000 },
      history: new RunTimeHistory(),
      runs: new RunProgress(),
    }) as unknown as EngineContext;
  const job = (id: string, ageMs: number, upstreamStatus: string, progress: number) =>
    ({
      id,
      size: 'LANDSCAPE_720P',
      durationSeconds: 5,
      status: upstreamStatus === 'in-progress' ? 'IN_PROGRESS' : 'QUEUED',
      upstreamStatus,
      progress,
      submittedAt: now - ageMs,
      lastUpstreamChangeAt: now - 1000,
      stalled: false,
    }) as VideoJob;
  const upstream = (jobId: string, status: string, progress: number) =>
    ({ jobId, status, progress, assetIds: status === 'success' ? ['asset_1'] : [], error: null, hint: null, raw: {} }) as unknown as UpstreamJob;

  it('polls a queued job at the maximum interval while a similar job runs, and on its budget once that job ended', () => {
    const c = ctx();
    const queued = job('q', 10_000, 'queued', 0);
    // Nothing runs: the lag budget (3 s at this age, 85 % of it).
    expect(upstreamChange(c, queued, upstream('uq', 'queued', 0)).patch.nextCheckAt! - now).toBe(2550);
    c.runs.observe(job('r', 100_000, 'in-progress', 0.1), 'in-progress', 0.1, now - 10_000);
    c.runs.observe(job('r', 100_000, 'in-progress', 0.1), 'in-progress', 0.2, now);
    expect(upstreamChange(c, queued, upstream('uq', 'queued', 0)).patch.nextCheckAt! - now).toBe(20_000);
    expect(upstreamChange(c, job('r', 100_000, 'in-progress', 0.2), upstream('ur', 'in-progress', 0.2)).patch.nextCheckAt! - now).toBe(20_000);
    // The running job succeeds: it is forgotten, and the queued job is back on its budget once the estimate expires.
    expect(upstreamChange(c, job('r', 100_000, 'in-progress', 0.2), upstream('ur', 'success', 1)).patch.phase).toBe('mirroring');
    const later = { ...c, now: () => now + 10_000 } as EngineContext;
    expect(upstreamChange(later, { ...queued, submittedAt: now - 10_000 }, upstream('uq', 'queued', 0)).patch.nextCheckAt! - (now + 10_000)).toBe(2550);
  });
});
