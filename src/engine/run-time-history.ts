// The gateway's own record of how long upstream takes, by size and duration. It drives the poll schedule
// (no point asking while similar jobs were never that fast) and the ETA.
import type { VideoSize } from '../domain/video-job.ts';
import type { RunDuration } from '../store/store.ts';

const MAX_SAMPLES = 200;
/** Fewer similar samples than this and the history says nothing. */
const MIN_SAMPLES = 3;

export class RunTimeHistory {
  private samples: RunDuration[] = [];
  /** Sorted run times by size and duration, until the next record(): a poll round asks once per job. */
  private readonly sorted = new Map<string, number[] | null>();

  /** `initial` newest first, as the store returns them. */
  constructor(initial: RunDuration[] = []) {
    this.samples = initial.slice(0, MAX_SAMPLES);
  }

  record(sample: RunDuration): void {
    this.samples.unshift(sample);
    if (this.samples.length > MAX_SAMPLES) this.samples.length = MAX_SAMPLES;
    this.sorted.clear();
  }

  /** Run times in seconds of similar jobs, sorted ascending, or null when too few are known. */
  private similar(size: VideoSize, durationSeconds: number): number[] | null {
    const key = `${size}:${durationSeconds}`;
    let cached = this.sorted.get(key);
    if (cached === undefined) this.sorted.set(key, (cached = this.computeSimilar(size, durationSeconds)));
    return cached;
  }

  private computeSimilar(size: VideoSize, durationSeconds: number): number[] | null {
    const seconds = this.samples
      .filter((s) => s.size === size && s.durationSeconds === durationSeconds)
      .map((s) => s.seconds)
      .sort((a, b) => a - b);
    return seconds.length >= MIN_SAMPLES ? seconds : null;
  }

  /** Seconds before which a similar job has essentially never finished (a low quantile, with a margin). */
  earliestFinishSeconds(size: VideoSize, durationSeconds: number): number | null {
    const seconds = this.similar(size, durationSeconds);
    return seconds ? 0.85 * quantile(seconds, 0.05) : null;
  }

  /** Typical run time of a similar job. */
  medianSeconds(size: VideoSize, durationSeconds: number): number | null {
    const seconds = this.similar(size, durationSeconds);
    return seconds ? quantile(seconds, 0.5) : null;
  }
}

function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}
