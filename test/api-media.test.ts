// /media/…: signed URLs of stored videos, thumbnails and audio; Range requests; refusals for bad, tampered or
// expired signatures and for paths outside MEDIA_DIR; the signing secret survives a restart.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaSigner } from '../src/media/signing.ts';
import { urlWindow } from '../src/media/urls.ts';
import { localId } from '../src/schema/global-id.ts';
import { parseRange } from '../src/media/serve.ts';
import { Gateway } from './helpers/api-harness.ts';

let gw: Gateway;
let video: { url: string; urlExpiresAt: string; thumbnailUrl: string; byteSize: number; mimeType: string };
let stored: Buffer;

/** A raw GET whose path is sent exactly as written (fetch would normalise `..`). */
function rawGet(base: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  gw = await Gateway.start();
  const { job } = await gw.generate({ prompt: 'a video to stream' });
  await gw.waitForStatus(job.id, ['SUCCEEDED']);
  video = (await gw.job(job.id, 'alice', 'videos { url urlExpiresAt thumbnailUrl byteSize mimeType }')).videos[0];
  const jobId = localId(job.id, 'VideoJob')!;
  const [asset] = (await gw.running.store.listVideoAssets([jobId])).get(jobId)!;
  stored = readFileSync(join(gw.config.mediaDir, asset!.filePath));
});
afterAll(async () => {
  await gw?.stop();
});

