// One run of the mirror-s3 scenario (bench/scenarios/mirror-s3.ts) in a fresh process of its own, so that its RSS is
// the mirroring's alone: the file's HTTP server is the bench process and the bucket (s3rver) another one. Started
// with --expose-gc and MIRROR_CONFIG (JSON, MirrorConfig below); sends one IPC message `{type: 'result', ...}`
// (MirrorRunResult) or `{type: 'failed', error}` and exits.
//
// The mirror is the gateway's own path, ScenarioClient.download consumed by S3MediaStorage.put, as storeDownload in
// src/engine/mirror.ts does it. In order: an unmeasured warm-up (a small mirror, which loads the SDK and opens the
// connections, and a small copy); the first mirror of the video, in a process that has not yet held large buffers
// (the worst case for memory); the baseline (the same file copied between two local files with a stream pipeline);
// and a second mirror, with the multipart code paths warm as in a running gateway, which is the one timed against
// the baseline. Each starts just after a full GC and ends with the kernel's own peak RSS (VmHWM, reset through
// /proc/self/clear_refs before it), which no sampling interval can miss; during the first mirror RSS is also sampled
// every 10 ms, which says when the peak came and what it was made of (the timed operations are not sampled).
import { subscribe } from 'node:diagnostics_channel';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaKeys } from '../../src/media/storage/index.ts';
import { S3MediaStorage } from '../../src/media/storage/s3.ts';
import { ScenarioClient } from '../../src/scenario/client.ts';
import { cpuTimeMsOf } from './proc.ts';

export interface MirrorConfig {
  run: number;
  /** The video, and a small file for the warm-up, on the bench's HTTP server. */
  url: string;
  warmUrl: string;
  /** The same video on disk, for the baseline copy, and where the copies go. */
  sourcePath: string;
  warmPath: string;
  copyDir: string;
  bytes: number;
  sha256: string;
  s3: { endpoint: string; bucket: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Processes whose CPU during the mirror is reported beside this one's. */
  s3rverPid: number;
  fileServerPid: number;
  /** BENCH_CPU_PROF: a V8 CPU profile of the measured mirror alone is written there. */
  profileDir: string | null;
}

export interface MemoryPeak {
  /** RSS after a full GC, just before the operation. */
  rssBefore: number;
  /** Highest 10 ms sample of RSS − rssBefore (with `sample: false`, only the one taken at the end). */
  sampledGrowth: number;
  /** Kernel high-water mark − rssBefore; null where /proc/self/clear_refs cannot reset it. */
  hwmGrowth: number | null;
  /** process.memoryUsage() at the highest sample: what the peak is made of. */
  atPeak: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** When the highest sample was taken, in ms from the start of the operation. */
  peakAtMs: number;
  /** process.memoryUsage() just before the operation, after the GC. */
  before: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** Every sample: [ms, rss], for finding when RSS moves. */
  timeline: Array<[number, number]>;
}

/** One HTTP request the mirror made, in ms from the start of the put. */
export interface RequestRecord {
  kind: 'download' | 'create' | 'part' | 'complete' | 'head' | 'verify' | 'copy' | 'delete' | 'other';
  start: number;
  /** Response headers arrived (for a part: s3rver has stored it). */
  headers: number | null;
  /** Response body ended. */
  end: number | null;
}

export interface MirrorRunResult {
  type: 'result';
  baseline: { ms: number; memory: MemoryPeak };
  /** The first mirror of the video in this process. */
  first: { ms: number; memory: MemoryPeak };
  /** The second, timed against the baseline. */
  mirror: {
    ms: number;
    memory: MemoryPeak;
    requests: RequestRecord[];
    /** CPU during the mirror: this process, s3rver, the bench process serving the file. */
    cpuMs: { mirror: number; s3rver: number | null; fileServer: number | null };
    profile: string | null;
  };
}

const config = JSON.parse(process.env.MIRROR_CONFIG ?? 'null') as MirrorConfig;
const gc = (globalThis as { gc?: () => void }).gc;
if (!config || !gc) throw new Error('mirror-process: needs MIRROR_CONFIG and --expose-gc');

const SAMPLE_INTERVAL_MS = 10;

function vmHwm(): number | null {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb ? Number(kb) * 1024 : null;
}

/**
 * Peak RSS growth while `operation` runs, over the RSS after a full GC just before it. Reading RSS 100 times a second
 * costs the process a few % of a mirror's time (/proc reads contend with the threads mapping memory), so a timed
 * operation passes `sample: false` and has only the kernel's high-water mark, where it can be reset.
 */
async function withPeakRss<T>(operation: () => Promise<T>, { sample: sampling = true } = {}): Promise<{ value: T; memory: MemoryPeak }> {
  // Two passes: the first may only queue finalizers.
  gc!();
  gc!();
  const usageBefore = process.memoryUsage();
  const rssBefore = usageBefore.rss;
  let hwmReset = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // 5: reset the peak RSS to the current RSS
    hwmReset = true;
  } catch {
    // an older kernel or a locked /proc: the samples alone
  }
  let atPeak = usageBefore;
  let peakAtMs = 0;
  const timeline: MemoryPeak['timeline'] = [];
  const started = performance.now();
  // rss() alone is cheap; the full memoryUsage() (heap statistics) costs enough to slow the mirror measurably if taken
  // every 10 ms, so it is taken only at a new peak.
  const sample = () => {
    const rss = process.memoryUsage.rss();
    const at = performance.now() - started;
    timeline.push([Math.round(at), rss]);
    if (rss > atPeak.rss) {
      atPeak = { ...process.memoryUsage(), rss };
      peakAtMs = at;
    }
  };
  const timer = sampling || !hwmReset ? setInterval(sample, SAMPLE_INTERVAL_MS) : null;
  try {
    const value = await operation();
    sample();
    const hwm = hwmReset ? vmHwm() : null;
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = atPeak;
    return {
      value,
      memory: {
        rssBefore,
        sampledGrowth: Math.max(0, rss - rssBefore),
        hwmGrowth: hwm === null ? null : Math.max(0, hwm - rssBefore),
        atPeak: { rss, heapTotal, heapUsed, external, arrayBuffers },
        peakAtMs,
        before: { heapTotal: usageBefore.heapTotal, heapUsed: usageBefore.heapUsed, external: usageBefore.external, arrayBuffers: usageBefore.arrayBuffers },
        timeline,
      },
    };
  } finally {
    if (timer) clearInterval(timer);
  }
}

