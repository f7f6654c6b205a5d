// graphql-ws (`graphql-transport-ws`) on the HTTP server's upgrade requests to /graphql. Operations go through
// yoga's envelop (STACK.md §2a), so masking, Armor's limits and the context factory are the same as over HTTP.
// Hardening (CONTRACT.md §6, STACK.md §5): messages up to 64 KiB (a bigger one closes the socket with 1009),
// `connection_init` within 3 s (else 4408), authentication in onConnect (4403), at most 20 operations at once per
// connection (the 21st gets an `error` message, the connection stays open), keep-alive pings every 12 s.
//
// graphql-ws's protocol server (`makeServer`) on `ws` sockets, with our own adapter instead of graphql-ws's
// `useServer`: ten thousand idle connections in one process are normal, and the adapter keeps per connection only
// one object (below) besides the `ws` socket. Unlike `useServer` it keeps no upgrade request, no raw message buffer
// for the life of a subscription, no timers per socket (one sweep pings every socket in turn) and no listener
// closures per socket.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { CloseCode, handleProtocols, makeServer, type WebSocket as ProtocolSocket } from 'graphql-ws';
import { WebSocketServer, WebSocket } from 'ws';
import type { Authenticator } from '../auth/authenticator.ts';
import { bearerToken } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import type { Viewer } from '../store/store.ts';

export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;
export const MAX_WS_PAYLOAD_BYTES = 64 * 1024;
export const CONNECTION_INIT_WAIT_TIMEOUT_MS = 3_000;
export const KEEP_ALIVE_MS = 12_000;
/** Shutdown: how long clients get to answer the 1001 close before their sockets are cut. */
const CLOSE_GRACE_MS = 1_000;
const INTERNAL_ERROR_CLOSE = 4500;
/** The keep-alive sweep visits every socket this many times per interval and pings the ones whose turn it is. */
const KEEP_ALIVE_SLOTS = 12;

export interface GraphQLWsOptions {
  // The server and user context types of yoga do not matter here.
  yoga: YogaServerInstance<any, any>;
  auth: Authenticator;
  log: Logger;
  keepAliveMs?: number;
  maxOperations?: number;
  /** Largest message a client may send. */
  maxPayloadBytes?: number;
  connectionInitWaitTimeoutMs?: number;
}

export interface GraphQLWsServer {
  close(): Promise<void>;
  /** Open WebSocket connections (for metrics and tests). */
  connectionCount(): number;
}

type ExecuteFns = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

/** The `Connection` of a socket, set as soon as ws hands the socket over. */
const CONNECTION = Symbol('graphql-ws connection');
type TrackedSocket = WebSocket & { [CONNECTION]?: Connection };

/**
 * Everything kept per connection: graphql-ws's socket adapter and its `extra` (ctx.extra) in one object, so that the
 * shared listeners below need no closure per socket. The upgrade request is not kept: nothing after the handshake
 * reads it (the viewer comes from `connection_init`).
 */
class Connection implements ProtocolSocket {
  /** Set in onConnect once the token is accepted. */
  viewer: Viewer | null = null;
  /** Kept to notice a revoked token when the next operation starts; never logged. */
  token: string | null = null;
  connectionId: string | null = null;
  /** Until `connection_init` arrives (then cleared: nothing per socket is left on the timer list). */
  initTimer: NodeJS.Timeout | null = null;
  /** The keep-alive sweep pings this connection when it visits this slot. */
  readonly keepAliveSlot: number;
  /** A ping was sent and its pong has not come back yet. */
  awaitingPong = false;
  /** graphql-ws's message handler and its close callback. */
  received: ((data: string) => Promise<void>) | null = null;
  closed: ((code: number, reason: string) => Promise<void>) | null = null;