describe('signed media URLs', () => {
  it('are absolute, live between half and all of MEDIA_URL_TTL_SECONDS, and are the same string within their window', async () => {
    const url = new URL(video.url);
    expect(url.origin).toBe(gw.running.publicUrl);
    expect(url.pathname).toMatch(/^\/media\/videos\/.+\.mp4$/);
    expect(url.searchParams.get('exp')).toMatch(/^\d+$/);
    expect(url.searchParams.get('sig')).toBeTruthy();
    const expiresAt = Date.parse(video.urlExpiresAt);
    expect(expiresAt).toBe(Number(url.searchParams.get('exp')) * 1000);
    const ttlMs = gw.config.mediaUrlTtlSeconds * 1000;
    expect(expiresAt - Date.now()).toBeGreaterThan(ttlMs / 2 - 1000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(ttlMs);
    // Read again a second later: within the same window the very same URL, so browsers and CDNs can cache it.
    const before = urlWindow(Date.now(), gw.config.mediaUrlTtlSeconds);
    await new Promise((r) => setTimeout(r, 1100));
    const again = (await gw.data('{ videoJobs(first: 1) { edges { node { videos { url urlExpiresAt } } } } }')).videoJobs.edges[0].node;
    const sameWindow = urlWindow(Date.now(), gw.config.mediaUrlTtlSeconds).startsAt === before.startsAt;
    expect(again.videos[0].url === video.url).toBe(sameWindow);
    expect(again.videos[0].urlExpiresAt === video.urlExpiresAt).toBe(sameWindow);
  });

  it('serve the stored file without any header, with its type and length', async () => {
    const res = await fetch(video.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Number(res.headers.get('content-length'))).toBe(stored.length);
    expect(Buffer.from(await res.arrayBuffer()).equals(stored)).toBe(true);
    expect(video.byteSize).toBe(stored.length);

    const thumb = await fetch(video.thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    await thumb.arrayBuffer();

    const head = await fetch(video.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(stored.length);
  });

  it('carry the sha256 as ETag and a Cache-Control for the URL\'s life, and answer If-None-Match with 304', async () => {
    const etag = `"${createHash('sha256').update(stored).digest('hex')}"`;
    const res = await fetch(video.url);
    await res.arrayBuffer();
    expect(res.headers.get('etag')).toBe(etag);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(gw.config.mediaUrlTtlSeconds / 2 - 5);
    expect(maxAge).toBeLessThanOrEqual(gw.config.mediaUrlTtlSeconds);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const cached = await fetch(video.url, { headers: { 'if-none-match': ifNoneMatch } });
      expect([ifNoneMatch, cached.status, cached.headers.get('etag')]).toEqual([ifNoneMatch, 304, etag]);
      expect((await cached.arrayBuffer()).byteLength).toBe(0);
    }
    const changed = await fetch(video.url, { headers: { 'if-none-match': '"something-else"', range: 'bytes=0-9' } });
    expect(changed.status).toBe(206);
    expect(changed.headers.get('etag')).toBe(etag);
    expect((await changed.arrayBuffer()).byteLength).toBe(10);
  });

  it('answer Range requests with 206 and exactly the requested bytes', async () => {
    const size = stored.length;
    for (const [range, start, end] of [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, size - 1],
      ['bytes=-500', size - 500, size - 1],
      [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
      ['bytes=5-5', 5, 5],
    ] as const) {
      const res = await fetch(video.url, { headers: { range } });
      expect([range, res.status]).toEqual([range, 206]);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(Number(res.headers.get('content-length'))).toBe(end - start + 1);
      expect(Buffer.from(await res.arrayBuffer()).equals(stored.subarray(start, end + 1))).toBe(true);
    }
    const unsatisfiable = await fetch(video.url, { headers: { range: `bytes=${size}-` } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${size}`);
    // Several ranges or a malformed header: the whole file, as RFC 9110 allows.
    const multi = await fetch(video.url, { headers: { range: 'bytes=0-1,5-6' } });
    expect(multi.status).toBe(200);
    expect((await multi.arrayBuffer()).byteLength).toBe(size);
  });

  it('refuse a tampered, missing or expired signature with 403', async () => {
    const url = new URL(video.url);
    const sig = url.searchParams.get('sig')!;
    const tampered = new URL(url);
    tampered.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const later = new URL(url);
    later.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    const otherFile = new URL(video.thumbnailUrl);
    otherFile.searchParams.set('sig', sig);
    otherFile.searchParams.set('exp', url.searchParams.get('exp')!);
    const unsigned = new URL(url.pathname, url.origin);
    for (const bad of [tampered, later, otherFile, unsigned]) {
      expect([bad.href, (await fetch(bad)).status]).toEqual([bad.href, 403]);
    }

    // A correct signature whose time has passed.
    const secret = await gw.running.store.getOrCreateSetting('media_signing_secret', () => {
      throw new Error('the secret should already exist');
    });
    const signer = new MediaSigner(secret, () => gw.running.publicUrl);
    const path = decodeURIComponent(url.pathname.slice('/media/'.length));
    expect((await fetch(signer.sign(path, Math.floor(Date.now() / 1000) + 60).url)).status).toBe(200);
    const expired = signer.sign(path, Math.floor(Date.now() / 1000) - 1);
    expect((await fetch(expired.url)).status).toBe(403);
  });

  it('cannot reach outside MEDIA_DIR', async () => {
    const url = new URL(video.url);
    const query = url.search;
    for (const path of ['/media/../gateway.db', '/media/%2e%2e/gateway.db', '/media/videos/..%2F..%2Fgateway.db', '/media//etc/passwd', '/media/']) {
      expect([path, await rawGet(gw.url, `${path}${query}`)]).toEqual([path, 403]);
    }
    // Even correctly signed, a path outside MEDIA_DIR is not signable.
    const signer = new MediaSigner('x'.repeat(32), () => gw.url);
    expect(() => signer.sign('../gateway.db', Math.floor(Date.now() / 1000) + 60)).toThrow();
  });

  it('are only issued to the owner: another user cannot read the asset', async () => {
    const data = await gw.data('{ videoJobs(first: 1) { edges { node { videos { id } } } } }');
    const assetId = data.videoJobs.edges[0].node.videos[0].id;
    expect((await gw.data(`query($id: ID!) { node(id: $id) { id ... on VideoAsset { url } } }`, { id: assetId }, 'bob')).node).toBeNull();
    expect((await gw.data(`query($id: ID!) { node(id: $id) { id ... on VideoAsset { url } } }`, { id: assetId }, 'alice')).node.url).toMatch(/\/media\//);
  });
});

describe('parseRange', () => {
  it('follows RFC 9110 for single ranges', () => {
    expect(parseRange(undefined, 10)).toBeNull();
    expect(parseRange('bytes=0-4', 10)).toEqual({ start: 0, end: 4 });
    expect(parseRange('bytes=8-', 10)).toEqual({ start: 8, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=-30', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-0', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 10)).toBeNull();
    expect(parseRange('items=0-1', 10)).toBeNull();
    expect(parseRange('bytes=0-1,3-4', 10)).toBeNull();
  });
});

describe('the signing secret', () => {
  it('survives a restart: URLs issued before still work', async () => {
    const first = await Gateway.start();
    const { job } = await first.generate({ prompt: 'survive a restart' });
    await first.waitForStatus(job.id, ['SUCCEEDED']);
    const url = (await first.job(job.id, 'alice', 'videos { url }')).videos[0].url as string;
    await first.stop({ keepFiles: true });

    const second = await Gateway.start({ DATABASE_URL: first.config.databaseUrl, MEDIA_DIR: first.config.mediaDir });
    try {
      const moved = new URL(url);
      const res = await fetch(new URL(moved.pathname + moved.search, second.url));
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    } finally {
      await second.stop();
      rmSync(first.dir, { recursive: true, force: true });
    }
  });

  it('is MEDIA_SIGNING_SECRET when set', async () => {
    const secret = 's'.repeat(40);
    const gateway = await Gateway.start({ MEDIA_SIGNING_SECRET: secret });
    try {
      const signer = new MediaSigner(secret, () => gateway.url);
      const soon = Math.floor(Date.now() / 1000) + 60;
      const res = await fetch(signer.sign('videos/none/0.mp4', soon).url);
      expect(res.status).toBe(404); // signature accepted, file absent
      const wrong = new MediaSigner('t'.repeat(40), () => gateway.url);
      expect((await fetch(wrong.sign('videos/none/0.mp4', soon).url)).status).toBe(403);
    } finally {
      await gateway.stop();
    }
  });
});