/**
 * Every request of the mirror, from Node's diagnostics channels: http.* for the SDK (node:http), undici:* for the
 * download (fetch). Observation only; nothing in the path changes.
 */
class RequestLog {
  readonly records: RequestRecord[] = [];
  #origin = 0;
  #recording = false;
  readonly #byHttpRequest = new WeakMap<ClientRequest, RequestRecord>();
  readonly #byUndiciRequest = new WeakMap<object, RequestRecord>();

  constructor() {
    const now = () => performance.now() - this.#origin;
    subscribe('http.client.request.start', (message) => {
      if (!this.#recording) return;
      const request = (message as { request: ClientRequest }).request;
      const record: RequestRecord = { kind: s3Kind(request), start: now(), headers: null, end: null };
      this.records.push(record);
      this.#byHttpRequest.set(request, record);
    });
    subscribe('http.client.response.finish', (message) => {
      const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
      const record = this.#byHttpRequest.get(request);
      if (!record) return;
      record.headers = now();
      response.once('end', () => (record.end = now()));
    });
    subscribe('undici:request:create', (message) => {
      if (!this.#recording) return;
      const record: RequestRecord = { kind: 'download', start: now(), headers: null, end: null };
      this.records.push(record);
      this.#byUndiciRequest.set((message as { request: object }).request, record);
    });
    subscribe('undici:request:headers', (message) => {
      const record = this.#byUndiciRequest.get((message as { request: object }).request);
      if (record) record.headers = now();
    });
    subscribe('undici:request:trailers', (message) => {
      const record = this.#byUndiciRequest.get((message as { request: object }).request);
      if (record) record.end = now();
    });
  }

  start(): void {
    this.records.length = 0;
    this.#origin = performance.now();
    this.#recording = true;
  }

  stop(): RequestRecord[] {
    this.#recording = false;
    return [...this.records];
  }
}

/** Which step of S3MediaStorage.put a request to the bucket is (path-style, so the query and method say it). */
function s3Kind(request: ClientRequest): RequestRecord['kind'] {
  const query = request.path.split('?')[1] ?? '';
  const has = (name: string) => new URLSearchParams(query).has(name);
  switch (request.method) {
    case 'POST':
      return has('uploads') ? 'create' : has('uploadId') ? 'complete' : 'other';
    case 'PUT':
      return has('partNumber') ? 'part' : request.getHeader('x-amz-copy-source') ? 'copy' : 'other';
    case 'HEAD':
      return 'head';
    case 'GET':
      return 'verify';
    case 'DELETE':
      return 'delete';
    default:
      return 'other';
  }
}

/** The operation's wall time, apart from the GC and profiler set-up around it. */
async function timed<T>(operation: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await operation();
  return { value, ms: performance.now() - started };
}

async function copyFile(from: string, to: string): Promise<void> {
  await pipeline(createReadStream(from), createWriteStream(to));
}

/** BENCH_CPU_PROF: a profile of `operation` alone (the inspector's, not --cpu-prof's whole life with its warm-ups). */
async function profiled<T>(name: string, operation: () => Promise<T>): Promise<{ value: T; profile: string | null }> {
  if (!config.profileDir) return { value: await operation(), profile: null };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    const value = await operation();
    const { profile } = await session.post('Profiler.stop');
    const file = join(config.profileDir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return { value, profile: file };
  } finally {
    session.disconnect();
  }
}

const storage = new S3MediaStorage({ ...config.s3, forcePathStyle: true });
const client = new ScenarioClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'unused', apiSecret: 'unused' });
// The engine's storeDownload, whose key is a job output's.
const mirror = (url: string, key: string) => client.download(url, ({ chunks }) => storage.put(key, chunks));
const log = new RequestLog();

