// The studio's request handler over plain HTTP (no browser): what it serves, with which headers, what it refuses,
// and that every other path falls through to the rest of the gateway.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudioHandler, DEFAULT_WEB_DIR, VENDOR_MODULES, type StudioHandler } from '../src/http/studio.ts';
import { Gateway } from './helpers/api-harness.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path exactly as given: fetch and URL would normalise `..` away before sending. */
function raw(base: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const FELL_THROUGH = 'fell through\n';

async function serve(handler: StudioHandler): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (handler(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' }).end(FELL_THROUGH);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const importMapOf = (html: string) => /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];

describe('studio handler', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await serve(createStudioHandler()));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves the page at / with the import map, a CSP that allows exactly that inline script, and no-referrer', async () => {
    for (const path of ['/', '/?token=abc', '/index.html']) {
      const res = await raw(url, path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.body).toContain('<div id="app">');
      expect(res.body).not.toContain('studio:importmap');
      const importMap = importMapOf(res.body)!;
      const hash = createHash('sha256').update(importMap).digest('base64');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(Object.keys(JSON.parse(importMap).imports).sort()).toEqual(VENDOR_MODULES.map((m) => m.specifier).sort());
    }
  });

  it('answers a repeated request with 304 when the ETag matches, and HEAD without a body', async () => {
    const first = await raw(url, '/studio/app/main.js');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await raw(url, '/studio/app/main.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const other = await raw(url, '/studio/app/main.js', { headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);
    const head = await raw(url, '/studio/app/styles.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(Number(head.headers['content-length'])).toBe(readFileSync(join(DEFAULT_WEB_DIR, 'styles.css')).length);
    expect(head.body).toBe('');
  });

  it('serves the app files with their content types, revalidated on every load', async () => {
    const cases: Array<[string, string]> = [
      ['/studio/app/main.js', 'text/javascript; charset=utf-8'],
      ['/studio/app/lib/studio.js', 'text/javascript; charset=utf-8'],
      ['/studio/app/components/job-card.js', 'text/javascript; charset=utf-8'],
      ['/studio/app/styles.css', 'text/css; charset=utf-8'],
      ['/studio/app/favicon.svg', 'image/svg+xml'],
    ];
    for (const [path, type] of cases) {
      const res = await raw(url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toBe(type);
      expect(res.headers['cache-control'], path).toBe('no-cache');
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.body, path).toBe(readFileSync(join(DEFAULT_WEB_DIR, path.slice('/studio/app/'.length)), 'utf8'));
    }
  });

  it('serves every module of the import map, and what those import, as immutable files under their version', async () => {
    const page = await raw(url, '/');
    const imports = JSON.parse(importMapOf(page.body)!).imports as Record<string, string>;
    const seen = new Set<string>();
    const pending = Object.values(imports);
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await raw(url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toBe('text/javascript; charset=utf-8');
      expect(res.headers['cache-control'], path).toBe('public, max-age=31536000, immutable');
      for (const match of res.body.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
        pending.push(new URL(match[1]!, `http://x${path}`).pathname);
      }
    }
    // graphql-ws' client imports a shared chunk: it was found and served too.
    expect([...seen].some((path) => /graphql-ws@[\d.]+\/dist\/common-/.test(path))).toBe(true);
    const preact = JSON.parse(readFileSync(join(DEFAULT_WEB_DIR, '../node_modules/preact/package.json'), 'utf8')).version;
    expect(imports.preact).toBe(`/studio/vendor/preact@${preact}/dist/preact.mjs`);
    const map = await raw(url, `${imports.preact}.map`);
    expect(map.status).toBe(200);
    expect(map.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('refuses directory traversal, dot files, encoded separators and files outside the allowlist', async () => {
    const refused = [
      '/studio/app/../../package.json',
      '/studio/app/%2e%2e/%2e%2e/package.json',
      '/studio/app/..%2f..%2fpackage.json',
      '/studio/app/lib%2f..%2f..%2fpackage.json',
      '/studio/app/lib/..%5c..%5cpackage.json',
      '/studio/app/%00main.js',
      '/studio/app/main.js%00.css',
      '/studio/app//main.js',
      '/studio/app/.hidden.js',
      '/studio/app/',
      '/studio/app/lib',
      '/studio/app/%E0%A4%A.js',
      '/studio/app/index.html.bak',
      '/studio/app/index.html',
      '/studio/vendor/preact@11.2.0/package.json',
      '/studio/vendor/preact@11.2.0/src/index.js',
      '/studio/vendor/preact@11.2.0/../../package.json',
      '/studio/vendor/preact@0.0.1/dist/preact.mjs',
      '/studio/vendor/graphql-ws@6.4.2/dist/index.js',
      '/studio/vendor/graphql-ws@6.4.2/dist/use/ws.js',
      '/studio/vendor/../../package.json',
    ];
    for (const path of refused) {
      const res = await raw(url, path);
      expect(res.status, path).toBe(404);
      expect(res.headers['cache-control'], path).toBe('no-store');
      expect(res.body, path).not.toContain('"dependencies"');
    }
  });

  it('does not follow a symlink out of the web folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'studio-web-'));
    try {
      const web = join(dir, 'web');
      mkdirSync(web);
      writeFileSync(join(web, 'index.html'), '<!doctype html><!-- studio:importmap -->');
      writeFileSync(join(web, 'ok.js'), 'export {};');
      writeFileSync(join(dir, 'secret.js'), 'export const secret = 1;');
      symlinkSync(join(dir, 'secret.js'), join(web, 'leak.js'));
      const own = await serve(createStudioHandler({ webDir: web }));
      try {
        expect((await raw(own.url, '/studio/app/ok.js')).status).toBe(200);
        const leak = await raw(own.url, '/studio/app/leak.js');
        expect(leak.status).toBe(404);
        expect(leak.body).not.toContain('secret');
      } finally {
        await new Promise<void>((resolve) => own.server.close(() => resolve()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers only GET and HEAD on its paths', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await raw(url, '/', { method });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
  });

  it('lets every other path fall through', async () => {
    for (const path of ['/nope', '/studio', '/studio/', '/studio/other/x.js', '/graphql', '/media/x.mp4', '/healthz', '/favicon.ico', '/index.htm', '//']) {
      const res = await raw(url, path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).toBe(FELL_THROUGH);
    }
  });
});

describe('studio mounted in the gateway', () => {
  let gateway: Gateway;

  beforeAll(async () => {
    gateway = await Gateway.start();
  });

  afterAll(async () => {
    await gateway.stop();
  });

  it('serves the page at / beside the API, and the gateway still answers 404 for unknown paths', async () => {
    const page = await raw(gateway.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('/studio/app/main.js');
    const app = await raw(gateway.url, '/studio/app/main.js');
    expect(app.status).toBe(200);
    const api = await gateway.gql('{ videoModel { upstream } }');
    expect(api.body.data?.videoModel.upstream).toBe('SIMULATED');
    const unknown = await raw(gateway.url, '/no-such-page');
    expect(unknown.status).toBe(404);
  });
});
