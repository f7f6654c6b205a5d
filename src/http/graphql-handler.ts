// The public HTTP surface of the API: yoga on /graphql (POST, GET for queries, SSE subscriptions, multipart for
// uploadAudio, GraphiQL outside production), graphql-ws on the same path, and the signed /media/… route.
// Order of the checks on an HTTP operation: bearer header (401) → CSRF (production, 403) → body size (413) →
// multipart only for uploadAudio (400) → parse with the token limit → validation with Armor's limits (400) →
// token lookup in the database while the context is built (401) → resolvers. Batching is off.
// JSON POSTs go through the response cache first (src/http/cached-queries.ts): a repeat of a successful query
// within the same second is answered from there after the token lookup; anything else takes the path above.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { getOperationAST } from 'graphql';
import { createYoga, type Plugin, type YogaLogger } from 'graphql-yoga';
import type { Config } from '../config.ts';
import type { VideoJobEngine } from '../engine/engine.ts';
import type { JobEventBus } from '../events/job-event-bus.ts';
import { currentLogFields, type Logger } from '../log.ts';
import { createMediaHandler } from '../media/serve.ts';
import { MEDIA_ROUTE_PREFIX, MediaSigner, resolveMediaSecret } from '../media/signing.ts';
import { mediaUrlsFor } from '../media/urls.ts';
import type { MediaStorage } from '../media/storage/index.ts';
import type { ApiServices, GraphQLContext } from '../schema/context.ts';
import { schema } from '../schema/index.ts';
import type { Store, Viewer } from '../store/store.ts';
import { Authenticator } from '../auth/authenticator.ts';
import { cacheableRequestToken, createCachedQueryHandler, useReuseTicket } from './cached-queries.ts';
import { createContext } from './context.ts';
import { useOperationLimits } from './limits.ts';
import { authenticateRequest, useBearerAuth, useCsrfPrevention, useJsonBodyLimit, useUploadOnlyMultipart } from './request-guards.ts';
import { ResponseCache, DEFAULT_RESPONSE_CACHE_LIMITS, type CacheOutcome } from './response-cache.ts';
import { attachGraphQLWs, type GraphQLWsServer } from './ws.ts';

export const GRAPHQL_PATH = '/graphql';
/** JSON (and every other non-multipart) body. */
export const MAX_JSON_BODY_BYTES = 100 * 1024;
/** A multipart uploadAudio request: the 15 MB file plus its envelope. */
export const MAX_MULTIPART_BODY_BYTES = 16 * 1024 * 1024;

export interface GraphQLHandlerOptions {
  store: Store;
  engine: VideoJobEngine;
  bus: JobEventBus;
  config: Config;
  /** What /media/… serves. */
  media: MediaStorage;
  log: Logger;
  upstreamMode: 'LIVE' | 'SIMULATED';
  /** Base of the absolute media URLs; known only once the server listens when PORT=0. */
  publicUrl: () => string;
  /** graphql-ws keep-alive ping interval (default 12 s). */
  keepAliveMs?: number;
  /** graphql-ws: time a new connection has to send `connection_init` (default 3 s). */
  connectionInitWaitTimeoutMs?: number;
  onCacheOutcome?: (outcome: CacheOutcome) => void;
}

export interface GraphQLHandler {
  /** Answers requests to /graphql and /media/…; returns false (and does nothing) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Serves graphql-ws on the server's upgrade requests to /graphql. */
  attachWebSockets(server: Server): void;
  /** Refuses new WebSockets, closes the open ones with 1001 (Going Away) and ends their subscriptions. */
  close(): Promise<void>;
  /** Open graphql-ws connections (for metrics). */
  webSocketCount(): number;
  readonly services: ApiServices;
}

