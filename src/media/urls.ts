// How the API turns a stored key into a URL a browser fetches without headers (<video src>), in the mode the
// configuration picks (CONTRACT §10): the gateway's signed /media URLs, the bucket's presigned GET URLs, or stable URLs
// under a public base (a CDN, a public bucket). Expiring URLs are issued per window, not per read: every read within a
// window gets the same string, so a reloaded page and a CDN hit their caches.
import type { MediaSigner } from './signing.ts';

export interface MediaUrls {
  /** When URLs issued now expire (unix seconds); null when they never do. */
  expiry(): number | null;
  url(key: string, expiry: number | null): Promise<string>;
}

/** What S3 allows a presigned URL at most. */
export const MAX_PRESIGNED_SECONDS = 7 * 86_400;

/**
 * The window a URL issued at `nowMs` belongs to: it starts every half lifetime, and its URLs expire one lifetime after
 * it starts, so a URL has between half and all of `ttlSeconds` left when it is given out.
 */
export function urlWindow(nowMs: number, ttlSeconds: number): { startsAt: number; expiresAt: number } {
  const step = Math.max(1, Math.floor(ttlSeconds / 2));
  const startsAt = Math.floor(nowMs / 1000 / step) * step;
  return { startsAt, expiresAt: startsAt + ttlSeconds };
}

/** The gateway's own /media URLs, HMAC-signed (src/media/signing.ts), served from whichever storage holds the media. */
export class GatewayMediaUrls implements MediaUrls {
  constructor(
    private readonly signer: MediaSigner,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  expiry(): number {
    return urlWindow(this.now(), this.ttlSeconds).expiresAt;
  }

  async url(key: string, expiry: number | null): Promise<string> {
    return this.signer.sign(key, expiry ?? this.expiry()).url;
  }
}

/** Something that presigns GET URLs of its objects (the S3 storage). */
export interface Presigner {
  presignedUrl(key: string, times: { signedAt: number; expiresAt: number }): Promise<string>;
}

/** The bucket's presigned GET URLs: media bytes never pass through the gateway. Signed at the window's start. */
export class PresignedMediaUrls implements MediaUrls {
  private readonly ttlSeconds: number;

  constructor(
    private readonly presigner: Presigner,
    ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlSeconds = Math.min(ttlSeconds, MAX_PRESIGNED_SECONDS);
  }

  expiry(): number {
    return urlWindow(this.now(), this.ttlSeconds).expiresAt;
  }

  async url(key: string, expiry: number | null): Promise<string> {
    const expiresAt = expiry ?? this.expiry();
    return this.presigner.presignedUrl(key, { signedAt: expiresAt - this.ttlSeconds, expiresAt });
  }
}

/** Stable, unsigned URLs under a public base: `<base>/<prefix><key>`. */
export class PublicMediaUrls implements MediaUrls {
  constructor(
    private readonly baseUrl: string,
    private readonly keyPrefix: string,
  ) {}

  expiry(): null {
    return null;
  }

  async url(key: string): Promise<string> {
    return `${this.baseUrl}/${`${this.keyPrefix}${key}`.split('/').map(encodeURIComponent).join('/')}`;
  }
}

/** The URLs the configuration asks for (CONTRACT §10); presigned URLs need a storage that can presign (the bucket). */
export function mediaUrlsFor(
  config: { mediaUrls: { mode: 'presigned' | 'gateway' } | { mode: 'public'; baseUrl: string }; mediaUrlTtlSeconds: number; mediaS3: { prefix: string } | null },
  signer: MediaSigner,
  storage: object,
): MediaUrls {
  const mode = config.mediaUrls;
  if (mode.mode === 'public') return new PublicMediaUrls(mode.baseUrl, config.mediaS3?.prefix ?? '');
  if (mode.mode === 'gateway') return new GatewayMediaUrls(signer, config.mediaUrlTtlSeconds);
  if (!('presignedUrl' in storage)) throw new Error('presigned media URLs need the media storage to be a bucket (MEDIA_S3_BUCKET)');
  return new PresignedMediaUrls(storage as Presigner, config.mediaUrlTtlSeconds);
}
