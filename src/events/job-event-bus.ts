// Publishes every visible change of a job, with its new version, to live subscribers. The in-process bus serves one
// replica; src/redis/job-event-bus.ts carries the same messages between replicas. A bus is a hint, the
// database the truth: subscribers read the row after subscribing and drop versions they already have.
import type { JobView } from '../domain/video-job.ts';

/** What the bus carries: the client-visible state of a job after a change (never the store's row). */
export type JobUpdate = JobView;

export type JobListener = (job: JobUpdate) => void;

export interface JobEventBus {
  /** Delivers to this replica's listeners at once; resolves once every replica can see it, rejects when it could not be sent. */
  publish(job: JobUpdate): Promise<void>;
  /** Changes of one job. Resolves, with the unsubscribe function, once changes published from now on will arrive. */
  subscribeToJob(jobId: string, listener: JobListener): Promise<() => void>;
  /** Changes of every job of one owner. */
  subscribeToOwner(ownerId: string, listener: JobListener): Promise<() => void>;
  /** Listeners currently registered (for metrics and leak tests). */
  listenerCount(): number;
  close(): Promise<void>;
}

/** The listeners of one job or owner. Its key is kept once here, not once per subscription. */
class Listeners {
  /** One entry per subscription: the same function subscribed twice is two entries. */
  readonly entries = new Set<{ readonly listener: JobListener }>();
  constructor(readonly key: string) {}
}

/**
 * This replica's listeners, by job and by owner. Plain maps of listener sets rather than an EventEmitter: thousands
 * of subscribers on one job are normal here and must not trip the emitter's leak warning, and a throwing listener
 * must not starve the others. Each subscription costs a small entry object and its unsubscribe function.
 */
export class LocalListeners {
  private readonly byJob = new Map<string, Listeners>();
  private readonly byOwner = new Map<string, Listeners>();
  private count = 0;

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  deliver(job: JobUpdate): void {
    this.deliverTo(this.byJob.get(job.id), job);
    this.deliverTo(this.byOwner.get(job.ownerId), job);
  }

  addForJob(jobId: string, listener: JobListener): () => void {
    return this.add(this.byJob, jobId, listener);
  }

  addForOwner(ownerId: string, listener: JobListener): () => void {
    return this.add(this.byOwner, ownerId, listener);
  }

  /** Jobs and owners with at least one listener now. */
  jobIds(): string[] {
    return [...this.byJob.keys()];
  }

  ownerIds(): string[] {
    return [...this.byOwner.keys()];
  }

  size(): number {
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

  private deliverTo(listeners: Listeners | undefined, job: JobUpdate): void {
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

/** One replica's bus: publishing delivers to its own listeners. */
export class InProcessJobEventBus implements JobEventBus {
  private readonly listeners: LocalListeners;

  constructor(onListenerError?: (error: unknown) => void) {
    this.listeners = new LocalListeners(onListenerError);
  }

  async publish(job: JobUpdate): Promise<void> {
    this.listeners.deliver(job);
  }

  async subscribeToJob(jobId: string, listener: JobListener): Promise<() => void> {
    return this.listeners.addForJob(jobId, listener);
  }

  async subscribeToOwner(ownerId: string, listener: JobListener): Promise<() => void> {
    return this.listeners.addForOwner(ownerId, listener);
  }

  listenerCount(): number {
    return this.listeners.size();
  }

  async close(): Promise<void> {}
}
