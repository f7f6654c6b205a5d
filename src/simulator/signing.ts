// Signed URLs for the simulator's own CDN and S3 stand-ins: an HMAC over path and expiry, so a client that alters
// the query or keeps a URL past its expiry gets 403, as from CloudFront (SCENARIO-API.md §5.2).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Scenario's rolling CDN expiry (SCENARIO-API.md §5.2), in UTC, at the start of the named day:
 * issued 1st–7th → 14th, 8th–14th → 21st, 15th–21st → last day of the month, 22nd–31st → 7th of next month.
 * Always at least 6 days ahead, so the documented "minimum 24 h" holds.
 */
export function rollingExpiry(issuedAtMs: number): number {
  const issued = new Date(issuedAtMs);
  const year = issued.getUTCFullYear();
  const month = issued.getUTCMonth();
  const day = issued.getUTCDate();
  if (day <= 7) return Date.UTC(year, month, 14);
  if (day <= 14) return Date.UTC(year, month, 21);
  if (day <= 21) return Date.UTC(year, month + 1, 0); // day 0 of next month = last day of this one
  return Date.UTC(year, month + 1, 7);
}

export class UrlSigner {
  #secret = randomBytes(32);

  /** The query string (no `?`) that makes `path` valid until `expiresAtMs`. */
  sign(path: string, expiresAtMs: number): string {
    const expires = Math.floor(expiresAtMs / 1000);
    return new URLSearchParams({ Expires: String(expires), Signature: this.#mac(path, expires), 'Key-Pair-Id': 'SIM' }).toString();
  }

  /** True when the query carries a valid signature for `path` that has not expired at `nowMs`. */
  verify(path: string, query: URLSearchParams, nowMs: number): boolean {
    const expires = Number(query.get('Expires'));
    const signature = Buffer.from(query.get('Signature') ?? '');
    const expected = Buffer.from(this.#mac(path, expires));
    if (!Number.isInteger(expires) || signature.length !== expected.length) return false;
    return timingSafeEqual(signature, expected) && nowMs < expires * 1000;
  }

  /** New key: every URL signed so far stops working; new ones work. */
  rotate(): void {
    this.#secret = randomBytes(32);
  }

  #mac(path: string, expires: number): string {
    return createHmac('sha256', this.#secret).update(`${path}\n${expires}`).digest('base64url');
  }
}
