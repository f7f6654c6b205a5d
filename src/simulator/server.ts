// A local Scenario: a real HTTP server (node:http) speaking the API of SCENARIO-API.md, with programmable faults.
// Used by `npm start` without keys, by `npm run simulator`, and by tests.
//
// Control endpoints, for a test that drives a simulator in another process (no auth, not counted, never faulted):
//   GET  /_sim/stats                 → SimulatorStats (requests by route and status, submits, submits by input, jobs)
//   GET  /_sim/faults                → the faults still queued
//   POST /_sim/faults                  {type:"respond", route, status, count?, body?, retryAfterSeconds?, headers?}
//                                      {type:"drop", route, when:"before"|"after", count?}
//                                      {type:"hang"|"truncate", route, count?}        route: a SimRoute or "*"
//   POST /_sim/faults/reset          → forgets queued faults
//   POST /_sim/expire-asset-urls     → every asset URL issued so far answers 403
//   POST /_sim/reset                 → forgets faults, stats, jobs, uploads and assets
// Prompt markers select job behaviours: [sim:fail], [sim:never], [sim:status=<word>], [sim:lost] (see jobs.ts);
// an upload whose fileName contains [sim:fail] fails its import.
import { createHash } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { z } from 'zod';
import { matchRoute, refuse, ReplyError, type ApiContext, type ApiRequest, type Reply } from './api.ts';
import { SIM_ROUTES, SimulatorFaults, type Fault, type SimRoute } from './faults.ts';
import { jobStateAt, scenarioId } from './jobs.ts';
import { loadMediaLibrary, type MediaLibrary } from './media.ts';
import { UrlSigner } from './signing.ts';
import { SimulatorState } from './state.ts';
import { StatsRecorder, type SimulatorStats } from './stats.ts';

export interface SimulatorOptions {
  /** 0 = any free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Length of a simulated job; fractional allowed (tests use e.g. 0.6). Default 30. */
  jobSeconds?: number;
  /** Unfinished jobs allowed per team before a submit gets 429. Default 16. */
  concurrencyLimit?: number;
  /** The only model the simulator knows. Default `model_wan-2-5-t2v`. */
  modelId?: string;
  /** Time between an upload's completion and its import. Default 300 ms. */
  uploadImportMs?: number;
  /** Clock, for tests that move time (URL expiry). Default Date.now. */
  now?: () => number;
}

export interface Simulator {
  /** Listens; resolves with the API base URL, e.g. `http://127.0.0.1:4010/v1`. */
  start(): Promise<string>;
  /** Closes the server and destroys every open socket, hanging requests included. */
  stop(): Promise<void>;
  /** The API base URL (throws before start()). */
  readonly url: string;
  /** `http://127.0.0.1:PORT` (throws before start()). */
  readonly origin: string;
  readonly faults: SimulatorFaults;
  /** A snapshot, taken when read. */
  readonly stats: SimulatorStats;
  readonly media: MediaLibrary;
  /** Forgets faults, stats, jobs, uploads and assets. */
  reset(): void;
}

