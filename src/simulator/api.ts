// The simulated Scenario API (SCENARIO-API.md §10): one handler per route, each returning a Reply that server.ts
// sends, drops or alters according to the faults a test queued. Also the simulator's CDN (signed asset URLs,
// public thumbnails) and S3 stand-in (upload part URLs).
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SimRoute } from './faults.ts';
import { behaviourOf, jitteredLengthMs, jobToWire, scenarioId, type SimJob } from './jobs.ts';
import type { MediaLibrary } from './media.ts';
import { rollingExpiry, type UrlSigner } from './signing.ts';
import type { SimulatorState, SimAudioAsset } from './state.ts';
import type { StatsRecorder } from './stats.ts';
import { MAX_UPLOAD_BYTES, checkUploadRequest, completeUpload, putUploadPart, settleUpload, uploadToWire, type SimUpload } from './uploads.ts';
import { checkWanInput, wanCost } from './wan-input.ts';

export interface Reply {
  status: number;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  body?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Thrown by handlers (e.g. while reading a body) to answer at once. */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(`reply ${reply.status}`);
  }
}

export const refuse = (status: number, reason: string, extra: Record<string, unknown> = {}): Reply => ({
  status,
  json: { reason, ...extra },
});

export interface ApiContext {
  state: SimulatorState;
  media: MediaLibrary;
  stats: StatsRecorder;
  /** Signs CDN asset URLs; rotated by `faults.expireAssetUrls()`. */
  assetSigner: UrlSigner;
  /** Signs S3 part URLs. */
  partSigner: UrlSigner;
  settings: { jobSeconds: number; concurrencyLimit: number; modelId: string; uploadImportMs: number };
  /** Team id of everything the simulator creates: the concurrency cap is per team. */
  ownerId: string;
  now(): number;
  /** `http://127.0.0.1:PORT`, for the URLs the API hands out. */
  origin(): string;
}

export interface ApiRequest {
  params: string[];
  query: URLSearchParams;
  path: string;
  headers: IncomingHttpHeaders;
  /** 32 hex chars derived from the API key, as Scenario's `authorId`. */
  authorId: string;
  /** The body, read at most once, refused past `limit` bytes with 413. */
  body(limit?: number): Promise<Buffer>;
  /** The body as a JSON object, else a 400. */
  json(): Promise<Record<string, unknown>>;
}

type Handler = (ctx: ApiContext, req: ApiRequest) => Promise<Reply> | Reply;

export interface Route {
  route: SimRoute;
  method: string;
  pattern: RegExp;
  /** API routes need Basic auth; the CDN and S3 stand-ins are authorised by their signed URLs. */
  auth: boolean;
  handler: Handler;
}

const ok = (json: unknown): Reply => ({ status: 200, json });
/** CloudFront's answer to a bad or expired signature. */
const accessDenied = (): Reply => ({
  status: 403,
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>',
});
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;
const PART_URL_TTL_MS = 60 * 60 * 1000;

// ---- jobs ----

async function submit(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  const modelId = req.params[0]!;
  if (modelId !== ctx.settings.modelId) return refuse(404, `Model ${modelId} not found`);
  const body = await req.json();
  const check = checkWanInput(body, (id) => ctx.state.audio.has(id));
  if (!check.ok) return refuse(check.status, check.reason);
  const cost = wanCost(check.input.size, check.input.duration);
  // A dry run prices the request and creates nothing (SCENARIO-API.md §2.1).
  if (req.query.get('dryRun') === 'true') return ok({ creativeUnitsCost: cost, creativeUnitsDiscount: 0, job: {} });

  const now = ctx.now();
  const limit = ctx.settings.concurrencyLimit;
  if (ctx.state.unfinishedJobs(now) >= limit) {
    return refuse(429, `Too many concurrent generations: your team may run ${limit} at a time`, {
      details: { actionName: 'generate', actionLimit: limit },
    });
  }
  const job: SimJob = {
    seq: ctx.state.nextSeq(),
    jobId: scenarioId('job'),
    input: body,
    createdAt: now,
    lengthMs: jitteredLengthMs(ctx.settings.jobSeconds),
    behaviour: behaviourOf(check.input.prompt),
    cost,
    videoAssetId: scenarioId('asset'),
    thumbnailAssetId: scenarioId('asset'),
    authorId: req.authorId,
    ownerId: ctx.ownerId,
  };
  ctx.state.addJob(job, now);
  ctx.stats.submit(body, ctx.state.unfinishedJobs(now));
  return ok({ job: jobToWire(job, now), creativeUnitsCost: cost, creativeUnitsDiscount: 0 });
}

