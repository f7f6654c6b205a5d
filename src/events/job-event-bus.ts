// Publishes every committed change of a job, with its new version, to live subscribers.
// In-process now; a Redis implementation can follow behind the same interface.
import type { VideoJob } from '../domain/video-job.ts';

export type JobListener = (job: VideoJob) => void;

export interface JobEventBus {
  publish(job: VideoJob): void;
  /** Changes of one job. Returns the unsubscribe function. */
  subscribeToJob(jobId: string, listener: JobListener): () => void;
  /** Changes of every job of one owner. */
  subscribeToOwner(ownerId: string, listener: JobListener): () => void;
  /** Listeners currently registered (for metrics and leak tests). */
  listenerCount(): number;
}

/**
 * Plain maps of listener sets rather than an EventEmitter: thousands of subscribers on one job are normal
 * here and must not trip the emitter's leak warning, and a throwing listener must not starve the others.
 */
export class InProcessJobEventBus implements JobEventBus {
  private readonly byJob = new Map<string, Set<JobListener>>();
  private readonly byOwner = new Map<string, Set<JobListener>>();
  private count = 0;

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  publish(job: VideoJob): void {
    this.deliver(this.byJob.get(job.id), job);
    this.deliver(this.byOwner.get(job.ownerId), job);
  }

  subscribeToJob(jobId: string, listener: JobListener): () => void {
    return this.add(this.byJob, jobId, listener);
  }

  subscribeToOwner(ownerId: string, listener: JobListener): () => void {
    return this.add(this.byOwner, ownerId, listener);
  }

  listenerCount(): number {
    return this.count;
  }

  private add(map: Map<string, Set<JobListener>>, key: string, listener: JobListener): () => void {
    let listeners = map.get(key);
    if (!listeners) map.set(key, (listeners = new Set()));
    // Wrap so the same function subscribed twice is two subscriptions.
    const entry: JobListener = (job) => listener(job);
    listeners.add(entry);
    this.count++;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.count--;
      listeners.delete(entry);
      if (listeners.size === 0 && map.get(key) === listeners) map.delete(key);
    };
  }

  private deliver(listeners: Set<JobListener> | undefined, job: VideoJob): void {
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(job);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