const MAX_JSON_BODY_BYTES = 1024 * 1024;

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const settings = {
    jobSeconds: options.jobSeconds ?? 30,
    concurrencyLimit: options.concurrencyLimit ?? 16,
    modelId: options.modelId ?? 'model_wan-2-5-t2v',
    uploadImportMs: options.uploadImportMs ?? 300,
  };
  if (!(settings.jobSeconds > 0)) throw new RangeError('jobSeconds must be positive');

  const state = new SimulatorState();
  const stats = new StatsRecorder();
  const assetSigner = new UrlSigner();
  const faults = new SimulatorFaults(() => assetSigner.rotate());
  const media = loadMediaLibrary();
  const sockets = new Set<Socket>();
  let origin: string | null = null;

  const ctx: ApiContext = {
    state,
    media,
    stats,
    assetSigner,
    partSigner: new UrlSigner(),
    settings,
    ownerId: scenarioId('proj'),
    now,
    origin: () => {
      if (origin === null) throw new Error('simulator not started');
      return origin;
    },
  };

  const statsSnapshot = (): SimulatorStats =>
    stats.snapshot(
      [...state.jobs.values()].map((job) => ({
        jobId: job.jobId,
        status: jobStateAt(job, now()).status,
        createdAt: new Date(job.createdAt).toISOString(),
        input: job.input,
        lost: job.behaviour.lost,
      })),
    );

  const resetAll = () => {
    faults.reset();
    stats.reset();
    state.clear();
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const match = matchRoute(req.method ?? 'GET', url.pathname);
    if (!match) {
      stats.request('unknown', 404);
      return send(res, refuse(404, 'Not found'));
    }
    const route = match.route.route;
    const fault = faults.take(route);
    if (fault?.type === 'hang') return void stats.request(route, 'hung');
    if (fault?.type === 'drop' && fault.when === 'before') {
      stats.request(route, 'dropped');
      return void req.socket.destroy();
    }
    const replaceStatusOnly = fault?.type === 'respond' && fault.status >= 200 && fault.status < 300 && fault.body === undefined;
    if (fault?.type === 'respond' && !replaceStatusOnly) {
      const reply = faultReply(fault, settings.concurrencyLimit);
      stats.request(route, reply.status);
      return send(res, reply);
    }

    let reply = await runHandler(req, url, match);
    if (fault?.type === 'respond') reply = { ...reply, status: fault.status };
    if (fault?.type === 'drop') {
      // Processed (a submit created its job), but the client never learns the outcome.
      stats.request(route, 'dropped');
      return void req.socket.destroy();
    }
    if (fault?.type === 'truncate') {
      stats.request(route, 'truncated');
      return sendTruncated(res, reply);
    }
    stats.request(route, reply.status);
    send(res, reply);
  }

  async function runHandler(req: IncomingMessage, url: URL, match: NonNullable<ReturnType<typeof matchRoute>>): Promise<Reply> {
    const apiKey = match.route.auth ? basicAuthKey(req.headers.authorization) : '';
    if (apiKey === null) return refuse(401, 'Unauthorized: missing or malformed Basic credentials');
    let consumed = false;
    const body = async (limit = MAX_JSON_BODY_BYTES) => {
      if (consumed) throw new Error('body read twice');
      consumed = true;
      return readBody(req, limit);
    };
    const request: ApiRequest = {
      params: match.params,
      query: url.searchParams,
      path: url.pathname,
      headers: req.headers,
      authorId: createHash('sha256').update(apiKey).digest('hex').slice(0, 32),
      body,
      json: async () => {
        const text = (await body()).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new ReplyError(refuse(400, 'Invalid JSON body'));
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new ReplyError(refuse(400, 'The body must be a JSON object'));
        }
        return parsed as Record<string, unknown>;
      },
    };
    try {
      return await match.route.handler(ctx, request);
    } catch (error) {
      if (error instanceof ReplyError) return error.reply;
      return refuse(500, `Simulator error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    try {
      if (route === 'GET /_sim/stats') return send(res, { status: 200, json: statsSnapshot() });
      if (route === 'GET /_sim/faults') return send(res, { status: 200, json: { faults: faults.pending() } });
      if (route === 'POST /_sim/faults') {
        const { route: faultRoute, count, ...fault } = FaultRequestSchema.parse(JSON.parse((await readBody(req, MAX_JSON_BODY_BYTES)).toString('utf8')));
        faults.add(faultRoute, fault as Fault, count);
        return send(res, { status: 200, json: { ok: true } });
      }
      if (route === 'POST /_sim/faults/reset') faults.reset();
      else if (route === 'POST /_sim/expire-asset-urls') faults.expireAssetUrls();
      else if (route === 'POST /_sim/reset') resetAll();
      else return send(res, refuse(404, 'Unknown control endpoint'));
      send(res, { status: 200, json: { ok: true } });
    } catch (error) {
      if (error instanceof ReplyError) return send(res, error.reply);
      send(res, refuse(400, error instanceof Error ? error.message : String(error)));
    }
  }

  const server = createServer((req, res) => {
    req.on('error', () => {}); // a client that goes away mid-body is not the simulator's problem
    const url = new URL(req.url ?? '/', 'http://simulator');
    const handled = url.pathname.startsWith('/_sim/') ? handleControl(req, res, url) : handleApi(req, res, url);
    handled.catch(() => {
      if (!res.headersSent) send(res, refuse(500, 'Simulator error'));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      const publicHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
      origin = `http://${publicHost}:${port}`;
      return `${origin}/v1`;
    },
    async stop() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
    get url() {
      return `${ctx.origin()}/v1`;
    },
    get origin() {
      return ctx.origin();
    },
    faults,
    get stats() {
      return statsSnapshot();
    },
    media,
    reset: resetAll,
  };
}

const FaultRequestSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('respond'),
    route: z.enum([...SIM_ROUTES, '*']),
    status: z.number().int().min(200).max(599),
    count: z.number().int().positive().optional(),
    body: z.unknown().optional(),
    retryAfterSeconds: z.number().nonnegative().optional(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  z.object({ type: z.literal('drop'), route: z.enum([...SIM_ROUTES, '*']), when: z.enum(['before', 'after']), count: z.number().int().positive().optional() }),
  z.object({ type: z.enum(['hang', 'truncate']), route: z.enum([...SIM_ROUTES, '*']), count: z.number().int().positive().optional() }),
]);

/** The key of a well-formed Basic header with a non-empty key and secret; null otherwise. */
function basicAuthKey(header: string | undefined): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return null;
  return decoded.slice(0, colon);
}

function faultReply(fault: Extract<Fault, { type: 'respond' }>, concurrencyLimit: number): Reply {
  const headers = { ...fault.headers };
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (typeof fault.body === 'string') return { status: fault.status, body: fault.body, contentType: 'text/plain', headers };
  const json =
    fault.body ??
    (fault.status === 429
      ? { reason: 'Too many requests', details: { actionName: 'generate', actionLimit: concurrencyLimit } }
      : { reason: STATUS_CODES[fault.status] ?? 'Simulated error' });
  return { status: fault.status, json, headers };
}

/** The request body, or a 413 ReplyError past `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new ReplyError(refuse(413, `Body larger than ${limit} bytes`));
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function encode(reply: Reply): { payload: Buffer; contentType: string } {
  if (reply.json !== undefined) return { payload: Buffer.from(JSON.stringify(reply.json)), contentType: 'application/json; charset=utf-8' };
  return { payload: Buffer.from(reply.body ?? ''), contentType: reply.contentType ?? 'application/octet-stream' };
}

function send(res: ServerResponse, reply: Reply): void {
  const { payload, contentType } = encode(reply);
  res.writeHead(reply.status, { ...reply.headers, 'content-type': contentType, 'content-length': payload.length });
  res.end(payload);
}

/** Announces the whole body, sends half of it, then cuts the connection. */
function sendTruncated(res: ServerResponse, reply: Reply): void {
  const { payload, contentType } = encode(reply);
  res.writeHead(reply.status, { ...reply.headers, 'content-type': contentType, 'content-length': payload.length });
  res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => res.socket?.destroy());
}
