// JSON POSTs to /graphql through the response cache (src/http/response-cache.ts), keyed on a hash of the token's
// hash, the Accept and Origin headers (yoga's CORS headers follow the Origin) and the body. A stored response is given only after the token is looked up and still belongs to the
// user it was made for. A miss runs yoga exactly as before (parse, Armor's limits, then the token lookup, so an
// operation refused by the limits still costs no SQL) and keeps the response when it was a successful query.
// Everything else (GET, multipart, SSE, no bearer header, bodies over the JSON limit) goes straight to yoga; a
// stream yoga answers a JSON POST with (a subscription sent without an Accept header) is passed on, never kept.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { bearerToken, hashToken, MAX_TOKEN_LENGTH } from '../auth/tokens.ts';
import { currentLogFields, type Logger } from '../log.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { GraphQLContext } from '../schema/context.ts';
import type { CachedResponse, ProducedResponse, ResponseCache, Stamp } from './response-cache.ts';

/** Passed in yoga's server context: a query stamps it as it starts and marks it reusable when it succeeds. */
export interface ReuseTicket {
  stamp: (ownerId: string, version: number) => Stamp;
  started: Stamp | null;
  reusable: boolean;
}

/** Marks a successful query's result as reusable by other requests; mutations and results with errors never are. */
export function useReuseTicket(): Plugin {
  return {
    onExecute({ args }) {
      const context = args.contextValue as Partial<GraphQLContext> & { reuseTicket?: ReuseTicket };
      const ticket = context.reuseTicket;
      if (!ticket || !context.viewer || getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      // Before any resolver reads data: a write after this moves the version and the result is not kept.
      ticket.started = ticket.stamp(context.viewer.id, context.viewerDataVersion!);
      return {
        onExecuteDone({ result }) {
          ticket.reusable = !isAsyncIterable(result) && !result.errors?.length;
        },
      };
    },
  };
}

/**
 * The bearer token of a request the cache can take, or null: a JSON POST of known, acceptable length with a
 * well-formed bearer header, not asking for a stream. A missing or malformed header goes to yoga, which answers 401
 * before reading the body.
 */
export function cacheableRequestToken(req: IncomingMessage, maxBodyBytes: number): string | null {
  if (req.method !== 'POST') return null;
  const token = bearerToken(req.headers.authorization);
  if (!token || token.length > MAX_TOKEN_LENGTH) return null;
  const mime = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (mime !== 'application/json') return null;
  const length = req.headers['content-length'];
  if (!length || !/^\d{1,9}$/.test(length) || Number(length) === 0 || Number(length) > maxBodyBytes) return null;
  const accept = req.headers.accept ?? '';
  return accept.includes('text/event-stream') || accept.includes('multipart/mixed') ? null : token;
}

export interface CachedQueryOptions {
  // The server and user context types of yoga do not matter here.
  yoga: YogaServerInstance<any, any>;
  auth: Authenticator;
  cache: ResponseCache;
  maxBodyBytes: number;
  log: Logger;
}

export function createCachedQueryHandler(
  options: CachedQueryOptions,
): (req: IncomingMessage, res: ServerResponse, token: string) => Promise<void> {
  const { yoga, auth, cache, maxBodyBytes, log } = options;

  async function execute(req: IncomingMessage, res: ServerResponse): Promise<ProducedResponse> {
    const ticket: ReuseTicket = { stamp: (ownerId, version) => cache.stamp(ownerId, version), started: null, reusable: false };
    const response = await yoga.handleNodeRequestAndResponse(req, res, { req, res, reuseTicket: ticket });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (!isSingleJson(response.headers.get('content-type') ?? undefined) && response.body) {
      // A stream (a subscription asked for without an Accept header gets SSE): handed back at once, so that no
      // identical request waits on it, and sent by `send` as it comes; never kept.
      const stream = response.body as unknown as AsyncIterable<Uint8Array>;
      return { response: { status: response.status, headers, body: Buffer.alloc(0), logFields: {}, stream }, stamp: null };
    }
    const body = Buffer.from(await response.arrayBuffer());
    headers['content-length'] = String(body.byteLength);
    const fields = currentLogFields();
    return {
      response: { status: response.status, headers, body, logFields: { operationName: fields?.operationName, operationType: fields?.operationType } },
      stamp: ticket.reusable && response.status === 200 ? ticket.started : null,
    };
  }

  return async (req, res, token) => {
    let body: string;
    // As yoga's own debug line when it starts on a body: a trace of requests whose body is slow to come.
    log.debug('reading the request body');
    try {
      body = await readBody(req, maxBodyBytes);
    } catch {
      res.destroy(); // the client went away mid-body: nobody to answer
      return;
    }
    // yoga takes an already read body from `req.body` (as behind body-parsing middleware).
    (req as IncomingMessage & { body?: string }).body = body;
    const tokenHash = hashToken(token);
    const fields = currentLogFields();
    // A stored response is given only to the user it was made for, looked up now (a revoked token gets 401 from yoga).
    const authenticate = async () => {
      const viewer = await auth.authenticateHash(tokenHash).catch(() => null);
      if (viewer && fields) fields.userId = viewer.user.id;
      return viewer && { ownerId: viewer.user.id, version: viewer.dataVersion };
    };
    // A digest rather than the body itself: the map holds 64 characters per key, whatever the body's size.
    const key = createHash('sha256')
      .update(`${tokenHash}\n${req.headers.accept ?? ''}\n${req.headers.origin ?? ''}\n`)
      .update(body)
      .digest('base64url');
    const response = await cache.respond(key, () => execute(req, res), authenticate);
    if (fields) Object.assign(fields, definedFields(response.logFields));
    await send(res, response);
  };
}

const isSingleJson = (contentType: string | undefined) => /^application\/(graphql-response\+)?json\b/i.test(contentType ?? '');

async function send(res: ServerResponse, response: CachedResponse): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  if (!response.stream) {
    res.writeHead(response.status, response.headers).end(response.body);
    return;
  }
  res.writeHead(response.status, response.headers);
  res.flushHeaders();
  // pipeline honours backpressure and, when the client goes away, stops the source: the subscription ends.
  await pipeline(Readable.from(response.stream, { objectMode: false }), res).catch(() => {});
}

function definedFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** The whole body as text; rejects when the client goes away first or sends more than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) req.destroy(new Error('request body over its declared length'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => reject(new Error('request closed before its body ended')));
  });
}
