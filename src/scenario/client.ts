// The gateway's only Scenario HTTP client (SCENARIO-API.md). It knows the wire format (with wire.ts), turns every
// failure into a precisely classified ScenarioError and reports each request to an observer.
// Secrets: the key and secret live only in the Authorization header of API calls; signed URLs (asset downloads,
// upload parts) are credentials too, so no error message, route name or observer event ever contains a URL.
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import {
  ScenarioError,
  type DownloadBody,
  type ScenarioApi,
  type SubmitResult,
  type UpstreamAsset,
  type UpstreamJob,
  type UpstreamJobList,
  type UpstreamRequestObserver,
  type UpstreamUpload,
} from './types.ts';
import { isObject, reasonOf, retryAfterMsOf, toUpstreamAsset, toUpstreamJob, toUpstreamUpload } from './wire.ts';

export interface ScenarioClientOptions {
  /** e.g. `https://api.cloud.scenario.com/v1` (a trailing slash is ignored). */
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Per API request, including reading the body. Default 30 s. */
  timeoutMs?: number;
  /** Per download, the whole body included. Default 5 min. */
  downloadTimeoutMs?: number;
  observer?: UpstreamRequestObserver;
}

/** The route names requests are reported under (never URLs: signed URLs are credentials). */
export const SCENARIO_ROUTES = [
  'submit',
  'getJob',
  'listJobs',
  'cancel',
  'getAsset',
  'uploadCreate',
  'uploadPart',
  'uploadComplete',
  'uploadGet',
  'download',
] as const;
export type ScenarioRoute = (typeof SCENARIO_ROUTES)[number];

/** Connection never made: nothing reached upstream, so sending again is safe (ScenarioError.notSent). */
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
/** S3 multipart rule (SCENARIO-API.md §5.3): every part but the last is at least 5 MiB; at most 10 000 parts. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const UPLOAD_POLL_INTERVAL_MS = 500;
const DEFAULT_UPLOAD_TIMEOUT_MS = 60_000;
/** Bounds on bodies read into memory: error bodies are only for their reason; a page of 100 jobs is far below 16 MiB. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;
const MAX_REASON_CHARS = 500;

interface Exchange {
  route: ScenarioRoute;
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  timeoutMs: number;
  /** API calls carry Basic auth; signed URLs (S3 parts, CDN) must not (S3 rejects a second auth mechanism). */
  authenticated: boolean;
  json?: unknown;
  bytes?: Uint8Array;
}

export class ScenarioClient implements ScenarioApi {
  // #private: util.inspect and JSON.stringify of the client never show the credentials.
  readonly #baseUrl: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #downloadTimeoutMs: number;
  readonly #observer: UpstreamRequestObserver | undefined;

  constructor(options: ScenarioClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#authorization = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#downloadTimeoutMs = options.downloadTimeoutMs ?? 300_000;
    this.#observer = options.observer;
  }

