// Normalised shapes of what Scenario returns. Only src/scenario/client.ts maps the wire format to these;
// the engine sees nothing else. Unknown fields are kept in `raw`, unknown statuses as plain strings.

/** Scenario's job statuses (SCENARIO-API.md §3.3); others may appear and are kept as strings. */
export type UpstreamJobStatus =
  | 'pending'
  | 'queued'
  | 'warming-up'
  | 'in-progress'
  | 'finalizing'
  | 'success'
  | 'failure'
  | 'canceled'
  | (string & {});

export interface UpstreamJob {
  jobId: string;
  jobType: string | null;
  status: UpstreamJobStatus;
  /** 0..1 */
  progress: number;
  assetIds: string[];
  error: string | null;
  hint: string | null;
  /** metadata.input: the body that was submitted, as upstream echoes it. */
  input: Record<string, unknown> | null;
  /** Epoch ms, null when absent or unparsable. */
  createdAt: number | null;
  updatedAt: number | null;
  raw: unknown;
}

export interface SubmitResult {
  job: UpstreamJob;
  creativeUnitsCost: number | null;
}

export interface UpstreamJobList {
  jobs: UpstreamJob[];
  /** Absent or empty upstream token ⇒ null: last page. */
  nextPaginationToken: string | null;
}

export interface UpstreamAsset {
  id: string;
  kind: string | null;
  mimeType: string | null;
  status: string | null;
  /** Signed URL; expires (SCENARIO-API.md §5.2). */
  url: string | null;
  /** properties.size in bytes. */
  size: number | null;
  width: number | null;
  height: number | null;
  duration: number | null;
  frameRate: number | null;
  /** thumbnail.url, when the asset has one. */
  thumbnailUrl: string | null;
  raw: unknown;
}

export interface UpstreamUpload {
  id: string;
  status: string;
  parts: Array<{ number: number; url: string }>;
  /** The imported asset's id once status is `imported`. */
  entityId: string | null;
  errorMessage: string | null;
}

/** The body of a signed URL as it arrives. */
export interface DownloadBody {
  /** To be read to the end: a transfer that breaks, times out or ends short throws a ScenarioError from here. */
  chunks: AsyncIterable<Uint8Array>;
  contentType: string | null;
}

/**
 * Why a request failed, as the engine needs to know it:
 * - `http`: upstream answered with a non-2xx status (`status`, `reason`, `retryAfterMs`, `details`);
 * - `refused`: the connection was refused or the host not found: nothing reached upstream;
 * - `timeout`: no complete answer within the client's timeout: the request may have been processed;
 * - `network`: the connection broke (reset, closed) after it was opened: the request may have been processed;
 * - `invalid`: a 2xx answer that is not what the API documents (not JSON, no job).
 */
export type ScenarioErrorKind = 'http' | 'refused' | 'timeout' | 'network' | 'invalid';

export class ScenarioError extends Error {
  readonly kind: ScenarioErrorKind;
  readonly status: number | null;
  /** Upstream's own words: `reason ?? message ?? error ?? detail` of the body. */
  readonly reason: string | null;
  /** From `Retry-After` / `retry-after-ms` headers or a body's `remainingSeconds`. */
  readonly retryAfterMs: number | null;
  /** A 429's `details` (e.g. actionName, actionLimit), or other structured detail. */
  readonly details: unknown;
  /** Route name, e.g. `submit`, `getJob` (never the URL: signed URLs carry credentials). */
  readonly route: string;

  constructor(init: {
    kind: ScenarioErrorKind;
    route: string;
    message: string;
    status?: number | null;
    reason?: string | null;
    retryAfterMs?: number | null;
    details?: unknown;
  }) {
    super(init.message);
    this.name = 'ScenarioError';
    this.kind = init.kind;
    this.route = init.route;
    this.status = init.status ?? null;
    this.reason = init.reason ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.details = init.details;
  }

  /** True when nothing can have reached upstream's logic (safe to send again). */
  get notSent(): boolean {
    return this.kind === 'refused';
  }
}

/** Observes every upstream request, for metrics and for the requests-per-job measurement. */
export type UpstreamRequestObserver = (event: { route: string; outcome: string; durationMs: number }) => void;

export interface ScenarioApi {
  submitJob(modelId: string, body: Record<string, unknown>): Promise<SubmitResult>;
  getJob(jobId: string): Promise<UpstreamJob>;
  listJobs(query: { pageSize: number; paginationToken?: string | null; status?: string | null }): Promise<UpstreamJobList>;
  /** POST /jobs/{id}/action {"action":"cancel"}; upstream refuses custom jobs with 400. */
  cancelJob(jobId: string): Promise<UpstreamJob>;
  getAsset(assetId: string): Promise<UpstreamAsset>;
  /** The four-step uploads flow (SCENARIO-API.md §5.3), bounded by `timeoutMs`; resolves with the imported asset id. */
  uploadFile(file: { fileName: string; contentType: string; bytes: Uint8Array; kind: 'audio' }, options?: { timeoutMs?: number }): Promise<string>;
  /**
   * GETs a signed URL and hands its body to `consume`, resolving with what `consume` returns; errors of `consume`'s own
   * pass unchanged. A 403 or expired URL is an `http` error with status 403.
   */
  download<T>(url: string, consume: (body: DownloadBody) => Promise<T>): Promise<T>;
}
