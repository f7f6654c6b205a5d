// The studio web page (docs/STUDIO.md): `/` and its files, served as they are, with no build step.
//   /                               web/index.html, with the import map (and its CSP hash) filled in
//   /studio/app/<path>              the app's own modules and styles, from web/
//   /studio/vendor/<pkg>@<ver>/<f>  the few browser ES modules it imports from node_modules (preact, preact/hooks,
//                                   htm, graphql-ws's client), the files those import and their source maps: an
//                                   allowlist, nothing else
// Everything else falls through (the handler returns false). Files are read once and kept in memory while their
// mtime and size stay the same; app files are revalidated (ETag), vendor files are immutable (their URL carries the
// installed version).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STUDIO_APP_PREFIX = '/studio/app/';
export const STUDIO_VENDOR_PREFIX = '/studio/vendor/';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface StudioHandlerOptions {
  /** The folder with index.html and the app's modules (default: web/ of this project). */
  webDir?: string;
  /** Where the vendor packages are installed (default: node_modules/ of this project). */
  nodeModulesDir?: string;
}

export type StudioHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Bare specifiers the app imports, and the file of each package that the browser gets for it. */
export const VENDOR_MODULES: ReadonlyArray<{ specifier: string; pkg: string; file: string }> = [
  { specifier: 'preact', pkg: 'preact', file: 'dist/preact.mjs' },
  { specifier: 'preact/hooks', pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  { specifier: 'htm', pkg: 'htm', file: 'dist/htm.module.js' },
  // The package's "browser" build: the client only, no server code.
  { specifier: 'graphql-ws', pkg: 'graphql-ws', file: 'dist/client.js' },
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

export function studioContentType(path: string): string | null {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? null;
}

const INDEX_PATHS = new Set(['/', '/index.html']);
const IMPORT_MAP_MARKER = '<!-- studio:importmap -->';

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  etag: string;
}

interface Vendor {
  importMap: string;
  /** URL path → file on disk. */
  files: Map<string, string>;
  entryUrls: string[];
}

const etagOf = (body: Buffer | string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

/** Relative static imports and re-exports of an ES module (`from './x.js'`, `import './x.js'`). */
function relativeImports(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}\/[^"']+)["']/g)) found.add(match[1]!);
  return [...found];
}

/** The vendor allowlist: each entry and the files it imports, under a URL that names the installed version. */
function loadVendor(nodeModulesDir: string): Vendor {
  const files = new Map<string, string>();
  const imports: Record<string, string> = {};
  const entryUrls: string[] = [];
  for (const { specifier, pkg, file } of VENDOR_MODULES) {
    const pkgDir = join(nodeModulesDir, pkg);
    const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
    const base = `${STUDIO_VENDOR_PREFIX}${pkg}@${version}/`;
    const url = base + file;
    imports[specifier] = url;
    entryUrls.push(url);
    const pending = [file];
    while (pending.length > 0) {
      const relative = pending.pop()!;
      if (files.has(base + relative)) continue;
      const onDisk = join(pkgDir, relative);
      files.set(base + relative, onDisk);
      // Its source map, for the browser's developer tools.
      if (existsSync(`${onDisk}.map`)) files.set(`${base}${relative}.map`, `${onDisk}.map`);
      for (const spec of relativeImports(readFileSync(onDisk, 'utf8'))) {
        const next = posix.normalize(posix.join(posix.dirname(relative), spec));
        if (!next.startsWith('../')) pending.push(next);
      }
    }
  }
  return { importMap: JSON.stringify({ imports }, null, 2), files, entryUrls };
}

const BASE_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/**
 * Content-Security-Policy of the page: scripts only from this origin plus the inline import map (by its hash);
 * API calls and graphql-ws only to this origin. Videos, thumbnails and audio come from the media URLs, whose origin
 * is PUBLIC_URL's and may differ from the page's (localhost vs 127.0.0.1), hence http:/https: for media and images.
 */
function contentSecurityPolicy(importMapHash: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    "img-src 'self' data: blob: http: https:",
    "media-src 'self' blob: http: https:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function notFound(res: ServerResponse, status = 404, text = 'not found'): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...BASE_HEADERS }).end(`${text}\n`);
}

function notModified(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

function send(req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string>): void {
  const etag = headers.etag;
  if (etag && notModified(req, etag)) {
    const { 'content-type': _type, ...rest } = headers;
    res.writeHead(304, rest).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * A URL path below a prefix as safe relative segments: percent-decoded, no empty, `.`, `..` or dot-file segment,
 * no encoded slash, backslash or NUL. Null when the path is not acceptable.
 */
export function safeRelativePath(rawPath: string): string | null {
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '' || segment.startsWith('.') || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments.length > 0 ? segments.join('/') : null;
}

export function createStudioHandler(options: StudioHandlerOptions = {}): StudioHandler {
  const webDir = resolve(options.webDir ?? join(PROJECT_ROOT, 'web'));
  const nodeModulesDir = resolve(options.nodeModulesDir ?? join(PROJECT_ROOT, 'node_modules'));
  let vendor: Vendor | null = null;
  let realWebDir: string | null = null;
  const cache = new Map<string, CachedFile>();
  let index: { source: CachedFile; body: Buffer; etag: string; csp: string } | null = null;

  // Loaded on the first request, not at start: the gateway's start-up does not wait for the studio.
  const getVendor = () => (vendor ??= loadVendor(nodeModulesDir));

  async function readCached(file: string): Promise<CachedFile> {
    const info = await stat(file);
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    const body = await readFile(file);
    const fresh = { mtimeMs: info.mtimeMs, size: info.size, body, etag: etagOf(body) };
    cache.set(file, fresh);
    return fresh;
  }

  async function serveIndex(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = await readCached(join(webDir, 'index.html'));
    if (index?.source !== source) {
      const { importMap, entryUrls } = getVendor();
      const preloads = entryUrls.map((url) => `<link rel="modulepreload" href="${url}">`).join('\n    ');
      const html = source.body
        .toString('utf8')
        .replace(IMPORT_MAP_MARKER, `<script type="importmap">${importMap}</script>\n    ${preloads}`);
      const hash = createHash('sha256').update(importMap).digest('base64');
      const body = Buffer.from(html, 'utf8');
      index = { source, body, etag: etagOf(body), csp: contentSecurityPolicy(hash) };
    }
    send(req, res, index.body, {
      ...BASE_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      // Always revalidated: the page names the vendor versions, which change with `npm ci`.
      'cache-control': 'no-cache',
      etag: index.etag,
      'content-security-policy': index.csp,
      // The first request carries `?token=…`; nothing the page loads may repeat that address elsewhere.
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
    });
  }

  async function serveAppFile(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    const relative = safeRelativePath(rawPath);
    const type = relative && studioContentType(relative);
    // The page itself only at `/`, where its import map is filled in.
    if (!relative || !type || relative === 'index.html') return notFound(res);
    const file = join(webDir, ...relative.split('/'));
    realWebDir ??= realpathSync(webDir);
    // Belt and braces: no segment is `..`, and a symlink must not lead outside web/ either.
    const real = await realpath(file);
    if (!real.startsWith(realWebDir + sep)) return notFound(res);
    const cached = await readCached(real);
    send(req, res, cached.body, { ...BASE_HEADERS, 'content-type': type, 'cache-control': 'no-cache', etag: cached.etag });
  }

  async function serveVendorFile(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const file = getVendor().files.get(path);
    const type = file && studioContentType(file);
    if (!file || !type) return notFound(res);
    const cached = await readCached(file);
    send(req, res, cached.body, {
      ...BASE_HEADERS,
      'content-type': type,
      // The URL names the installed version: it never changes content.
      'cache-control': 'public, max-age=31536000, immutable',
      etag: cached.etag,
    });
  }

  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    let serve: (() => Promise<void>) | null = null;
    if (INDEX_PATHS.has(path)) serve = () => serveIndex(req, res);
    else if (path.startsWith(STUDIO_APP_PREFIX)) serve = () => serveAppFile(req, res, path.slice(STUDIO_APP_PREFIX.length));
    else if (path.startsWith(STUDIO_VENDOR_PREFIX)) serve = () => serveVendorFile(req, res, path);
    if (!serve) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...BASE_HEADERS }).end('method not allowed\n');
      return true;
    }
    serve().catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (res.headersSent) {
        res.destroy();
      } else if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        notFound(res);
      } else {
        notFound(res, 500, 'internal error');
      }
    });
    return true;
  };
}

let defaultHandler: StudioHandler | null = null;

/** The studio of this project (web/ and node_modules/ beside src/), created on first use; mounted by src/app.ts. */
export const serveStudio: StudioHandler = (req, res) => (defaultHandler ??= createStudioHandler())(req, res);

/** For tests and docs: the directory the default handler serves the app from. */
export const DEFAULT_WEB_DIR = join(PROJECT_ROOT, 'web');
