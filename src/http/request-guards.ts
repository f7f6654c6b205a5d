// Yoga plugins that look at an HTTP request before its body is parsed: the bearer token (401 otherwise), the size
// of JSON bodies, and multipart requests only for the uploadAudio mutation.
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { authenticateToken, bearerToken } from '../auth/tokens.ts';
import type { Store, User } from '../store/store.ts';

export const UNAUTHENTICATED_MESSAGE = 'Authentication required: send the header "Authorization: Bearer <token>"';

export function unauthenticatedError() {
  return createGraphQLError(UNAUTHENTICATED_MESSAGE, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } },
  });
}

/**
 * Resolves the viewer once per request, before the body is read. GraphiQL's page (a GET for text/html) is
 * answered by yoga before this hook and needs no token; every operation does.
 */
export function useBearerAuth(store: Store, viewers: WeakMap<Request, User>): Plugin {
  return {
    async onRequestParse({ request }) {
      const viewer = await authenticateToken(store, bearerToken(request.headers.get('authorization')));
      if (!viewer) throw unauthenticatedError();
      viewers.set(request, viewer);
    },
  };
}

const isMultipart = (request: Request) => (request.headers.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');

function tooLarge(limit: number) {
  return createGraphQLError(`Request body too large (at most ${Math.round(limit / 1024)} KB; files go in a multipart uploadAudio request)`, {
    extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } },
  });
}

/** Bodies other than multipart uploads: at most `limit` bytes, by Content-Length or, when absent, as they stream in. */
export function useJsonBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (isMultipart(request) || request.body == null) return;
      const declared = request.headers.get('content-length');
      if (declared != null && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge(limit);
      if (!requestParser) return;
      const original = requestParser;
      setRequestParser((req) => {
        let read = 0;
        const body = req.body!.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(tooLarge(limit));
              else controller.enqueue(chunk);
            },
          }),
        );
        const limited = new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, body, duplex: 'half' } as RequestInit);
        return original(limited);
      });
    },
  };
}

function onlyUploadAudio(query: string | undefined, operationName: string | undefined): boolean {
  if (!query) return false;
  let operations: OperationDefinitionNode[];
  try {
    operations = parse(query, { maxTokens: 500 }).definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
  } catch {
    return false;
  }
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  return (
    operation?.operation === 'mutation' &&
    operation.selectionSet.selections.every(
      (s) => s.kind === Kind.FIELD && (s.name.value === 'uploadAudio' || s.name.value === '__typename'),
    )
  );
}

/** Multipart requests (GraphQL multipart request spec) carry files: only uploadAudio takes them. */
export function useUploadOnlyMultipart(): Plugin {
  return {
    onRequestParse({ request }) {
      if (!isMultipart(request)) return;
      return {
        onRequestParseDone({ requestParserResult }) {
          const params = Array.isArray(requestParserResult) ? null : requestParserResult;
          if (!params || !onlyUploadAudio(params.query, params.operationName)) {
            throw createGraphQLError('Multipart requests are accepted only for the uploadAudio mutation', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
