// The job event bus shared by replicas: every change goes to this replica's listeners at once and to the others over
// one Redis channel. Redis pub/sub drops whatever is sent while a subscriber is disconnected, so after a reconnect
// the bus asks the database (`resync`) for the current state of everything it has listeners for (STACK.md §7). A
// change this replica could not publish is covered the same way from the other side: once its publisher is back, it
// announces since when its changes were lost, and every other replica resyncs from then.
import { randomUUID } from 'node:crypto';
import { jobView } from '../domain/video-job.ts';
import { LocalListeners, type JobEventBus, type JobListener, type JobUpdate } from '../events/job-event-bus.ts';
import { DEFAULT_KEY_PREFIX, RedisConnection, worstState, type RedisConnectionState, type RedisLog } from './connection.ts';

/** What `resync` must cover: jobs with a listener here, and every job of an owner with a listener here. */
export interface LostInterval {
  jobIds: string[];
  ownerIds: string[];
  /** Epoch ms since when messages may have been missed. */
  since: number;
}

export interface RedisJobEventBusOptions {
  url: string;
  keyPrefix?: string;
  instanceId: string;
  log: RedisLog;
  /** The current state of the jobs that may have changed while messages were lost. */
  resync: (lost: LostInterval) => Promise<JobUpdate[]>;
  onListenerError?: (error: unknown) => void;
}

/** A change, or the announcement that the origin's changes since `resyncSince` may not have been published. */
type Message = { origin: string; job: JobUpdate } | { origin: string; resyncSince: number };

/** How long the first subscriber waits for the channel subscription before relying on resync instead. */
const FIRST_SUBSCRIBE_WAIT_MS = 2000;

function parseMessage(text: string): Message | null {
  try {
    const message = JSON.parse(text) as { origin?: unknown; job?: Partial<JobUpdate>; resyncSince?: unknown } | null;
    if (typeof message?.origin !== 'string') return null;
    if (typeof message.resyncSince === 'number') return { origin: message.origin, resyncSince: message.resyncSince };
    const job = message.job;
    if (typeof job?.id !== 'string' || typeof job.ownerId !== 'string') return null;
    return message as Message;
  } catch {
    return null;
  }
}

export class RedisJobEventBus implements JobEventBus {
  private readonly listeners: LocalListeners;
  private readonly publisher: RedisConnection;
  private readonly subscriber: RedisConnection;
  private readonly channel: string;
  /** The channel subscription is acknowledged on the current connection. */
  private live = false;
  /** Set while listeners may be missing messages; the next acknowledged subscription resyncs from then. */
  private lostSince: number | null = null;
  /** The first change since which publishing failed: the other replicas are told once the publisher is back. */
  private unpublishedSince: number | null = null;
  /**
   * This bus's name on the channel: unique per process, so that two replicas given the same INSTANCE_ID by mistake
   * still hear each other.
   */
  private readonly origin: string;
  private closed = false;
  private readonly firstSubscription: Promise<void>;
  private endFirstWait!: () => void;

  constructor(private readonly options: RedisJobEventBusOptions) {
    const { url, keyPrefix = DEFAULT_KEY_PREFIX, instanceId, log } = options;
    this.listeners = new LocalListeners(
      options.onListenerError ?? ((error) => log.error({ err: error }, 'job event listener failed')),
    );
    this.channel = `${keyPrefix}jobs`;
    this.origin = `${instanceId}/${randomUUID()}`;
    this.publisher = new RedisConnection({ url, keyPrefix, name: `bus-pub:${instanceId}`, log });
    this.subscriber = new RedisConnection({ url, keyPrefix, name: `bus-sub:${instanceId}`, log });
    this.firstSubscription = new Promise((resolve) => (this.endFirstWait = resolve));
    setTimeout(this.endFirstWait, FIRST_SUBSCRIBE_WAIT_MS).unref();

    const client = this.subscriber.client;
    client.on('message', (channel: string, text: string) => this.receive(channel, text));
    client.on('ready', () => this.subscribe());
    this.publisher.client.on('ready', () => void this.announceUnpublished().catch(() => {}));
    client.on('close', () => {
      if (this.live) this.lostSince ??= Date.now();
      this.live = false;
      this.endFirstWait();
    });
  }

