// Remembers when upstream refuses every request for a reason that will not fix itself (credentials
// rejected, model unknown), so new requests get an UpstreamError instead of a job that would fail.
import type { ScenarioError } from '../scenario/types.ts';

/** Statuses that mean "every request will be refused": credentials or plan (401, 403), unknown model (404). */
const ACCOUNT_LEVEL_STATUSES = new Set([401, 403]);

export interface UpstreamRefusal {
  status: number;
  message: string;
  at: number;
}

/**
 * How long a refusal blocks new jobs. Nothing else would clear it (no job is created while it holds, so no submit
 * can succeed), and credentials or plans get fixed upstream: after this, the next job tries again.
 */
const REFUSAL_TTL_MS = 60_000;

export class UpstreamHealth {
  private refusal: UpstreamRefusal | null = null;

  constructor(private readonly now: () => number) {}

  /** A submit refusal; only account-level ones, or a 404 naming the model, block new jobs. */
  recordRejection(error: ScenarioError, options: { modelLevel?: boolean } = {}): void {
    const status = error.status ?? 0;
    if (ACCOUNT_LEVEL_STATUSES.has(status) || (status === 404 && options.modelLevel)) {
      this.refusal = { status, message: error.reason ?? `upstream refused with HTTP ${status}`, at: this.now() };
    }
  }

  recordSuccess(): void {
    this.refusal = null;
  }

  current(): UpstreamRefusal | null {
    if (this.refusal && this.now() - this.refusal.at > REFUSAL_TTL_MS) this.refusal = null;
    return this.refusal;
  }
}
