// Every HTTP request passes through here: a request id (log field and `x-request-id` header), one JSON log line
// when it ends (method, path with secret query parameters redacted, status, duration, user id, GraphQL operation
// name and type), the latency histogram, the count of requests in flight, and the refusal of new requests once
// shutdown has begun. Graceful shutdown waits here for the requests in flight.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { runWithLogFields, type Logger } from '../log.ts';
import type { GatewayMetrics, HttpRoute, OperationType } from '../metrics/metrics.ts';

/** Query parameters that are credentials: the studio link's token and the media URLs' signature. */
const SECRET_QUERY_PARAMS = new Set(['token', 'access_token', 'sig', 'signature']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Routes polled by load balancers and Prometheus: logged at debug only. */
const QUIET_ROUTES = new Set<HttpRoute>(['healthz', 'readyz', 'metrics']);

/** What the request log says about a request; the API fills in the user and the operation as it learns them. */
export interface RequestFields {
  reqId: string;
  userId?: string;
  operationName?: string;
  operationType?: OperationType;
}

interface InFlight {
  req: IncomingMessage;
  res: ServerResponse;
  fields: RequestFields;
}

export function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0]!;
}

export function routeOf(path: string): HttpRoute {
  if (path === '/graphql') return 'graphql';
  if (path.startsWith('/media/')) return 'media';
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path.slice(1) as HttpRoute;
  if (path === '/' || path.startsWith('/studio/')) return 'studio';
  return 'other';
}

/** The request target as logged: secret query parameters replaced, everything else kept. */
export function redactUrl(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  if (q === -1) return target;
  const params = target
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq === -1 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return SECRET_QUERY_PARAMS.has(name.toLowerCase()) ? `${rawName}=[redacted]` : pair;
    });
  return `${target.slice(0, q)}?${params.join('&')}`;
}

export class HttpTraffic {
  private readonly inFlight = new Set<InFlight>();
  private shuttingDown = false;
  private readonly idle: Array<() => void> = [];

  constructor(
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics | null,
  ) {}

  /** Wraps the server's request callback. */
  track(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      const started = performance.now();
      const incoming = req.headers['x-request-id'];
      const reqId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      const fields: RequestFields = { reqId };
      const entry: InFlight = { req, res, fields };
      res.setHeader('x-request-id', reqId);
      // Answered before its body was read (413, 401 on an upload): the connection cannot carry another request.
      res.once('finish', () => {
        if (!req.complete) res.socket?.destroySoon();
      });
      this.inFlight.add(entry);
      res.once('close', () => {
        this.inFlight.delete(entry);
        this.finished(req, res, fields, performance.now() - started);
        if (this.inFlight.size === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
      if (this.shuttingDown) {
        res.writeHead(503, { 'content-type': 'text/plain', connection: 'close', 'retry-after': '5' }).end('shutting down\n');
        return;
      }
      runWithLogFields(fields as unknown as Record<string, unknown>, () => handler(req, res));
    };
  }

  count(): number {
    return this.inFlight.size;
  }

  /**
   * From now on new requests are answered 503 with `Connection: close`. Open SSE subscriptions are cut at once (their
   * clients reconnect elsewhere, as after any dropped connection); every other request may finish until `timeoutMs`,
   * after which it is cut too. Resolves when no request is in flight.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    for (const entry of this.inFlight) {
      if (entry.fields.operationType === 'subscription') entry.res.destroy();
    }
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.log.warn({ requests: this.inFlight.size }, 'requests still running at the shutdown deadline; closing them');
      for (const entry of this.inFlight) entry.res.destroy();
    }
  }

  private finished(req: IncomingMessage, res: ServerResponse, fields: RequestFields, durationMs: number): void {
    const route = routeOf(pathOf(req));
    const status = res.headersSent ? res.statusCode : 0;
    const operationType: OperationType = fields.operationType ?? 'none';
    try {
      this.metrics?.observeHttp(route, operationType, status, durationMs / 1000);
    } catch {
      // Metrics never break a request.
    }
    const line = {
      reqId: fields.reqId,
      method: req.method,
      url: redactUrl(req.url),
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      userId: fields.userId,
      operationName: fields.operationName,
      operationType: fields.operationType,
      // The client went away before the answer was complete.
      aborted: !res.writableFinished || undefined,
    };
    if (QUIET_ROUTES.has(route)) this.log.debug(line, 'request');
    else this.log.info(line, 'request');
  }
}