  async submitJob(modelId: string, body: Record<string, unknown>): Promise<SubmitResult> {
    return this.#api('submit', 'POST', `/generate/custom/${encodeURIComponent(modelId)}`, body, (data) => {
      const job = toUpstreamJob(data.job);
      if (!job) return null;
      const cost = data.creativeUnitsCost;
      // The cost is on the submit response only, never on the polled job (SCENARIO-API.md §2).
      return { job, creativeUnitsCost: typeof cost === 'number' && Number.isFinite(cost) ? cost : null };
    });
  }

  async getJob(jobId: string): Promise<UpstreamJob> {
    return this.#api('getJob', 'GET', `/jobs/${encodeURIComponent(jobId)}`, undefined, (data) => toUpstreamJob(data.job));
  }

  async listJobs(query: { pageSize: number; paginationToken?: string | null; status?: string | null }): Promise<UpstreamJobList> {
    const params = new URLSearchParams({ pageSize: String(query.pageSize) });
    if (query.paginationToken) params.set('paginationToken', query.paginationToken);
    if (query.status) params.set('status', query.status);
    return this.#api('listJobs', 'GET', `/jobs?${params}`, undefined, (data) => {
      if (!Array.isArray(data.jobs)) return null;
      const jobs = data.jobs.map(toUpstreamJob);
      if (jobs.some((job) => job === null)) return null;
      const token = data.nextPaginationToken;
      return { jobs: jobs as UpstreamJob[], nextPaginationToken: typeof token === 'string' && token !== '' ? token : null };
    });
  }

  async cancelJob(jobId: string): Promise<UpstreamJob> {
    return this.#api('cancel', 'POST', `/jobs/${encodeURIComponent(jobId)}/action`, { action: 'cancel' }, (data) =>
      toUpstreamJob(data.job),
    );
  }

  async getAsset(assetId: string): Promise<UpstreamAsset> {
    return this.#api('getAsset', 'GET', `/assets/${encodeURIComponent(assetId)}`, undefined, (data) =>
      toUpstreamAsset(data.asset),
    );
  }

  /** SCENARIO-API.md §5.3: create, PUT the parts (no auth header), complete, poll until imported. */
  async uploadFile(
    file: { fileName: string; contentType: string; bytes: Uint8Array; kind: 'audio' },
    options: { timeoutMs?: number } = {},
  ): Promise<string> {
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS);
    const remaining = (route: ScenarioRoute) => {
      const left = deadline - Date.now();
      if (left <= 0) throw new ScenarioError({ kind: 'timeout', route, message: `Scenario ${route}: upload not imported in time` });
      return Math.min(this.#timeoutMs, left);
    };
    const { partSize, partCount } = planParts(file.bytes.byteLength);

    const created = await this.#upload('uploadCreate', 'POST', '/uploads', remaining('uploadCreate'), {
      fileName: file.fileName,
      contentType: file.contentType,
      kind: file.kind,
      fileSize: file.bytes.byteLength,
      parts: partCount,
    });
    const parts = [...created.parts].sort((a, b) => a.number - b.number);
    if (parts.length !== partCount || parts.some((part, i) => part.number !== i + 1)) {
      throw invalid('uploadCreate', `expected ${partCount} part URLs, got ${parts.length}`);
    }
    for (const part of parts) {
      const start = (part.number - 1) * partSize;
      await this.#exchange(
        { route: 'uploadPart', url: part.url, method: 'PUT', timeoutMs: remaining('uploadPart'), authenticated: false,
          bytes: file.bytes.subarray(start, Math.min(start + partSize, file.bytes.byteLength)) },
        async (response, signal) => {
          await readBody(response, 'uploadPart', signal, MAX_ERROR_BODY_BYTES);
        },
      );
    }
    const path = `/uploads/${encodeURIComponent(created.id)}`;
    let upload = await this.#upload('uploadComplete', 'POST', `${path}/action`, remaining('uploadComplete'), { action: 'complete' });

    for (;;) {
      if (upload.entityId && (upload.status === 'imported' || upload.status === 'complete')) return upload.entityId;
      if (upload.status === 'failed') {
        // Not an HTTP failure, but the engine treats it like upstream refusing the file: a 400 with upstream's words.
        const reason = upload.errorMessage ?? 'upload failed';
        throw new ScenarioError({ kind: 'http', route: 'uploadGet', status: 400, reason, message: `Scenario upload failed: ${clip(reason)}` });
      }
      await sleep(Math.min(UPLOAD_POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
      try {
        upload = await this.#upload('uploadGet', 'GET', path, remaining('uploadGet'));
      } catch (error) {
        // A poll that failed for a passing reason is simply repeated until the deadline.
        if (!(error instanceof ScenarioError) || !isTransient(error) || Date.now() >= deadline) throw error;
      }
    }
  }

  /**
   * GETs a signed URL and hands its body to `consume`, which reads it to the end within the download timeout. The
   * body's failures (cut, timed out, shorter than its Content-Length) come out of it as ScenarioErrors; `consume`'s own
   * pass unchanged.
   */
  async download<T>(url: string, consume: (body: DownloadBody) => Promise<T>): Promise<T> {
    const exchange: Exchange = { route: 'download', url, method: 'GET', timeoutMs: this.#downloadTimeoutMs, authenticated: false };
    return this.#exchange(exchange, async (response, signal) => {
      const chunks = checkedBody(response, signal);
      try {
        return await consume({ chunks, contentType: response.headers.get('content-type') });
      } finally {
        // A consumer that stopped early, or never began, must not leave the transfer running.
        await chunks.return(undefined);
        await response.body?.cancel().catch(() => {});
      }
    });
  }

  /** A JSON API call; `read` maps the 2xx body to the result, or null when it lacks the documented envelope. */
  async #api<T>(
    route: ScenarioRoute,
    method: 'GET' | 'POST',
    path: string,
    json: unknown,
    read: (data: Record<string, unknown>) => T | null,
    timeoutMs: number = this.#timeoutMs,
  ): Promise<T> {
    const exchange: Exchange = { route, url: `${this.#baseUrl}${path}`, method, timeoutMs, authenticated: true, json };
    return this.#exchange(exchange, async (response, signal) => {
      const text = await readBody(response, route, signal, MAX_JSON_BODY_BYTES);
      const data = parseJson(text);
      if (!isObject(data)) throw invalid(route, 'the body is not a JSON object');
      const result = read(data);
      if (result === null) throw invalid(route, 'the documented envelope is missing');
      return result;
    });
  }

  #upload(route: ScenarioRoute, method: 'GET' | 'POST', path: string, timeoutMs: number, json?: unknown): Promise<UpstreamUpload> {
    return this.#api(route, method, path, json, (data) => toUpstreamUpload(data.upload), timeoutMs);
  }

  /**
   * One request: timeout, observation, classification. A non-2xx becomes an `http` ScenarioError; a 2xx is handed
   * to `consume`, which must read the body (and throws ScenarioErrors itself, or local errors that pass unchanged).
   */
  async #exchange<T>(exchange: Exchange, consume: (response: Response, signal: AbortSignal) => Promise<T>): Promise<T> {
    const { route } = exchange;
    const started = performance.now();
    const signal = AbortSignal.timeout(exchange.timeoutMs);
    let outcome = 'error';
    try {
      const headers: Record<string, string> = { accept: exchange.route === 'download' ? '*/*' : 'application/json' };
      if (exchange.authenticated) headers.authorization = this.#authorization;
      let body: string | Uint8Array<ArrayBuffer> | undefined;
      if (exchange.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(exchange.json);
      } else if (exchange.bytes) {
        body = new Uint8Array(exchange.bytes); // a copy: fetch's types (and SharedArrayBuffer views) need a plain ArrayBuffer
      }
      let response: Response;
      try {
        response = await fetch(exchange.url, { method: exchange.method, headers, body, signal });
      } catch (error) {
        throw transportError(route, error, signal);
      }
      if (!response.ok) throw await httpError(route, response, signal);
      const result = await consume(response, signal);
      outcome = '2xx';
      return result;
    } catch (error) {
      if (error instanceof ScenarioError) outcome = error.kind === 'http' ? statusClass(error.status ?? 0) : error.kind;
      throw error;
    } finally {
      this.#observe(route, outcome, performance.now() - started);
    }
  }

  #observe(route: string, outcome: string, durationMs: number): void {
    try {
      this.#observer?.({ route, outcome, durationMs });
    } catch {
      // Metrics must never break a request.
    }
  }
}

