// When to look at a submitted job next. CONTRACT.md §5: a finished job must be noticed within
// max(3 s, 15 % of its age) (p95), and the gateway may look less often while history says it cannot be done yet.

/** The lag budget at a job's age: the contract's max(3 s, 15 % of the age). */
export function lagBudgetMs(ageMs: number): number {
  return Math.max(3_000, 0.15 * ageMs);
}
/**
 * Share of the lag budget used as the interval, leaving room for jitter, the scheduler tick and latency: a job that
 * ends just after a poll is seen one interval (+5 % jitter) and up to a 250 ms tick later, so at the 3 s floor no more
 * than (1 − 0.25/3) / 1.05 ≈ 0.87 of the budget keeps even that case within it. The whole budget, tried in
 * bench/polling.ts, saved under one request at the 300 s p95 (17.0 against 17.9) and raised the 60 s lag p95 from
 * 6–6.4 s to 6.6–7.1 s of its 9 s budget: not worth giving up the worst-case bound.
 */
const BUDGET_SHARE = 0.85;
const JITTER = 0.05;
/** A job with no upstream change for this long is polled slowly and flagged. */
export const STALL_AFTER_MS = 30 * 60_000;
export const STALLED_POLL_INTERVAL_MS = 5 * 60_000;

export interface PollScheduleInput {
  /** Milliseconds since the job was submitted upstream. */
  ageMs: number;
  minIntervalMs: number;
  maxIntervalMs: number;
  /** From the run-time history; null when unknown. */
  earliestFinishMs: number | null;
  /**
   * Milliseconds from now during which upstream's progress says the job cannot finish (run-progress.ts, its safety
   * margin applied); null or absent when nothing says so.
   */
  cannotFinishForMs?: number | null;
  stalled: boolean;
  /** How many polls the job has had; the first one comes early to show that upstream took the job. */
  pollsSoFar: number;
  random?: () => number;
}

export function nextPollDelay(input: PollScheduleInput): number {
  const random = input.random ?? Math.random;
  if (input.stalled) return STALLED_POLL_INTERVAL_MS;
  const jitter = 1 - JITTER + 2 * JITTER * random();
  const budgeted = clamp(BUDGET_SHARE * lagBudgetMs(input.ageMs), input.minIntervalMs, input.maxIntervalMs);
  // Progress says the job is far from done: look less often than the budget asks, up to the maximum and no further,
  // so a wrong estimate costs at most one maximum interval of lag (the bound is in run-progress.ts).
  const evidence = input.pollsSoFar > 0 ? (input.cannotFinishForMs ?? null) : null;
  const interval = (evidence === null ? budgeted : Math.max(budgeted, Math.min(input.maxIntervalMs, evidence))) * jitter;
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
