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

/** The listeners of one job or owner. Its key is kept once here, not once per subscription. */
class Listeners {
  /** One entry per subscription: the same function subscribed twice is two entries. */
  readonly entries = new Set<{ readonly listener: JobListener }>();
  constructor(readonly key: string) {}
}

/**
 * Plain maps of listener sets rather than an EventEmitter: thousands of subscribers on one job are normal
 * here and must not trip the emitter's leak warning, and a throwing listener must not starve the others.
 * Each subscription costs a small entry object and its unsubscribe function, nothing more.
 */
export class InProcessJobEventBus implements JobEventBus {
  private readonly byJob = new Map<string, Listeners>();
  private readonly byOwner = new Map<string, Listeners>();
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

  private add(map: Map<string, Listeners>, key: string, listener: JobListener): () => void {
    let listeners = map.get(key);
    if (!listeners) map.set(key, (listeners = new Listeners(key)));
    const entry = { listener };
    listeners.entries.add(entry);
    this.count++;
    return () => this.remove(map, listeners, entry);
  }

  private remove(map: Map<string, Listeners>, listeners: Listeners, entry: { readonly listener: JobListener }): void {
    // Set.delete is false the second time: unsubscribing twice is harmless.
    if (!listeners.entries.delete(entry)) return;
    this.count--;
    if (listeners.entries.size === 0 && map.get(listeners.key) === listeners) map.delete(listeners.key);
  }

  private deliver(listeners: Listeners | undefined, job: VideoJob): void {
    if (!listeners) return;
    for (const { listener } of [...listeners.entries]) {
      try {
        listener(job);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
