// GET/HEAD /media/<key>?exp=&sig=: stored videos, thumbnails and audio, streamed from the media storage with Range
// support. No bearer header: the signature (src/media/signing.ts) is the authorisation.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log.ts';
import type { MediaSigner } from './signing.ts';
import type { ByteRange, MediaStorage } from './storage/index.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.m4a': 'audio/mp4',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * One `bytes=` range against a file of `size` bytes (RFC 9110 §14): `a-b`, `a-`, `-n` (the last n bytes).
 * Returns null when the header is to be ignored (absent, malformed, several ranges: the whole file is sent),
 * 'unsatisfiable' when no byte of the file is in the range.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const last = match[2] === '' ? null : Number(match[2]);
  if (last !== null && last < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === null ? size - 1 : Math.min(last, size - 1) };
}

export interface MediaServerOptions {
  signer: MediaSigner;
  storage: MediaStorage;
  log: Logger;
}

/** If-None-Match (RFC 9110 §13.1.2): `*` or a list of entity tags, weak ones compared weakly. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

export function createMediaHandler(options: MediaServerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { storage, log } = options;
  const notFound = (res: ServerResponse) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  const lookupFailed = (error: unknown) => {
    log.error({ err: error }, 'media lookup failed');
    return null;
  };

  return async function serveMedia(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    // The raw path, not a normalised URL: the signature covers exactly what was issued.
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const encodedPath = queryAt === -1 ? target : target.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1));
    const check = options.signer.verify(encodedPath, query);
    if (!check.ok) {
      res.writeHead(403, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('forbidden: invalid or expired media URL\n');
      return;
    }

    const key = check.path;
    const found = await storage.stat(key).catch(lookupFailed);
    if (!found) {
      notFound(res);
      return;
    }
    const { size } = found;
    const expiresIn = Math.max(0, Number(query.get('exp')) - Math.floor(Date.now() / 1000));
    const headers: Record<string, string | number> = {
      'content-type': contentTypeOf(key),
      'accept-ranges': 'bytes',
      // A key's bytes never change (outputs are written once): cached for as long as the URL lives.
      'cache-control': `private, max-age=${expiresIn}, immutable`,
      'x-content-type-options': 'nosniff',
    };
    if (found.sha256) {
      const etag = `"${found.sha256}"`;
      headers.etag = etag;
      if (matchesEtag(req.headers['if-none-match'], etag)) {
        res.writeHead(304, headers).end();
        return;
      }
    }
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
      return;
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    const length = size === 0 ? 0 : end - start + 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    headers['content-length'] = length;
    const status = range ? 206 : 200;
    if (req.method === 'HEAD' || length === 0) {
      res.writeHead(status, headers).end();
      return;
    }
    const body = await storage.open(key, { start, end }).catch(lookupFailed);
    if (!body) {
      notFound(res); // removed since the lookup
      return;
    }
    res.writeHead(status, headers);
    try {
      await pipeline(body, res);
    } catch (error) {
      // A client that stops reading (seeking in a <video>) closes the socket: normal, not worth an error line.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        log.warn({ err: error }, 'media stream failed');
      }
      res.destroy();
    }
  };
}
