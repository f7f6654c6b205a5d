/** Capped exponential backoff with full jitter in [50 %, 100 %]; an upstream `Retry-After` is a floor. */
export function backoffDelay(
  attempt: number,
  options: { baseMs: number; maxMs: number; retryAfterMs?: number | null; random?: () => number },
): number {
  const random = options.random ?? Math.random;
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const jittered = exponential * (0.5 + 0.5 * random());
  return Math.round(Math.max(jittered, options.retryAfterMs ?? 0));
}
