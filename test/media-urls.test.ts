// Media URLs per mode (CONTRACT §10): windows that make a URL read again soon the same string, presigned URLs signed
// at the window's start and capped at S3's 7 days, and stable public URLs.
import { describe, expect, it } from 'vitest';
import { MediaSigner } from '../src/media/signing.ts';
import { GatewayMediaUrls, MAX_PRESIGNED_SECONDS, PresignedMediaUrls, PublicMediaUrls, urlWindow, type Presigner } from '../src/media/urls.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('media URL windows', () => {
  it('start every half lifetime and leave between half and all of it', () => {
    const ttl = 3600;
    for (let offset = 0; offset < 4 * ttl * 1000; offset += 97_000) {
      const now = T0 + offset;
      const { startsAt, expiresAt } = urlWindow(now, ttl);
      expect(startsAt % (ttl / 2)).toBe(0);
      expect(expiresAt - now / 1000).toBeGreaterThan(ttl / 2);
      expect(expiresAt - now / 1000).toBeLessThanOrEqual(ttl);
    }
    expect(urlWindow(T0 + 1000, 1)).toEqual({ startsAt: T0 / 1000 + 1, expiresAt: T0 / 1000 + 2 });
  });

  it('give the same gateway URL within a window and a new one after it', async () => {
    let now = T0;
    const urls = new GatewayMediaUrls(new MediaSigner('k'.repeat(32), () => 'http://gw'), 600, () => now);
    const first = await urls.url('videos/j/0.mp4', urls.expiry());
    now += 299_000;
    expect(await urls.url('videos/j/0.mp4', urls.expiry())).toBe(first);
    now += 2_000;
    expect(await urls.url('videos/j/0.mp4', urls.expiry())).not.toBe(first);
  });

  it('presign at the window start, for at most 7 days', async () => {
    const calls: Array<{ key: string; signedAt: number; expiresAt: number }> = [];
    const presigner: Presigner = { presignedUrl: async (key, times) => (calls.push({ key, ...times }), `https://bucket/${key}?t=${times.signedAt}`) };
    const urls = new PresignedMediaUrls(presigner, 30 * 86_400, () => T0);
    const expiry = urls.expiry();
    await urls.url('videos/j/0.mp4', expiry);
    expect(calls).toEqual([{ key: 'videos/j/0.mp4', signedAt: expiry - MAX_PRESIGNED_SECONDS, expiresAt: expiry }]);
    expect(expiry - T0 / 1000).toBeLessThanOrEqual(MAX_PRESIGNED_SECONDS);
  });

  it('are stable under a public base, with the key prefix and each segment encoded', async () => {
    const urls = new PublicMediaUrls('https://cdn.example.com/media', 'prod/');
    expect(urls.expiry()).toBeNull();
    expect(await urls.url('videos/a b/0.mp4')).toBe('https://cdn.example.com/media/prod/videos/a%20b/0.mp4');
  });
});
