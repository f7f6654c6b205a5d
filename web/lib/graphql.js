// GraphQL over HTTP with fetch: JSON for queries and mutations, a GraphQL multipart request for uploadAudio.
// Expected failures of mutations are members of their result union (handled by the caller); this layer turns
// everything else into an ApiError with a sentence a person can act on.

export const GRAPHQL_PATH = '/graphql';

/** @typedef {'unauthenticated' | 'network' | 'http' | 'graphql'} ApiErrorKind */

export class ApiError extends Error {
  /**
   * @param {ApiErrorKind} kind
   * @param {string} message
   * @param {{ status?: number, errors?: Array<{ message: string, extensions?: Record<string, unknown> }> }} [details]
   */
  constructor(kind, message, details = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = details.status;
    this.errors = details.errors ?? [];
  }
}

/**
 * @typedef {object} RequestOptions
 * @property {AbortSignal} [signal]
 * @property {string} [token] a token to use instead of the session's (sign-in checks it before keeping it)
 */

/**
 * @param {{ getToken: () => string | null, onUnauthenticated?: () => void }} options
 */
export function createApi({ getToken, onUnauthenticated }) {
  /**
   * @param {BodyInit} body
   * @param {Record<string, string>} headers
   * @param {RequestOptions} options
   * @returns {Promise<any>}
   */
  async function send(body, headers, options) {
    const token = options.token ?? getToken();
    /** @type {Response} */
    let res;
    try {
      res = await fetch(GRAPHQL_PATH, {
        method: 'POST',
        headers: {
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError('network', 'The gateway cannot be reached. Is it still running?');
    }
    /** @type {any} */
    let payload = null;
    try {
      payload = await res.json();
    } catch {
      payload = null;
    }
    const errors = Array.isArray(payload?.errors) ? payload.errors : [];
    if (res.status === 401 || errors.some((/** @type {any} */ e) => e?.extensions?.code === 'UNAUTHENTICATED')) {
      if (!options.token) onUnauthenticated?.();
      throw new ApiError('unauthenticated', 'This token was not accepted: it is unknown or was revoked.', { status: res.status, errors });
    }
    if (res.status === 413) {
      throw new ApiError('http', errors[0]?.message ?? 'The request is too large for the gateway.', { status: 413, errors });
    }
    if (errors.length > 0) {
      throw new ApiError('graphql', errors.map((/** @type {any} */ e) => e.message).join('\n'), { status: res.status, errors });
    }
    if (!res.ok || !payload?.data) {
      throw new ApiError('http', `The gateway answered HTTP ${res.status}.`, { status: res.status });
    }
    return payload.data;
  }

  return {
    /**
     * @param {string} query
     * @param {Record<string, unknown>} [variables]
     * @param {RequestOptions} [options]
     */
    request(query, variables = {}, options = {}) {
      return send(JSON.stringify({ query, variables }), { 'content-type': 'application/json' }, options);
    },

    /**
     * One file as the GraphQL multipart request spec says: `operations`, `map`, then the file part.
     * @param {string} query a mutation with a `$file: File!` variable
     * @param {File} file
     * @param {RequestOptions} [options]
     */
    upload(query, file, options = {}) {
      const form = new FormData();
      form.set('operations', JSON.stringify({ query, variables: { file: null } }));
      form.set('map', JSON.stringify({ 0: ['variables.file'] }));
      form.set('0', file, file.name);
      // A multipart POST is a "simple" request: a custom header proves it came from a page that may send one
      // (CSRF prevention: yoga's default header name).
      return send(form, { 'x-graphql-yoga-csrf': 'studio' }, options);
    },
  };
}

/** @typedef {ReturnType<typeof createApi>} Api */