  constructor(
    readonly socket: WebSocket,
    keepAliveSlot: number,
  ) {
    this.keepAliveSlot = keepAliveSlot;
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      if (socket.readyState !== WebSocket.OPEN) return resolve();
      socket.send(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    this.received = cb;
  }

  clearInitTimer(): void {
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = null;
  }
}

function unexpectedError() {
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/**
 * A flat copy of a new UUID. `randomUUID()` returns a rope of 20 concatenated pieces (~0.5 KB while it is kept);
 * the id lives as long as the connection.
 */
function newConnectionId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

export function attachGraphQLWs(server: Server, options: GraphQLWsOptions): GraphQLWsServer {
  const { yoga, auth, log } = options;
  const maxOperations = options.maxOperations ?? MAX_SUBSCRIPTIONS_PER_CONNECTION;
  const keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
  const initTimeoutMs = options.connectionInitWaitTimeoutMs ?? CONNECTION_INIT_WAIT_TIMEOUT_MS;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes ?? MAX_WS_PAYLOAD_BYTES,
    perMessageDeflate: false, // no compression state per socket
    handleProtocols,
  });
  let closing = false;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== yoga.graphqlEndpoint) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws));
  };
  server.on('upgrade', onUpgrade);

  const protocol = makeServer<Record<string, unknown> | undefined, Connection>({
    // Our own timer (below), cleared when `connection_init` arrives; graphql-ws would keep its own for 3 s.
    connectionInitWaitTimeout: 0,
    execute: (args) => (args.rootValue as ExecuteFns).execute(args) as never,
    subscribe: (args) => (args.rootValue as ExecuteFns).subscribe(args) as never,
    // Authenticate once per connection; refusing closes it with 4403.
    onConnect: async (ctx) => {
      const extra = ctx.extra;
      extra.clearInitTimer();
      const header = ctx.connectionParams?.authorization;
      const token = bearerToken(typeof header === 'string' ? header : null);
      try {
        const viewer = await auth.authenticate(token);
        if (!viewer || !token) return false;
        extra.viewer = viewer;
        extra.token = token;
        extra.connectionId = newConnectionId();
        log.debug({ connectionId: extra.connectionId, userId: viewer.user.id }, 'graphql-ws connection');
        return true;
      } catch (error) {
        // Details in the log only; the client sees a generic close.
        log.error({ err: error }, 'graphql-ws authentication failed');
        extra.socket.close(INTERNAL_ERROR_CLOSE, 'Internal server error');
        return false;
      }
    },
    onSubscribe: async (ctx, id, params) => {
      const extra = ctx.extra;
      // The new operation is already counted in ctx.subscriptions.
      if (Object.keys(ctx.subscriptions).length > maxOperations) {
        return [
          new GraphQLError(`At most ${maxOperations} operations may run at once on one connection`, {
            extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
          }),
        ];
      }
      try {
        // The initial context holds only what the context factory and the plugins read: the connection's viewer
        // and the operation's parameters (no connection state, no upgrade request, no connectionParams).
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ viewer: extra.viewer, params });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        // Armor's limits are validation rules: an over-limit operation stops here, before any SQL.
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        // A token revoked since the connection opened ends the connection at its next operation.
        if (!(await auth.authenticate(extra.token))) {
          extra.socket.close(4403, 'Forbidden');
          return [new GraphQLError('The token was revoked', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies ExecuteFns,
        };
      } catch (error) {
        log.error({ err: error, connectionId: extra.connectionId, userId: extra.viewer?.user.id }, 'graphql-ws operation failed to start');
        return [unexpectedError()];
      }
    },
    onClose: (ctx, code) => {
      const extra = ctx.extra;
      if (extra.connectionId) log.debug({ connectionId: extra.connectionId, userId: extra.viewer?.user.id, code }, 'graphql-ws connection closed');
    },
  });

  // Listeners shared by every socket (`this` is the socket): no closure per connection.
  function onSocketMessage(this: TrackedSocket, data: WebSocket.RawData): void {
    const connection = this[CONNECTION];
    if (!connection?.received) return;
    // Not awaited here: the promise of a subscription's message lasts as long as the subscription, and an async
    // listener would keep the raw message buffer for all that time.
    connection.received(String(data)).catch((error: unknown) => {
      log.error({ err: error, connectionId: connection.connectionId }, 'graphql-ws message handling failed');
      connection.socket.close(INTERNAL_ERROR_CLOSE, 'Internal server error');
    });
  }
  function onSocketPong(this: TrackedSocket): void {
    const connection = this[CONNECTION];
    if (connection) connection.awaitingPong = false;
  }
  // ws has already closed such a socket with the right code (1009, 1002…): one JSON log line, no stack on stderr.
  function onSocketError(error: Error & { code?: string }): void {
    log.warn({ code: error.code, reason: error.message }, 'graphql-ws socket error; connection closed');
  }
  function onSocketClose(this: TrackedSocket, code: number, reason: Buffer): void {
    const connection = this[CONNECTION];
    if (!connection) return;
    connection.clearInitTimer();
    connection.closed?.(code, String(reason)).catch((error: unknown) => {
      log.error({ err: error, connectionId: connection.connectionId }, 'graphql-ws close handling failed');
    });
  }

  let keepAliveSlot = 0;
  function accept(ws: WebSocket): void {
    const socket = ws as TrackedSocket;
    // First ping one keep-alive interval after the connection opened, as with a timer per socket.
    const connection = new Connection(socket, keepAliveSlot);
    socket[CONNECTION] = connection;
    socket.on('error', onSocketError);
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('close', onSocketClose);
    if (initTimeoutMs > 0 && Number.isFinite(initTimeoutMs)) {
      connection.initTimer = setTimeout(() => {
        connection.initTimer = null;
        connection.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }, initTimeoutMs);
    }
    connection.closed = protocol.opened(connection, connection);
  }

  // Keep-alive: a ping every `keepAliveMs` per socket; a socket whose pong has not come back by its next turn is cut.
  // One sweep for all sockets, spread over KEEP_ALIVE_SLOTS turns so that pings do not all leave at once.
  const keepAlive =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          keepAliveSlot = (keepAliveSlot + 1) % KEEP_ALIVE_SLOTS;
          for (const client of wss.clients) {
            const connection = (client as TrackedSocket)[CONNECTION];
            if (!connection || connection.keepAliveSlot !== keepAliveSlot) continue;
            if (connection.awaitingPong) client.terminate();
            else if (client.readyState === WebSocket.OPEN) {
              connection.awaitingPong = true;
              client.ping();
            }
          }
        }, keepAliveMs / KEEP_ALIVE_SLOTS)
      : null;
  keepAlive?.unref();

  return {
    async close() {
      closing = true; // new upgrades get 503 from here on
      if (keepAlive) clearInterval(keepAlive);
      // Every client gets 1001 (Going Away); wss.close() resolves once all have closed. A client that does not answer
      // within the grace period is cut.
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      const disposed = new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([disposed, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      for (const client of wss.clients) client.terminate();
      await disposed;
      server.off('upgrade', onUpgrade);
    },
    connectionCount: () => wss.clients.size,
  };
}
