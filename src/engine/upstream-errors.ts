// How the engine reads a failed upstream call: refused for good, busy (nothing was taken: try again later), or
// uncertain (the request may have been taken: reconcile, never resend). One place for submit and audio import.
import type { ScenarioError } from '../scenario/types.ts';

/** Statuses that mean upstream refused this request for good (CONTRACT.md §5). */
const REJECTING_STATUSES = new Set([400, 401, 403, 404, 402, 409, 413, 422]);

export function isRejection(error: ScenarioError): boolean {
  return error.kind === 'http' && error.status !== null && REJECTING_STATUSES.has(error.status);
}

/** Upstream is busy or unreachable and nothing was taken: the job waits and is tried again. */
export function isBusy(error: ScenarioError): boolean {
  return error.notSent || (error.kind === 'http' && error.status === 429);
}
