// ioredis clients for this deployment. Redis is an optional helper here (CONTRACT §9: the gateway keeps answering
// without it), so a client reconnects forever, and a command sent while Redis is down fails at once instead of
// queueing behind a connection that may never come back.
import { Redis } from 'ioredis';

export const DEFAULT_KEY_PREFIX = 'vg:';

/** What /metrics shows: `connecting` only before the first connection attempt has answered. */
export type RedisConnectionState = 'ready' | 'connecting' | 'down';

/** The part of a pino logger these modules use. */
export interface RedisLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface RedisConnectionOptions {
  url: string;
  /** Prepended by ioredis to every key (not to pub/sub channels, which callers prefix themselves). */
  keyPrefix?: string;
  /** Shown in CLIENT LIST and in logs, e.g. `bus-sub:replica-1`. */
  name: string;
  log: RedisLog;
}

const MAX_RECONNECT_DELAY_MS = 2000;
/** How long a caller waits for the first connection before treating Redis as down. */
const FIRST_CONNECT_WAIT_MS = 2000;
const CLOSE_WAIT_MS = 2000;

/** Reconnects forever: an outage of any length must end by itself when Redis is back. */
const retryStrategy = (attempt: number): number => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS);

/** The URL without user name or password, for logs. */
export function describeRedisUrl(url: string): string {
  try {
    const { protocol, host, pathname } = new URL(url);
    return `${protocol}//${host}${pathname}`;
  } catch {
    return '[unparsable Redis URL]';
  }
}

export class RedisConnection {
  readonly client: Redis;
  /**
   * Settles once the first connection attempt has succeeded or failed (at most a couple of seconds): commands issued
   * right after start would otherwise be refused by a client that is merely still connecting.
   */
  readonly firstAttempt: Promise<void>;
  private lost = false;

  constructor({ url, keyPrefix = DEFAULT_KEY_PREFIX, name, log }: RedisConnectionOptions) {
    this.client = new Redis(url, {
      keyPrefix,
      connectionName: name.replace(/[^\w.:-]/g, '_'),
      lazyConnect: false,
      retryStrategy,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: FIRST_CONNECT_WAIT_MS,
      commandTimeout: FIRST_CONNECT_WAIT_MS,
      // The subscriber re-subscribes itself on 'ready' so that it knows when the subscription is live again.
      autoResubscribe: false,
    });
    const fields = { redis: describeRedisUrl(url), connection: name };
    // ioredis emits 'error' on every failed reconnect attempt: one line per outage is enough.
    let reported = false;
    this.client.on('error', (error: Error) => {
      if (reported) return;
      reported = true;
      log.warn({ ...fields, err: error.message }, 'Redis connection failed; retrying');
    });
    this.client.on('close', () => {
      this.lost = true;
    });
    this.client.on('ready', () => {
      if (reported) log.info(fields, 'Redis connection is back');
      reported = false;
      this.lost = false;
    });
    this.firstAttempt = new Promise((resolve) => {
      setTimeout(resolve, FIRST_CONNECT_WAIT_MS).unref();
      this.client.once('ready', () => resolve());
      this.client.once('close', () => resolve());
    });
  }

  state(): RedisConnectionState {
    if (this.client.status === 'ready') return 'ready';
    return this.lost || this.client.status === 'end' ? 'down' : 'connecting';
  }

  /** QUIT, or drop the socket when Redis does not answer in time. */
  async close(): Promise<void> {
    if (this.client.status === 'end') return;
    if (this.client.status !== 'ready') return this.client.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    await Promise.race([this.client.quit().catch(() => {}), timedOut]);
    clearTimeout(timer);
    this.client.disconnect();
  }
}

/** The worst of several connections' states, for a component that needs all of them. */
export function worstState(states: RedisConnectionState[]): RedisConnectionState {
  if (states.includes('down')) return 'down';
  return states.includes('connecting') ? 'connecting' : 'ready';
}
