// Signed media URLs: `${publicUrl}/media/<path>?exp=<unix seconds>&sig=<HMAC-SHA256>`. The MAC covers the path and
// the expiry, so a URL works without headers (e.g. <video src>) until it expires and cannot be bent to another file.
// Tenancy for media is the signature: the API issues URLs only to the owner of the file.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';

export const MEDIA_ROUTE_PREFIX = '/media/';
const SECRET_SETTING = 'media_signing_secret';

export interface SignedMediaUrl {
  url: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type MediaUrlCheck = { ok: true; path: string } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** The signing key: MEDIA_SIGNING_SECRET, or one generated once and kept in the database so URLs survive restarts. */
export async function resolveMediaSecret(configured: string | null, store: Store): Promise<string> {
  if (configured) return configured;
  return store.getOrCreateSetting(SECRET_SETTING, () => randomBytes(32).toString('base64url'));
}

/**
 * Splits the percent-encoded path after `/media/` into the stored relative path, refusing anything that could
 * leave MEDIA_DIR (`..`, `.`, empty segments, separators or NUL inside a segment).
 */
export function mediaPathFromUrlPath(encodedPath: string): string | null {
  if (!encodedPath.startsWith(MEDIA_ROUTE_PREFIX)) return null;
  const segments: string[] = [];
  for (const raw of encodedPath.slice(MEDIA_ROUTE_PREFIX.length).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments.length > 0 ? segments.join('/') : null;
}

export class MediaSigner {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly publicUrl: () => string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = Buffer.from(secret, 'utf8');
  }

  /** `relativePath` is the media key, as stored (e.g. `videos/<job>/0.mp4`); `expiry` in unix seconds. */
  sign(relativePath: string, expiry: number): SignedMediaUrl {
    const path = normalizeRelativePath(relativePath);
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    const query = new URLSearchParams({ exp: String(expiry), sig: this.mac(path, expiry) });
    return { url: `${this.publicUrl()}${MEDIA_ROUTE_PREFIX}${encoded}?${query}`, expiresAt: expiry * 1000 };
  }

  /** Checks the path and query of a request to `/media/…`. */
  verify(encodedPath: string, searchParams: URLSearchParams): MediaUrlCheck {
    const path = mediaPathFromUrlPath(encodedPath);
    const expText = searchParams.get('exp');
    const sig = searchParams.get('sig');
    if (path === null || !expText || !/^\d{1,12}$/.test(expText) || !sig) return { ok: false, reason: 'malformed' };
    const expiry = Number(expText);
    const expected = Buffer.from(this.mac(path, expiry), 'utf8');
    const given = Buffer.from(sig, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
    if (expiry * 1000 <= this.now()) return { ok: false, reason: 'expired' };
    return { ok: true, path };
  }

  private mac(path: string, expiry: number): string {
    return createHmac('sha256', this.key).update(`media/v1\n${path}\n${expiry}`).digest('base64url');
  }
}

function normalizeRelativePath(relativePath: string): string {
  const path = relativePath.replace(/\\/g, '/').replace(/^\/+/, '');
  if (mediaPathFromUrlPath(MEDIA_ROUTE_PREFIX + path.split('/').map(encodeURIComponent).join('/')) !== path) {
    throw new Error('refusing to sign a media path outside MEDIA_DIR');
  }
  return path;
}
