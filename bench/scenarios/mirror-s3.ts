// mirror-s3 (issue 13): mirroring a 50 MiB video into the bucket. The gateway's real path, ScenarioClient.download
// of an HTTP URL consumed by S3MediaStorage.put (a multipart upload into a staging object, a read-back of it for its
// size and sha256, a server-side copy onto the key, a delete of the staging object), against s3rver. Goals: peak RSS
// growth of the mirroring process ≤ 32 MiB (it streams), and throughput ≥ 0.5 × copying the same bytes between two
// local files in the same process and run.
//
// Three processes, so that the RSS measured is the mirror's alone: this one (load core) generates the file once and
// serves it over node:http; s3rver (bench/lib/s3-server.ts, load core) is the bucket; each run is a fresh
// bench/lib/mirror-process.ts (server core) that warms up, mirrors the file once (the worst case for memory: nothing
// large allocated before), copies it locally (the baseline) and mirrors it again (warm, as in a running gateway: the
// mirror timed against the copy). Memory is the kernel's peak RSS of each mirror (and, for the first, 10 ms samples)
// over the RSS after a full GC. The median of the runs is kept; the phases come from the requests themselves.
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, openSync, writeSync, closeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Cleanup } from '../lib/cleanup.ts';
import type { MemoryPeak, MirrorConfig, MirrorRunResult, RequestRecord } from '../lib/mirror-process.ts';
import { spawnNode, LOAD_CORE, SERVER_CORE } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import type { Scenario, ScenarioContext } from './context.ts';

const MiB = 2 ** 20;
const VIDEO_BYTES = 50 * MiB;
/** Enough for the warm-up to load the SDK and open connections, small enough to leave no large buffers behind. */
const WARM_BYTES = 1 * MiB;
const RATIO_GOAL = 0.5;
const RSS_GOAL_MIB = 32;
const RUN_TIMEOUT_MS = 180_000;

/** Random bytes (a video does not compress either), written once; returns their sha256. */
function writeRandomFile(path: string, bytes: number): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(MiB);
  const fd = openSync(path, 'wx');
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - written));
      randomFillSync(part);
      hash.update(part);
      writeSync(fd, part);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Upstream's CDN: each file streamed from disk with its Content-Length, as a signed URL answers. */