function visibleJob(ctx: ApiContext, jobId: string): SimJob | null {
  const job = ctx.state.jobs.get(jobId);
  return job && !job.behaviour.lost ? job : null;
}

function getJob(ctx: ApiContext, req: ApiRequest): Reply {
  const job = visibleJob(ctx, req.params[0]!);
  return job ? ok({ job: jobToWire(job, ctx.now()) }) : refuse(404, 'Job not found');
}

/** The opaque cursor is the creation sequence number of the last job of the page: stable while new jobs arrive. */
const encodeToken = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');
function decodeToken(token: string): number | null {
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
}

function listJobs(ctx: ApiContext, req: ApiRequest): Reply {
  const rawSize = req.query.get('pageSize');
  const pageSize = rawSize === null ? DEFAULT_PAGE_SIZE : Number(rawSize);
  if (!Number.isInteger(pageSize) || pageSize < 1) return refuse(400, 'pageSize must be a positive integer');
  const token = req.query.get('paginationToken');
  const beforeSeq = token ? decodeToken(token) : null;
  if (token && beforeSeq === null) return refuse(400, 'Invalid paginationToken');
  const page = ctx.state.listJobs(ctx.now(), {
    pageSize: Math.min(pageSize, MAX_PAGE_SIZE), // larger pages are served at the maximum, not refused
    beforeSeq,
    status: req.query.get('status') || null,
  });
  return ok({ jobs: page.jobs, ...(page.lastSeq !== null ? { nextPaginationToken: encodeToken(page.lastSeq) } : {}) });
}

async function cancel(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  const body = await req.json();
  const job = visibleJob(ctx, req.params[0]!);
  if (!job) return refuse(404, 'Job not found');
  if (body.action !== 'cancel') return refuse(400, `Unsupported action ${String(body.action)}`);
  // Observed live for custom (generate) jobs, Sept 2026 (SCENARIO-API.md §4.2).
  return refuse(400, 'Cannot cancel this type of job. Action not permitted.');
}

// ---- assets ----

function signedAssetUrl(ctx: ApiContext, assetId: string): string {
  const path = `/cdn/assets/${assetId}`;
  const now = ctx.now();
  return `${ctx.origin()}${path}?${ctx.assetSigner.sign(path, rollingExpiry(now))}`;
}

function videoAssetToWire(ctx: ApiContext, job: SimJob): Record<string, unknown> | null {
  const input = job.input;
  const clip = ctx.media.clipFor(String(input.size ?? '1280*720'), Number(input.duration ?? 5));
  if (!clip) return null;
  const finishedAt = new Date(job.createdAt + job.lengthMs).toISOString();
  return {
    id: job.videoAssetId,
    kind: 'video',
    mimeType: 'video/mp4',
    status: 'success',
    url: signedAssetUrl(ctx, job.videoAssetId),
    properties: {
      size: clip.bytes.length,
      width: clip.width,
      height: clip.height,
      duration: clip.duration,
      frameRate: clip.frameRate,
      nbFrames: clip.nbFrames,
      codecName: clip.codecName,
    },
    // Thumbnails are public on Scenario's CDN (SCENARIO-API.md §5.2): no signature.
    thumbnail: { assetId: job.thumbnailAssetId, url: `${ctx.origin()}/cdn/thumbnails/${job.videoAssetId}.jpg` },
    metadata: {
      kind: 'video',
      type: 'txt2video',
      modelId: ctx.settings.modelId,
      prompt: input.prompt,
      ...(input.negativePrompt !== undefined ? { negativePrompt: input.negativePrompt } : {}),
      ...(input.seed !== undefined ? { seed: input.seed } : {}),
      size: input.size ?? '1280*720',
      width: clip.width,
      height: clip.height,
      parentJobId: job.jobId,
    },
    source: 'txt2video',
    privacy: 'private',
    ownerId: job.ownerId,
    authorId: job.authorId,
    tags: [],
    collectionIds: [],
    editCapabilities: [],
    outputIndex: 0,
    createdAt: finishedAt,
    updatedAt: finishedAt,
  };
}