/** Part size and count for a file: 5 MiB parts (bigger only past 10 000 parts), at least one part. */
export function planParts(fileSize: number): { partSize: number; partCount: number } {
  const partSize = Math.max(MIN_PART_BYTES, Math.ceil(fileSize / MAX_PARTS));
  return { partSize, partCount: Math.max(1, Math.ceil(fileSize / partSize)) };
}

/** `429`, `4xx`, `5xx`… the observer's outcome for an HTTP status. */
function statusClass(status: number): string {
  return status === 429 ? '429' : `${Math.floor(status / 100)}xx`;
}

/** Failures that may pass if the same read is repeated: transport trouble, 429 and 5xx. */
function isTransient(error: ScenarioError): boolean {
  if (error.kind === 'http') return error.status === 429 || (error.status ?? 0) >= 500;
  return error.kind !== 'invalid';
}

function invalid(route: ScenarioRoute, why: string): ScenarioError {
  return new ScenarioError({ kind: 'invalid', route, message: `Scenario ${route}: unexpected response (${why})` });
}

const clip = (text: string) => (text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text);

/**
 * Upstream's JSON, with U+0000 removed from every string: PostgreSQL can store it neither in text nor in jsonb, and a
 * job whose upstream payload could not be stored would be stuck on one store and not the other.
 */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, (_key, value: unknown) => (typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '') : value));
  } catch {
    return undefined;
  }
}