async function serveFiles(files: Record<string, { path: string; bytes: number }>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (req.method !== 'GET' || !file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': file.bytes });
    pipeline(createReadStream(file.path), res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function startS3rver(ctx: ScenarioContext): Promise<{ stop: () => Promise<void>; pid: number; s3: MirrorConfig['s3'] }> {
  // BENCH_CPU_PROF: s3rver's whole life, which is mostly the mirrors (the warm-ups are 1 MiB each). Node names the
  // file by pid and thread: tsx's loader thread writes one too, the main thread's is the larger.
  const profile = process.env.BENCH_CPU_PROF;
  const child = spawnNode('bench/lib/s3-server.ts', [], {
    core: LOAD_CORE,
    ipc: true,
    nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
  });
  try {
    const line = await child.waitForOutput(/^\{"s3":.*\}$/m, 30_000, 's3rver ready');
    if (profile) ctx.log(`s3rver (pid ${child.pid}) writes its CPU profile to ${profile} when it stops`);
    return { stop: () => child.stop('SIGTERM', 10_000), pid: child.pid, s3: (JSON.parse(line[0]) as { s3: MirrorConfig['s3'] }).s3 };
  } catch (error) {
    child.signal('SIGKILL');
    throw error;
  }
}

async function mirrorRun(config: MirrorConfig): Promise<MirrorRunResult> {
  const child = spawnNode('bench/lib/mirror-process.ts', [], {
    core: SERVER_CORE,
    ipc: true,
    nodeArgs: ['--expose-gc'],
    env: { MIRROR_CONFIG: JSON.stringify(config) },
  });
  try {
    const message = await child.waitForMessage<MirrorRunResult | { type: 'failed'; error: string }>(
      (m) => m?.type === 'result' || m?.type === 'failed',
      RUN_TIMEOUT_MS,
      `mirror run ${config.run}`,
    );
    if (message.type === 'failed') throw new Error(`mirror run ${config.run}: ${message.error}`);
    return message;
  } finally {
    await child.stop('SIGTERM', 5_000);
  }
}

/** Where the mirror's time went, in ms from its start, from the requests it made (bench/lib/mirror-process.ts). */
function phasesOf(requests: RequestRecord[], totalMs: number) {
  const first = (kind: RequestRecord['kind']) => requests.find((r) => r.kind === kind);
  const ended = (r: RequestRecord | undefined) => (r ? (r.end ?? r.headers ?? totalMs) : 0);
  const span = (r: RequestRecord | undefined) => (r ? ended(r) - r.start : 0);
  const parts = requests.filter((r) => r.kind === 'part');
  const complete = first('complete');
  return {
    /** The download's body has ended. */
    downloadEnd: ended(first('download')),
    /** CompleteMultipartUpload has answered: everything streamed is stored (as a staging object). */
    uploadEnd: ended(complete),
    parts: parts.length,
    /** UploadPart request → s3rver's answer (it has written the part), mean. */
    partMs: parts.length ? parts.reduce((sum, r) => sum + span(r), 0) / parts.length : 0,
    /** s3rver joining the parts into one object. */
    completeMs: span(complete),
    headMs: span(first('head')),
    /** The read-back of the staging object, hashed. */
    verifyMs: span(first('verify')),
    copyMs: span(first('copy')),
    deleteMs: span(first('delete')),
    afterUploadMs: totalMs - ended(complete),
  };
}

type Phases = ReturnType<typeof phasesOf>;

const mibPerSecond = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);
const mib = (bytes: number) => bytes / MiB;
/** The peak of an operation: the kernel's high-water mark where it could be reset, else the highest 10 ms sample. */
const peakGrowth = (memory: MemoryPeak) => Math.max(memory.sampledGrowth, memory.hwmGrowth ?? 0);
/** The mirror of a run whose RSS grew most, nearly always the first (cold) one. */
const worstMirror = (run: MirrorRunResult) => (peakGrowth(run.first.memory) >= peakGrowth(run.mirror.memory) ? run.first.memory : run.mirror.memory);
const medianOf = <T>(items: T[], pick: (item: T) => number) => median(items.map(pick));
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export const mirrorS3: Scenario = async (ctx) => {
  const cleanup = new Cleanup(ctx.log);
  try {
    const dir = ctx.tempDir('mirror-s3');
    const sourcePath = join(dir, 'video.mp4');
    const warmPath = join(dir, 'warm.mp4');
    const sha256 = writeRandomFile(sourcePath, VIDEO_BYTES);
    writeRandomFile(warmPath, WARM_BYTES);
    ctx.log(`generated ${VIDEO_BYTES / MiB} MiB of random bytes (sha256 ${sha256.slice(0, 12)}…)`);

    const files = await serveFiles({ '/video.mp4': { path: sourcePath, bytes: VIDEO_BYTES }, '/warm.mp4': { path: warmPath, bytes: WARM_BYTES } });
    cleanup.defer('file server', () => new Promise<void>((resolve) => {
      files.server.close(() => resolve());
      files.server.closeAllConnections();
    }));
    const s3rver = await startS3rver(ctx);
    cleanup.defer('s3rver', () => s3rver.stop());
    ctx.log(`s3rver at ${s3rver.s3.endpoint} (pid ${s3rver.pid}), file server at ${files.url}`);

    const runs: Array<MirrorRunResult & { phases: Phases }> = [];
    for (let run = 1; run <= ctx.runs; run++) {
      const result = await mirrorRun({
        run,
        url: `${files.url}/video.mp4`,
        warmUrl: `${files.url}/warm.mp4`,
        sourcePath,
        warmPath,
        copyDir: dir,
        bytes: VIDEO_BYTES,
        sha256,
        s3: s3rver.s3,
        s3rverPid: s3rver.pid,
        fileServerPid: process.pid,
        profileDir: process.env.BENCH_CPU_PROF || null,
      });
      const phases = phasesOf(result.mirror.requests, result.mirror.ms);
      runs.push({ ...result, phases });
      const { mirror, baseline, first } = result;
      ctx.log(
        `run ${run}: copy ${Math.round(baseline.ms)} ms (${mibPerSecond(VIDEO_BYTES, baseline.ms).toFixed(0)} MiB/s); ` +
          `mirror ${Math.round(mirror.ms)} ms (${mibPerSecond(VIDEO_BYTES, mirror.ms).toFixed(1)} MiB/s): upload done at ${Math.round(phases.uploadEnd)} ms ` +
          `(download ended ${Math.round(phases.downloadEnd)}, ${phases.parts} parts ~${Math.round(phases.partMs)} ms, complete ${Math.round(phases.completeMs)}), ` +
          `verify ${Math.round(phases.verifyMs)}, copy ${Math.round(phases.copyMs)}, delete ${Math.round(phases.deleteMs)}; ` +
          `RSS +${mib(peakGrowth(first.memory)).toFixed(1)} MiB in the first mirror (${Math.round(first.ms)} ms, peak at ${Math.round(first.memory.peakAtMs)} ms, ` +
          `array buffers ${mib(first.memory.atPeak.arrayBuffers).toFixed(1)} MiB there), +${mib(peakGrowth(mirror.memory)).toFixed(1)} in the second, ` +
          `+${mib(peakGrowth(baseline.memory)).toFixed(1)} in the copy; ` +
          `CPU mirror ${Math.round(mirror.cpuMs.mirror)} ms, s3rver ${mirror.cpuMs.s3rver ?? '?'} ms, file server ${mirror.cpuMs.fileServer ?? '?'} ms` +
          (mirror.profile ? `; profile ${mirror.profile}` : ''),
      );
    }

    const ratios = runs.map((r) => r.baseline.ms / r.mirror.ms);
    const ratio = median(ratios);
    const growthRuns = runs.map((r) => mib(peakGrowth(worstMirror(r))));
    const growth = median(growthRuns);
    const mirrorRate = runs.map((r) => mibPerSecond(VIDEO_BYTES, r.mirror.ms));
    const copyRate = runs.map((r) => mibPerSecond(VIDEO_BYTES, r.baseline.ms));
    const phase = (pick: (p: Phases) => number) => Math.round(medianOf(runs, (r) => pick(r.phases)));
    const mirrorMs = medianOf(runs, (r) => r.mirror.ms);
    const cpu = (pick: (c: MirrorRunResult['mirror']['cpuMs']) => number | null) => {
      const values = runs.map((r) => pick(r.mirror.cpuMs)).filter((v): v is number => v !== null);
      return values.length ? Math.round(median(values)) : null;
    };
    const firstAtPeak = (pick: (m: MemoryPeak['atPeak']) => number) => round(mib(medianOf(runs, (r) => pick(r.first.memory.atPeak))));
    const hwmKnown = runs.every((r) => r.first.memory.hwmGrowth !== null && r.mirror.memory.hwmGrowth !== null);

    return {
      figures: [
        {
          measure: `mirror ${VIDEO_BYTES / MiB} MiB into the bucket (download → S3MediaStorage.put on s3rver) ÷ local file copy, throughput`,
          value: round(ratio, 3),
          unit: '×',
          baseline: `the same file copied by a stream pipeline in the same process: ${round(median(copyRate), 0)} MiB/s; mirror ${round(median(mirrorRate))} MiB/s`,
          goal: `≥ ${RATIO_GOAL}`,
          met: ratio >= RATIO_GOAL,
          runs: ratios.map((r) => round(r, 3)),
        },
        {
          measure: `peak RSS growth of the mirroring process, ${VIDEO_BYTES / MiB} MiB mirror (the higher of a fresh process's first and second)`,
          value: round(growth),
          unit: 'MiB',
          baseline: `over its RSS after a full GC (${round(mib(medianOf(runs, (r) => r.first.memory.rssBefore)), 0)} MiB before the first); the second mirror alone +${round(mib(medianOf(runs, (r) => peakGrowth(r.mirror.memory))))} MiB; the local copy +${round(mib(medianOf(runs, (r) => peakGrowth(r.baseline.memory))))} MiB`,
          goal: `≤ ${RSS_GOAL_MIB} MiB`,
          met: growth <= RSS_GOAL_MIB,
          runs: growthRuns.map((g) => round(g)),
        },
        {
          measure: `mirror throughput, ${VIDEO_BYTES / MiB} MiB (download, multipart upload, read-back, server-side copy)`,
          value: round(median(mirrorRate)),
          unit: 'MiB/s',
          baseline: `${Math.round(mirrorMs)} ms per mirror`,
          goal: 'none: context for the ratio',
          met: null,
          runs: mirrorRate.map((r) => round(r)),
        },
        {
          measure: `local file copy throughput, same ${VIDEO_BYTES / MiB} MiB file (fs stream pipeline)`,
          value: round(median(copyRate), 0),
          unit: 'MiB/s',
          baseline: `${Math.round(medianOf(runs, (r) => r.baseline.ms))} ms per copy`,
          goal: 'none: the baseline of the ratio',
          met: null,
          runs: copyRate.map((r) => round(r, 0)),
        },
      ],
      notes: [
        `Where a mirror's ${Math.round(mirrorMs)} ms went (medians, ms from its start): the download's body ended at ${phase((p) => p.downloadEnd)} and the multipart upload into the staging object was complete at ${phase((p) => p.uploadEnd)} (${phase((p) => p.parts)} parts of 8 MiB, ~${phase((p) => p.partMs)} ms each from request to s3rver's answer, 2 in flight; CompleteMultipartUpload ${phase((p) => p.completeMs)} ms, s3rver joining the parts); then HEAD ${phase((p) => p.headMs)}, the read-back for the sha256 ${phase((p) => p.verifyMs)}, CopyObject onto the key ${phase((p) => p.copyMs)}, DELETE of the staging object ${phase((p) => p.deleteMs)}: ${phase((p) => p.afterUploadMs)} ms after the upload.`,
        `CPU during the mirror (medians): the mirroring process ${cpu((c) => c.mirror)} ms (server core), s3rver ${cpu((c) => c.s3rver) ?? 'n/a'} ms and the bench serving the file ${cpu((c) => c.fileServer) ?? 'n/a'} ms (both on the load core).`,
        `At the highest RSS sample of the first mirror (medians): array buffers (live Buffers and those not yet collected) ${firstAtPeak((m) => m.arrayBuffers)} MiB, V8 heap used ${firstAtPeak((m) => m.heapUsed)} of ${firstAtPeak((m) => m.heapTotal)} MiB. ` +
          (hwmKnown
            ? `The peak is the kernel's VmHWM (reset through /proc/self/clear_refs before each mirror), which no sampling misses; the first mirror is also sampled every 10 ms (the timed one is not: reading RSS that often costs a few % of its time), its highest samples: ${runs.map((r) => round(mib(r.first.memory.sampledGrowth))).join(', ')} MiB, at ${runs.map((r) => Math.round(r.first.memory.peakAtMs)).join(', ')} ms of ${runs.map((r) => Math.round(r.first.ms)).join(', ')} ms.`
            : 'The peak is the highest 10 ms sample (the kernel high-water mark could not be reset here).'),
        `The file is ${VIDEO_BYTES / MiB} MiB of random bytes, served by this process over node:http with its Content-Length; MiB = 2^20 bytes. Each run is a fresh mirroring process that first mirrors and copies a ${WARM_BYTES / MiB} MiB file unmeasured (SDK loaded, connections open), then mirrors the video twice; the second mirror is the one timed, right after the copy. Neither side fsyncs: s3rver writes to its directory under /tmp as the copy does.`,
        "\"Mirroring\" is all of S3MediaStorage.put, as the engine waits for it: besides streaming the bytes in, it reads the staging object back to check its size and sha256 and copies it server-side onto the key (CONTRACT §10), so s3rver writes and reads the bytes several times for the copy's one read and one write.",
      ],
      details: {
        bytes: VIDEO_BYTES,
        profiled: Boolean(process.env.BENCH_CPU_PROF),
        // The 10 ms timelines stay out of latest.json: hundreds of samples per mirror.
        runs: runs.map((r) => ({
          baseline: { ms: r.baseline.ms, memory: { ...r.baseline.memory, timeline: undefined } },
          first: { ms: r.first.ms, memory: { ...r.first.memory, timeline: undefined } },
          mirror: { ...r.mirror, memory: { ...r.mirror.memory, timeline: undefined }, requests: undefined },
          phases: r.phases,
        })),
      },
    };
  } finally {
    await cleanup.run();
  }
};