function audioAssetToWire(ctx: ApiContext, asset: SimAudioAsset): Record<string, unknown> {
  const at = new Date(asset.createdAt).toISOString();
  return {
    id: asset.id,
    kind: 'audio',
    mimeType: asset.mimeType,
    status: 'success',
    url: signedAssetUrl(ctx, asset.id),
    // The simulator does not decode audio, so it reports no duration.
    properties: { size: asset.bytes.length },
    metadata: { kind: 'audio', type: 'uploaded-audio', name: asset.fileName },
    source: 'uploaded-audio',
    privacy: 'private',
    ownerId: ctx.ownerId,
    tags: [],
    collectionIds: [],
    editCapabilities: [],
    createdAt: at,
    updatedAt: at,
  };
}

function getAsset(ctx: ApiContext, req: ApiRequest): Reply {
  const id = req.params[0]!;
  const job = ctx.state.videoAssetJob(id, ctx.now());
  const video = job ? videoAssetToWire(ctx, job) : null;
  if (video) return ok({ asset: video });
  const audio = ctx.state.audio.get(id);
  return audio ? ok({ asset: audioAssetToWire(ctx, audio) }) : refuse(404, 'Asset not found');
}

function cdnAsset(ctx: ApiContext, req: ApiRequest): Reply {
  const id = req.params[0]!;
  if (!ctx.assetSigner.verify(req.path, req.query, ctx.now())) return accessDenied();
  const job = ctx.state.videoAssetJob(id, ctx.now());
  const clip = job ? ctx.media.clipFor(String(job.input.size ?? '1280*720'), Number(job.input.duration ?? 5)) : null;
  const file = clip ?? ctx.state.audio.get(id) ?? null;
  if (!file) return { status: 404, contentType: 'text/plain', body: 'Not Found' };
  return { status: 200, body: file.bytes, contentType: file.mimeType, headers: { 'cache-control': 'private, max-age=86400' } };
}

function cdnThumbnail(ctx: ApiContext, req: ApiRequest): Reply {
  const job = ctx.state.videoAssetJob(req.params[0]!, ctx.now());
  const clip = job ? ctx.media.clipFor(String(job.input.size ?? '1280*720'), Number(job.input.duration ?? 5)) : null;
  if (!clip) return { status: 404, contentType: 'text/plain', body: 'Not Found' };
  return { status: 200, body: clip.thumbnail.bytes, contentType: 'image/jpeg' };
}

// ---- uploads ----

function uploadWire(ctx: ApiContext, upload: SimUpload): Record<string, unknown> {
  const expiresAt = upload.createdAt + PART_URL_TTL_MS;
  return uploadToWire(upload, (partNumber) => {
    const path = `/s3/uploads/${upload.id}/${partNumber}`;
    return { url: `${ctx.origin()}${path}?${ctx.partSigner.sign(path, expiresAt)}`, expires: new Date(expiresAt).toISOString() };
  });
}

async function uploadCreate(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  const request = checkUploadRequest(await req.json());
  if (typeof request === 'string') return refuse(400, request);
  const now = ctx.now();
  const upload: SimUpload = {
    ...request,
    id: scenarioId('upload'),
    jobId: scenarioId('job'),
    parts: new Map(),
    status: 'pending',
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    entityId: null,
    errorMessage: null,
  };
  ctx.state.addUpload(upload);
  return ok({ upload: uploadWire(ctx, upload) });
}

