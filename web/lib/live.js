// The graphql-ws connection: authenticated with connectionParams, reconnecting for ever with capped backoff, and
// telling the studio when it came back, so it can catch up from a snapshot (changes made while the socket was down
// are not replayed by the server). A missed pong ends a half-open socket, so a dead network is noticed in seconds.
import { createClient } from 'graphql-ws';

/** @typedef {'connecting' | 'live' | 'reconnecting'} LiveStatus */

const FORBIDDEN = 4403;
const PING_EVERY_MS = 10_000;
const PONG_WITHIN_MS = 5_000;

/**
 * @param {unknown} value
 * @returns {value is { code: number, reason: string }}
 */
const isCloseEvent = (value) => typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;

/**
 * Resolves after `ms`, or earlier when the browser reports that it is back online.
 * @param {number} ms
 * @returns {Promise<void>}
 */
function waitOrOnline(ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    window.addEventListener('online', done);
  });
}

/**
 * @param {object} options
 * @param {string} options.token
 * @param {(status: LiveStatus) => void} options.onStatus
 * @param {() => void} options.onReconnected called after a connection that followed a lost one
 * @param {() => void} options.onForbidden the token was refused (close 4403)
 */
export function createLive({ token, onStatus, onReconnected, onForbidden }) {
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pongTimer;
  let disposed = false;
  let everConnected = false;

  const client = createClient({
    url,
    lazy: false,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    retryAttempts: Infinity,
    // 0.5 s, 1 s, 2 s, 4 s, 8 s, then every 10 s, each with up to 0.5 s of jitter; at once when the browser is back online.
    retryWait: (retries) => waitOrOnline(Math.min(500 * 2 ** retries, 10_000) + Math.random() * 500),
    // Every failure is worth another try (the default gives up on socket errors), except a refused token.
    shouldRetry: (errorOrClose) => !(isCloseEvent(errorOrClose) && errorOrClose.code === FORBIDDEN),
    onNonLazyError: (errorOrClose) => {
      if (isCloseEvent(errorOrClose) && errorOrClose.code === FORBIDDEN) onForbidden();
    },
    keepAlive: PING_EVERY_MS,
    on: {
      connecting: () => onStatus(everConnected ? 'reconnecting' : 'connecting'),
      connected: (_socket, _payload, wasRetry) => {
        const reconnected = everConnected || wasRetry;
        everConnected = true;
        onStatus('live');
        if (reconnected) onReconnected();
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        if (disposed) return;
        if (isCloseEvent(event) && event.code === FORBIDDEN) return;
        onStatus(everConnected ? 'reconnecting' : 'connecting');
      },
      ping: (received) => {
        if (received) return;
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => client.terminate(), PONG_WITHIN_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  // The browser knows the network is gone: do not wait for a missed pong to notice.
  const onOffline = () => {
    if (!disposed) client.terminate();
  };
  window.addEventListener('offline', onOffline);

  return {
    /**
     * Subscribes; graphql-ws subscribes again by itself after every reconnect.
     * @param {string} query
     * @param {Record<string, unknown>} variables
     * @param {{ next: (data: any) => void, error?: (error: unknown) => void, complete?: () => void }} sink
     * @returns {() => void} unsubscribe
     */
    subscribe(query, variables, sink) {
      return client.subscribe(
        { query, variables },
        {
          next: (message) => {
            if (message.errors?.length) sink.error?.(message.errors);
            else if (message.data) sink.next(message.data);
          },
          error: (error) => sink.error?.(error),
          complete: () => sink.complete?.(),
        },
      );
    },

    /** Drops the socket as a lost network would; the client reconnects (for tests and debugging). */
    drop() {
      if (!disposed) client.terminate();
    },

    dispose() {
      disposed = true;
      clearTimeout(pongTimer);
      window.removeEventListener('offline', onOffline);
      void client.dispose();
    },
  };
}

/** @typedef {ReturnType<typeof createLive>} Live */