  async publish(job: JobUpdate): Promise<void> {
    this.listeners.deliver(job);
    const failedAt = Date.now();
    try {
      await this.publisher.firstAttempt;
      await this.announceUnpublished();
      // Only the client-visible fields travel, whatever object the caller passed.
      await this.send({ origin: this.origin, job: jobView(job) });
    } catch (error) {
      this.unpublishedSince ??= failedAt;
      throw error;
    }
  }

  /** Tells the other replicas to re-read what this one changed while it could not publish. */
  private async announceUnpublished(): Promise<void> {
    const since = this.unpublishedSince;
    if (since === null) return;
    await this.send({ origin: this.origin, resyncSince: since });
    if (this.unpublishedSince === since) this.unpublishedSince = null;
    this.options.log.info({ since: new Date(since).toISOString() }, 'told the other replicas to resync the changes not published');
  }

  private async send(message: Message): Promise<void> {
    await this.publisher.client.publish(this.channel, JSON.stringify(message));
  }

  async subscribeToJob(jobId: string, listener: JobListener): Promise<() => void> {
    const unsubscribe = this.listeners.addForJob(jobId, listener);
    await this.untilLive();
    return unsubscribe;
  }

  async subscribeToOwner(ownerId: string, listener: JobListener): Promise<() => void> {
    const unsubscribe = this.listeners.addForOwner(ownerId, listener);
    await this.untilLive();
    return unsubscribe;
  }

  listenerCount(): number {
    return this.listeners.size();
  }

  connectionState(): RedisConnectionState {
    return worstState([this.publisher.state(), this.subscriber.state()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.endFirstWait();
    await Promise.all([this.publisher.close(), this.subscriber.close()]);
  }

  /** Resolves when messages from now on will arrive, or, when Redis is down, once the next resync will cover them. */
  private async untilLive(): Promise<void> {
    const calledAt = Date.now();
    await this.firstSubscription;
    if (!this.live) this.lostSince ??= calledAt;
  }

  private subscribe(): void {
    this.subscriber.client.subscribe(this.channel).then(
      () => {
        this.live = true;
        this.endFirstWait();
        const since = this.lostSince;
        this.lostSince = null;
        if (since !== null) void this.resync(since);
      },
      (error: Error) => {
        // The next 'ready' subscribes again; until then resync covers the gap.
        this.endFirstWait();
        if (!this.closed) this.options.log.warn({ err: error.message, channel: this.channel }, 'job event subscription failed');
      },
    );
  }

  private async resync(since: number): Promise<void> {
    const lost = { jobIds: this.listeners.jobIds(), ownerIds: this.listeners.ownerIds(), since };
    if (lost.jobIds.length === 0 && lost.ownerIds.length === 0) return;
    const fields = { jobs: lost.jobIds.length, owners: lost.ownerIds.length, since: new Date(since).toISOString() };
    try {
      const updates = await this.options.resync(lost);
      if (this.closed) return;
      for (const job of updates) this.listeners.deliver(job);
      this.options.log.info({ ...fields, updates: updates.length }, 'job events resynced after a Redis outage');
    } catch (error) {
      // Kept for the next reconnect, the only other moment this gap could be closed.
      this.lostSince = Math.min(this.lostSince ?? since, since);
      this.options.log.error({ ...fields, err: error }, 'job event resync failed');
    }
  }

  private receive(channel: string, text: string): void {
    if (channel !== this.channel) return;
    const message = parseMessage(text);
    if (!message) {
      this.options.log.warn({ channel, bytes: Buffer.byteLength(text) }, 'dropped an unreadable job event');
      return;
    }
    // This replica delivered its own changes when it published them.
    if (message.origin === this.origin) return;
    if ('resyncSince' in message) void this.resync(message.resyncSince);
    else this.listeners.deliver(message.job);
  }
}