async function uploadPart(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  // S3 refuses a presigned request that also carries an Authorization header.
  if (req.headers.authorization) return { status: 400, contentType: 'text/xml', body: '<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>' };
  if (!ctx.partSigner.verify(req.path, req.query, ctx.now())) return accessDenied();
  const upload = ctx.state.uploads.get(req.params[0]!);
  if (!upload) return { status: 404, contentType: 'text/plain', body: 'NoSuchUpload' };
  const bytes = await req.body(MAX_UPLOAD_BYTES);
  if (!ctx.state.makeRoom(bytes.length)) return refuse(503, 'Simulator storage is full');
  const problem = putUploadPart(upload, Number(req.params[1]), bytes, ctx.now());
  if (problem) return { status: 400, contentType: 'text/plain', body: problem };
  return { status: 200, body: '', headers: { etag: `"${createHash('md5').update(bytes).digest('hex')}"` } };
}

async function uploadComplete(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  const body = await req.json();
  const upload = ctx.state.uploads.get(req.params[0]!);
  if (!upload) return refuse(404, 'Upload not found');
  if (body.action !== 'complete') return refuse(400, `Unsupported action ${String(body.action)}`);
  const problem = completeUpload(upload, ctx.now());
  return problem ? refuse(400, problem) : ok({ upload: uploadWire(ctx, upload) });
}

function uploadGet(ctx: ApiContext, req: ApiRequest): Reply {
  const upload = ctx.state.uploads.get(req.params[0]!);
  if (!upload) return refuse(404, 'Upload not found');
  settleUpload(upload, ctx.now(), ctx.settings.uploadImportMs, (bytes) => {
    const id = scenarioId('asset');
    ctx.state.makeRoom(bytes.length);
    ctx.state.audio.set(id, { id, uploadId: upload.id, fileName: upload.fileName, mimeType: upload.contentType, bytes, createdAt: ctx.now() });
    return id;
  });
  return ok({ upload: uploadWire(ctx, upload) });
}

const ID = '([A-Za-z0-9_-]{1,100})';

export const ROUTES: Route[] = [
  { route: 'submit', method: 'POST', pattern: new RegExp(`^/v1/generate/custom/${ID}$`), auth: true, handler: submit },
  { route: 'listJobs', method: 'GET', pattern: /^\/v1\/jobs$/, auth: true, handler: listJobs },
  { route: 'getJob', method: 'GET', pattern: new RegExp(`^/v1/jobs/${ID}$`), auth: true, handler: getJob },
  { route: 'cancel', method: 'POST', pattern: new RegExp(`^/v1/jobs/${ID}/action$`), auth: true, handler: cancel },
  { route: 'getAsset', method: 'GET', pattern: new RegExp(`^/v1/assets/${ID}$`), auth: true, handler: getAsset },
  { route: 'uploadCreate', method: 'POST', pattern: /^\/v1\/uploads$/, auth: true, handler: uploadCreate },
  { route: 'uploadGet', method: 'GET', pattern: new RegExp(`^/v1/uploads/${ID}$`), auth: true, handler: uploadGet },
  { route: 'uploadComplete', method: 'POST', pattern: new RegExp(`^/v1/uploads/${ID}/action$`), auth: true, handler: uploadComplete },
  { route: 'uploadPart', method: 'PUT', pattern: new RegExp(`^/s3/uploads/${ID}/(\\d{1,5})$`), auth: false, handler: uploadPart },
  { route: 'download', method: 'GET', pattern: new RegExp(`^/cdn/assets/${ID}$`), auth: false, handler: cdnAsset },
  { route: 'thumbnail', method: 'GET', pattern: new RegExp(`^/cdn/thumbnails/${ID}\\.jpg$`), auth: false, handler: cdnThumbnail },
];

export function matchRoute(method: string, path: string): { route: Route; params: string[] } | null {
  for (const route of ROUTES) {
    const match = route.method === method ? route.pattern.exec(path) : null;
    if (match) return { route, params: match.slice(1) };
  }
  return null;
}