function yogaLogger(log: Logger): YogaLogger {
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      // Yoga logs here the original of every error it masks: the details clients never see.
      if (first instanceof Error) log[level]({ err: first }, rest.length > 0 ? rest.map(String).join(' ') : 'unexpected error (masked for the client)');
      else log[level](args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Puts the operation's name and type into the request's log fields (and so into the request log and metrics). */
function useOperationFields(): Plugin {
  return {
    onParams({ params }) {
      const fields = currentLogFields();
      if (fields && typeof params.operationName === 'string') fields.operationName = params.operationName.slice(0, 100);
    },
    onValidate({ params, context }) {
      const fields = currentLogFields();
      if (!fields) return;
      const operationName = (context as { params?: { operationName?: string } }).params?.operationName;
      const operation = getOperationAST(params.documentAST, operationName);
      if (!operation) return;
      fields.operationType = operation.operation;
      if (operation.name) fields.operationName = operation.name.value.slice(0, 100);
    },
  };
}

export async function createGraphQLHandler(options: GraphQLHandlerOptions): Promise<GraphQLHandler> {
  const { store, config, log } = options;
  const production = config.nodeEnv === 'production';
  const secret = await resolveMediaSecret(config.mediaSigningSecret, store);
  const signer = new MediaSigner(secret, options.publicUrl);
  const services: ApiServices = {
    store,
    engine: options.engine,
    bus: options.bus,
    config,
    log,
    mediaUrls: mediaUrlsFor(config, signer, options.media),
    upstreamMode: options.upstreamMode,
  };
  const viewers = new WeakMap<Request, Viewer>();
  const auth = new Authenticator(store);

  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: production ? false : { title: 'Video gateway', headers: JSON.stringify({ authorization: 'Bearer <token>' }) },
    landingPage: false,
    // Unexpected errors reach clients as "Unexpected error." with code INTERNAL_SERVER_ERROR; details only in the log.
    maskedErrors: { isDev: false },
    logging: yogaLogger(log),
    batching: false,
    multipart: true,
    maxRequestBodySize: MAX_MULTIPART_BODY_BYTES,
    plugins: [
      useOperationFields(),
      useReuseTicket(),
      useBearerAuth(auth, viewers),
      ...(production ? [useCsrfPrevention()] : []),
      useJsonBodyLimit(MAX_JSON_BODY_BYTES),
      useUploadOnlyMultipart(),
      ...useOperationLimits({ production }),
    ],
    // Built after parsing and validation: an operation refused by the limits never reaches the database.
    context: async (initial) => {
      const viewer =
        (initial as { viewer?: Viewer }).viewer ?? viewers.get(initial.request) ?? (await authenticateRequest(auth, initial.request));
      return createContext(services, viewer);
    },
  });

  const serveMedia = createMediaHandler({ signer, storage: options.media, log });
  const cachedQueries =
    config.responseCacheEntries > 0
      ? createCachedQueryHandler({
          yoga,
          auth,
          log,
          maxBodyBytes: MAX_JSON_BODY_BYTES,
          cache: new ResponseCache(
            { ...DEFAULT_RESPONSE_CACHE_LIMITS, maxEntries: config.responseCacheEntries },
            Date.now,
            options.onCacheOutcome,
          ),
        })
      : null;
  let ws: GraphQLWsServer | null = null;

  return {
    services,
    handle(req, res) {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      if (path === GRAPHQL_PATH) {
        const token = cachedQueries ? cacheableRequestToken(req, MAX_JSON_BODY_BYTES) : null;
        if (cachedQueries && token) {
          void cachedQueries(req, res, token).catch((error: unknown) => {
            log.error({ err: error }, 'graphql request failed');
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
            res.end();
          });
        } else {
          void yoga(req, res);
        }
        return true;
      }
      if (path.startsWith(MEDIA_ROUTE_PREFIX)) {
        void serveMedia(req, res).catch((error: unknown) => {
          log.error({ err: error }, 'media request failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end();
        });
        return true;
      }
      return false;
    },
    attachWebSockets(server) {
      ws ??= attachGraphQLWs(server, {
        yoga,
        auth,
        log,
        keepAliveMs: options.keepAliveMs,
        connectionInitWaitTimeoutMs: options.connectionInitWaitTimeoutMs,
      });
    },
    async close() {
      await ws?.close();
      ws = null;
    },
    webSocketCount: () => ws?.connectionCount() ?? 0,
  };
}
