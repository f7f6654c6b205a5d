// When to look at a submitted job next. CONTRACT.md §5: a finished job must be noticed within
// max(3 s, 15 % of its age) (p95), and the gateway may look less often while history says it cannot be done yet.

/** The lag budget at a job's age: the contract's max(3 s, 15 % of the age). */
export function lagBudgetMs(ageMs: number): number {
  return Math.max(3_000, 0.15 * ageMs);
}
/** Share of the lag budget used as the interval, leaving room for jitter, the scheduler tick and latency. */
const BUDGET_SHARE = 0.85;
const JITTER = 0.05;
/** A job with no upstream change for this long is polled slowly and flagged. */
export const STALL_AFTER_MS = 30 * 60_000;
export const STALLED_POLL_INTERVAL_MS = 5 * 60_000;
/** Without an end after this long upstream, a job fails with TIMED_OUT. */
export const UPSTREAM_TIMEOUT_MS = 24 * 3_600_000;

export interface PollScheduleInput {
  /** Milliseconds since the job was submitted upstream. */
  ageMs: number;
  minIntervalMs: number;
  maxIntervalMs: number;
  /** From the run-time history; null when unknown. */
  earliestFinishMs: number | null;
  stalled: boolean;
  /** How many polls the job has had; the first one comes early to show that upstream took the job. */
  pollsSoFar: number;
  random?: () => number;
}

export function nextPollDelay(input: PollScheduleInput): number {
  const random = input.random ?? Math.random;
  if (input.stalled) return STALLED_POLL_INTERVAL_MS;
  const jitter = 1 - JITTER + 2 * JITTER * random();
  const interval = clamp(BUDGET_SHARE * lagBudgetMs(input.ageMs), input.minIntervalMs, input.maxIntervalMs) * jitter;
  const next = input.ageMs + interval;
  if (input.pollsSoFar > 0 && input.earliestFinishMs !== null && next < input.earliestFinishMs) {
    // Similar jobs were never this fast: sleep until they start to finish, a little earlier each time by jitter.
    return Math.round(Math.max(interval, (input.earliestFinishMs - input.ageMs) * jitter));
  }
  return Math.round(interval);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