/** Throws unless the put reported, and the bucket holds, exactly the file; then removes the object. */
async function checkStored(key: string, stored: { bytes: number; sha256: string }): Promise<void> {
  if (stored.bytes !== config.bytes || stored.sha256 !== config.sha256) {
    throw new Error(`stored ${stored.bytes} bytes with sha256 ${stored.sha256}; the file has ${config.bytes}, ${config.sha256}`);
  }
  const stat = await storage.stat(key);
  if (stat?.size !== config.bytes || stat.sha256 !== config.sha256) throw new Error(`the bucket says ${JSON.stringify(stat)} for ${key}`);
  await storage.remove(key);
}

/** The mirror timed, with its requests and the CPU of the three processes involved over exactly that time. */
async function measuredMirror(key: string) {
  const otherCpu = () => ({ s3rver: cpuTimeMsOf(config.s3rverPid), fileServer: cpuTimeMsOf(config.fileServerPid) });
  const before = otherCpu();
  const ownBefore = process.cpuUsage();
  log.start();
  const { value: stored, ms } = await timed(() => mirror(config.url, key));
  const requests = log.stop();
  const own = process.cpuUsage(ownBefore);
  const after = otherCpu();
  const difference = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
  return {
    stored,
    ms,
    requests,
    cpuMs: {
      mirror: (own.user + own.system) / 1000,
      s3rver: difference(before.s3rver, after.s3rver),
      fileServer: difference(before.fileServer, after.fileServer),
    },
  };
}

try {
  const warmKey = mediaKeys.video(`bench-warm-${process.pid}`, 0);
  await mirror(config.warmUrl, warmKey);
  await storage.remove(warmKey);
  const warmCopy = join(config.copyDir, `warm-${process.pid}`);
  await copyFile(config.warmPath, warmCopy);
  await rm(warmCopy);

  const firstKey = mediaKeys.video(`bench-run-${config.run}-${process.pid}`, 0);
  const first = await withPeakRss(() => timed(() => mirror(config.url, firstKey)));
  await checkStored(firstKey, first.value.value);

  const copy = join(config.copyDir, `copy-${process.pid}`);
  const baseline = await withPeakRss(() => timed(() => copyFile(config.sourcePath, copy)), { sample: false });
  await rm(copy);

  const key = mediaKeys.video(`bench-run-${config.run}-${process.pid}`, 1);
  const { value: measured, profile } = await profiled(`mirror-s3-put-run${config.run}-${process.pid}`, () =>
    withPeakRss(() => measuredMirror(key), { sample: false }),
  );
  await checkStored(key, measured.value.stored);

  const result: MirrorRunResult = {
    type: 'result',
    baseline: { ms: baseline.value.ms, memory: baseline.memory },
    first: { ms: first.value.ms, memory: first.memory },
    mirror: {
      ms: measured.value.ms,
      memory: measured.memory,
      requests: measured.value.requests,
      cpuMs: measured.value.cpuMs,
      profile,
    },
  };
  process.send!(result, () => process.exit(0));
} catch (error) {
  process.send!({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1));
} finally {
  storage.close();
}
