// Everything the simulator remembers, with bounds: the oldest finished jobs, uploads and audio files are forgotten
// first, so a long-running simulator (npm run simulator under a load test) keeps a flat memory profile.
import { jobStateAt, jobToWire, type SimJob } from './jobs.ts';
import type { SimUpload } from './uploads.ts';

const MAX_JOBS = 10_000;
const MAX_UPLOADS = 200;
/** Bytes of uploaded audio kept (imported assets and parts not yet imported). */
const MAX_STORED_BYTES = 128 * 1024 * 1024;

export interface SimAudioAsset {
  id: string;
  uploadId: string;
  fileName: string;
  mimeType: string;
  bytes: Buffer;
  createdAt: number;
}

export class SimulatorState {
  readonly jobs = new Map<string, SimJob>();
  readonly uploads = new Map<string, SimUpload>();
  readonly audio = new Map<string, SimAudioAsset>();
  /** Video asset id → its job (the asset is derived from the job and exists once the job succeeded). */
  readonly #videoAssets = new Map<string, SimJob>();
  #seq = 0;

  nextSeq(): number {
    return ++this.#seq;
  }

  addJob(job: SimJob, now: number): void {
    this.jobs.set(job.jobId, job);
    this.#videoAssets.set(job.videoAssetId, job);
    if (this.jobs.size <= MAX_JOBS) return;
    // Map order is creation order: forget the oldest finished job (unfinished ones are bounded by the concurrency cap).
    for (const old of this.jobs.values()) {
      if (jobStateAt(old, now).terminal || old.behaviour.lost) {
        this.jobs.delete(old.jobId);
        this.#videoAssets.delete(old.videoAssetId);
        return;
      }
    }
  }

  /** The job behind a video asset id, if that job has succeeded by `now`. */
  videoAssetJob(assetId: string, now: number): SimJob | null {
    const job = this.#videoAssets.get(assetId);
    return job && jobStateAt(job, now).status === 'success' ? job : null;
  }

  /** Jobs counted against the per-team concurrency cap. Lost jobs are gone upstream, so they do not count. */
  unfinishedJobs(now: number): number {
    let count = 0;
    for (const job of this.jobs.values()) if (!job.behaviour.lost && !jobStateAt(job, now).terminal) count++;
    return count;
  }

  /** Newest first, after the cursor `beforeSeq`, optionally of one status; one more than asked says "there is more". */
  listJobs(now: number, query: { pageSize: number; beforeSeq: number | null; status: string | null }) {
    const page: Array<{ job: SimJob; wire: Record<string, unknown> }> = [];
    const newestFirst = [...this.jobs.values()].reverse();
    for (const job of newestFirst) {
      if (job.behaviour.lost || (query.beforeSeq !== null && job.seq >= query.beforeSeq)) continue;
      const wire = jobToWire(job, now);
      if (query.status !== null && wire.status !== query.status) continue;
      page.push({ job, wire });
      if (page.length > query.pageSize) break;
    }
    const hasMore = page.length > query.pageSize;
    const items = page.slice(0, query.pageSize);
    return { jobs: items.map((i) => i.wire), lastSeq: hasMore ? items[items.length - 1]!.job.seq : null };
  }

  addUpload(upload: SimUpload): void {
    this.uploads.set(upload.id, upload);
    if (this.uploads.size > MAX_UPLOADS) this.uploads.delete(this.uploads.keys().next().value!);
  }

  /** Room for `extra` more bytes of uploaded data; the oldest audio assets are forgotten to make it. */
  makeRoom(extra: number): boolean {
    const partBytes = [...this.uploads.values()].reduce((sum, u) => sum + [...u.parts.values()].reduce((s, p) => s + p.length, 0), 0);
    let audioBytes = [...this.audio.values()].reduce((sum, a) => sum + a.bytes.length, 0);
    for (const [id, asset] of this.audio) {
      if (partBytes + audioBytes + extra <= MAX_STORED_BYTES) break;
      this.audio.delete(id);
      audioBytes -= asset.bytes.length;
    }
    return partBytes + audioBytes + extra <= MAX_STORED_BYTES;
  }

  clear(): void {
    this.jobs.clear();
    this.uploads.clear();
    this.audio.clear();
    this.#videoAssets.clear();
  }
}