/** A non-2xx: upstream's reason, retry hint and details. The body is read only up to a bound. */
async function httpError(route: ScenarioRoute, response: Response, signal: AbortSignal): Promise<ScenarioError> {
  let text = '';
  try {
    text = await readBody(response, route, signal, MAX_ERROR_BODY_BYTES, { truncate: true });
  } catch {
    // The status alone says enough; a body cut short only loses the reason.
  }
  const body = parseJson(text);
  // A short plain-text body (some proxies send one) is still a reason; HTML or XML pages are not.
  const plain = text.trim();
  const reason = reasonOf(body) ?? (body === undefined && plain && plain.length <= 300 && !plain.startsWith('<') ? plain : null);
  const status = response.status;
  return new ScenarioError({
    kind: 'http',
    route,
    status,
    reason: reason === null ? null : clip(reason),
    retryAfterMs: retryAfterMsOf(response.headers, body),
    details: isObject(body) ? body.details : undefined,
    message: `Scenario ${route}: HTTP ${status}${reason ? `: ${clip(reason)}` : ''}`,
  });
}

/**
 * Reads a body as text, at most `maxBytes`; past it the rest is discarded (`truncate`) or the answer is invalid.
 * Failures while reading are transport failures: the status line arrived, the body did not.
 */
async function readBody(
  response: Response,
  route: ScenarioRoute,
  signal: AbortSignal,
  maxBytes: number,
  options: { truncate?: boolean } = {},
): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        if (!options.truncate) throw invalid(route, `body larger than ${maxBytes} bytes`);
        break;
      }
    }
  } catch (error) {
    throw error instanceof ScenarioError ? error : transportError(route, error, signal);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** A download's body, checked: a transfer that breaks, or ends before the bytes its Content-Length announced, throws. */
async function* checkedBody(response: Response, signal: AbortSignal): AsyncGenerator<Uint8Array, void, undefined> {
  // fetch decodes a Content-Encoding, after which Content-Length no longer describes what is counted here.
  const declared = response.headers.get('content-encoding') ? NaN : Number(response.headers.get('content-length') ?? NaN);
  let bytes = 0;
  if (response.body) {
    try {
      for await (const chunk of response.body as NodeReadableStream<Uint8Array>) {
        bytes += chunk.byteLength;
        yield chunk;
      }
    } catch (error) {
      throw transportError('download', error, signal);
    }
  }
  if (Number.isFinite(declared) && declared !== bytes) {
    throw new ScenarioError({ kind: 'network', route: 'download', message: `Scenario download: body ended after ${bytes} of ${declared} bytes` });
  }
}

/**
 * fetch's failures → `timeout` (our deadline), `refused` (no connection: nothing was sent) or `network` (anything
 * else: the request may have been processed). Only the error code goes into the message: undici's own messages
 * may name the host and port, never needed and sometimes part of a signed URL.
 */
function transportError(route: ScenarioRoute, error: unknown, signal: AbortSignal): ScenarioError {
  if (error instanceof ScenarioError) return error;
  if (signal.aborted || (error instanceof Error && error.name === 'TimeoutError')) {
    return new ScenarioError({ kind: 'timeout', route, message: `Scenario ${route}: no complete answer in time` });
  }
  const code = errorCode(error);
  if (code !== null && REFUSED_CODES.has(code)) {
    const what = code === 'ECONNREFUSED' ? 'connection refused' : 'host not found';
    return new ScenarioError({ kind: 'refused', route, message: `Scenario ${route}: ${what} (${code})` });
  }
  return new ScenarioError({ kind: 'network', route, message: `Scenario ${route}: connection failed (${code ?? 'no error code'})` });
}

/** The first `code` along an error's `cause` chain and inside AggregateErrors (happy-eyeballs connects). */
function errorCode(error: unknown, depth = 0): string | null {
  if (depth > 5 || typeof error !== 'object' || error === null) return null;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  // Prefer the root cause: undici wraps ECONNREFUSED in errors of its own that carry other codes.
  const inner = errorCode(cause, depth + 1) ?? (Array.isArray(errors) ? errorCode(errors[0], depth + 1) : null);
  return inner ?? (typeof code === 'string' ? code : null);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
