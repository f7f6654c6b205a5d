// graphql-ws (`graphql-transport-ws`) on the HTTP server's upgrade requests to /graphql. Operations go through
// yoga's envelop (STACK.md §2a), so masking, Armor's limits and the context factory are the same as over HTTP.
// Hardening (CONTRACT.md §6, STACK.md §5): messages up to 64 KiB (a bigger one closes the socket with 1009),
// `connection_init` within 3 s (else 4408), authentication in onConnect (4403), at most 20 operations at once per
// connection (the 21st gets an `error` message, the connection stays open), keep-alive pings every 12 s.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticateToken, bearerToken } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import type { Store, User } from '../store/store.ts';

export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;
export const MAX_WS_PAYLOAD_BYTES = 64 * 1024;
export const CONNECTION_INIT_WAIT_TIMEOUT_MS = 3_000;
export const KEEP_ALIVE_MS = 12_000;
/** Shutdown: how long clients get to answer the 1001 close before their sockets are cut. */
const CLOSE_GRACE_MS = 1_000;
const INTERNAL_ERROR_CLOSE = 4500;

export interface GraphQLWsOptions {
  // The server and user context types of yoga do not matter here.
  yoga: YogaServerInstance<any, any>;
  store: Store;
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
interface ConnectionExtra {
  socket: WebSocket;
  request: IncomingMessage;
  viewer: User;
  /** Kept to notice a revoked token when the next operation starts; never logged. */
  token: string;
  connectionId: string;
}

function unexpectedError() {
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

export function attachGraphQLWs(server: Server, options: GraphQLWsOptions): GraphQLWsServer {
  const { yoga, store, log } = options;
  const maxOperations = options.maxOperations ?? MAX_SUBSCRIPTIONS_PER_CONNECTION;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes ?? MAX_WS_PAYLOAD_BYTES });
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
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  const disposable = useServer<Record<string, unknown> | undefined, Partial<ConnectionExtra>>(
    {
      isProd: true, // never put internal error text into close reasons
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? CONNECTION_INIT_WAIT_TIMEOUT_MS,
      execute: (args) => (args.rootValue as ExecuteFns).execute(args) as never,
      subscribe: (args) => (args.rootValue as ExecuteFns).subscribe(args) as never,
      // Authenticate once per connection; refusing closes it with 4403.
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        const token = bearerToken(typeof header === 'string' ? header : null);
        try {
          const viewer = await authenticateToken(store, token);
          if (!viewer || !token) return false;
          Object.assign(ctx.extra, { viewer, token, connectionId: randomUUID() });
          log.debug({ connectionId: ctx.extra.connectionId, userId: viewer.id }, 'graphql-ws connection');
          return true;
        } catch (error) {
          // Details in the log only; the client sees a generic close.
          log.error({ err: error }, 'graphql-ws authentication failed');
          ctx.extra.socket?.close(INTERNAL_ERROR_CLOSE, 'Internal server error');
          return false;
        }
      },
      onSubscribe: async (ctx, id, params) => {
        const extra = ctx.extra as ConnectionExtra;
        // The new operation is already counted in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > maxOperations) {
          return [
            new GraphQLError(`At most ${maxOperations} operations may run at once on one connection`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
            }),
          ];
        }
        try {
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            ...ctx,
            req: extra.request,
            socket: extra.socket,
            params,
            viewer: extra.viewer,
          });
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
          if (!(await authenticateToken(store, extra.token))) {
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
          log.error({ err: error, connectionId: extra.connectionId, userId: extra.viewer?.id }, 'graphql-ws operation failed to start');
          return [unexpectedError()];
        }
      },
      onClose: (ctx, code) => {
        const extra = ctx.extra as Partial<ConnectionExtra>;
        if (extra.connectionId) log.debug({ connectionId: extra.connectionId, userId: extra.viewer?.id, code }, 'graphql-ws connection closed');
      },
    },
    wss,
    options.keepAliveMs ?? KEEP_ALIVE_MS,
  );

  // graphql-ws prints socket errors (an oversized message, a broken frame) with their stack on stderr. ws has
  // already closed such a socket with the right code (1009, 1002…): one JSON log line is enough.
  wss.on('connection', (socket: WebSocket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => {
      log.warn({ code: error.code, reason: error.message }, 'graphql-ws socket error; connection closed');
    });
  });

  return {
    async close() {
      closing = true; // new upgrades get 503 from here on
      // dispose() sends 1001 (Going Away) to every client and waits until all have closed; a client that does not
      // answer within the grace period is cut.
      const disposed = disposable.dispose();
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
