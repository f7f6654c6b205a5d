// graphql-ws (`graphql-transport-ws`) on the HTTP server's upgrade requests to /graphql. Operations go through
// yoga's envelop (STACK.md §2a), so masking, limits and the context factory are the same as over HTTP.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { authenticateToken, bearerToken } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import type { Store, User } from '../store/store.ts';

export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;

export interface GraphQLWsOptions {
  // The server and user context types of yoga do not matter here.
  yoga: YogaServerInstance<any, any>;
  store: Store;
  log: Logger;
  keepAliveMs?: number;
  maxOperations?: number;
  /** Largest message a client may send. */
  maxPayloadBytes?: number;
}

export interface GraphQLWsServer {
  close(): Promise<void>;
  /** Open WebSocket connections (for metrics and tests). */
  connectionCount(): number;
}

type ExecuteFns = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

export function attachGraphQLWs(server: Server, options: GraphQLWsOptions): GraphQLWsServer {
  const { yoga, store, log } = options;
  const maxOperations = options.maxOperations ?? MAX_SUBSCRIPTIONS_PER_CONNECTION;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes ?? 1024 * 1024 });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== yoga.graphqlEndpoint) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  const disposable = useServer<Record<string, unknown> | undefined, { viewer: User }>(
    {
      isProd: true, // never put internal error text into close reasons
      execute: (args) => (args.rootValue as ExecuteFns).execute(args) as never,
      subscribe: (args) => (args.rootValue as ExecuteFns).subscribe(args) as never,
      // Authenticate once per connection; refusing closes it with 4403.
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        try {
          const viewer = await authenticateToken(store, bearerToken(typeof header === 'string' ? header : null));
          if (!viewer) return false;
          ctx.extra.viewer = viewer;
          return true;
        } catch (error) {
          log.error({ err: error }, 'graphql-ws authentication failed');
          throw error;
        }
      },
      onSubscribe: async (ctx, id, params) => {
        // The new operation is already counted in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > maxOperations) {
          return [
            new GraphQLError(`At most ${maxOperations} operations may run at once on one connection`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
            }),
          ];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          viewer: ctx.extra.viewer,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies ExecuteFns,
        };
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      const closing = disposable.dispose();
      for (const client of wss.clients) client.terminate();
      await closing;
    },
    connectionCount: () => wss.clients.size,
  };
}
