// Yoga plugins that look at an HTTP request before its body is parsed: the bearer header (401 when missing or
// malformed), CSRF prevention (production), the size of JSON bodies, and multipart requests only for uploadAudio.
// The token itself is looked up in the database when the context is built, after parsing and validation, so an
// operation refused by the limits costs no SQL; multipart uploads are the exception (checked before their body is read).
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticator.ts';
import { bearerToken, MAX_TOKEN_LENGTH } from '../auth/tokens.ts';
import { currentLogFields } from '../log.ts';
import type { Viewer } from '../store/store.ts';

export const UNAUTHENTICATED_MESSAGE = 'Authentication required: send the header "Authorization: Bearer <token>"';

export function unauthenticatedError() {
  return createGraphQLError(UNAUTHENTICATED_MESSAGE, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } },
  });
}

function tokenOf(request: Request): string | null {
  const token = bearerToken(request.headers.get('authorization'));
  return token && token.length <= MAX_TOKEN_LENGTH ? token : null;
}

/** Looks the request's bearer token up (one indexed SQL statement); throws the 401 error for an unknown or revoked one. */
export async function authenticateRequest(auth: Authenticator, request: Request): Promise<Viewer> {
  const viewer = await auth.authenticate(tokenOf(request));
  if (!viewer) throw unauthenticatedError();
  const fields = currentLogFields();
  if (fields) fields.userId = viewer.user.id;
  return viewer;
}

/**
 * A request without a well-formed `Authorization: Bearer …` header is answered 401 before anything about the
 * operation is looked at. GraphiQL's page (a GET for text/html) is answered by yoga before this hook and needs no
 * token. Multipart requests (uploads, up to 16 MB) are authenticated fully here, before their body is read.
 */
export function useBearerAuth(auth: Authenticator, viewers: WeakMap<Request, Viewer>): Plugin {
  return {
    async onRequestParse({ request }) {
      if (!tokenOf(request)) throw unauthenticatedError();
      if (isMultipart(request)) viewers.set(request, await authenticateRequest(auth, request));
    },
  };
}

/** Content types a browser may send cross-origin without a CORS preflight (Fetch standard, "CORS-safelisted"). */
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-preflight', 'apollo-require-preflight'];

/**
 * CSRF prevention as yoga's csrf-prevention plugin and Apollo Server do it: a request a browser could send from
 * another site without a CORS preflight (a GET, or a POST with a form or text content type) must carry one of
 * `CSRF_HEADERS`, which no page can add without a preflight. JSON POSTs and graphql-ws are unaffected; multipart
 * uploads and GET queries from browsers add `x-graphql-yoga-csrf: 1`. Runs after the bearer check, so a request
 * without a token still gets 401.
 */
export function useCsrfPrevention(headers: readonly string[] = CSRF_HEADERS): Plugin {
  return {
    onRequestParse({ request }) {
      if (headers.some((name) => (request.headers.get(name) ?? '') !== '')) return;
      const contentType = request.headers.get('content-type');
      const mime = contentType?.split(';', 1)[0]!.trim().toLowerCase();
      if (mime && !SIMPLE_CONTENT_TYPES.has(mime)) return;
      throw createGraphQLError(
        `This request could have been sent by another site: send it as application/json, or add the header "${headers[0]}: 1"`,
        { extensions: { code: 'CSRF_PREVENTED', http: { status: 403 } } },
      );
    },
  };
}

const isMultipart = (request: Request) => (request.headers.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');

function tooLarge(limit: number) {
  return createGraphQLError(`Request body too large (at most ${Math.round(limit / 1024)} KB; files go in a multipart uploadAudio request)`, {
    // The rest of the body is not read: the connection cannot carry another request (RFC 9110 §15.5.14).
    extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413, headers: { connection: 'close' } } },
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
