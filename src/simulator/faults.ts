// Fault injection for tests. Each route has a FIFO queue of faults; each fault covers the next `count` requests of
// that route, then the next fault in the queue applies. Route `*` covers every route, after the route's own queue.

export const SIM_ROUTES = [
  'submit',
  'getJob',
  'listJobs',
  'cancel',
  'getAsset',
  'uploadCreate',
  'uploadPart',
  'uploadComplete',
  'uploadGet',
  /** GET of a signed asset URL (videos, audio). */
  'download',
  /** GET of a (public) thumbnail URL. */
  'thumbnail',
] as const;
export type SimRoute = (typeof SIM_ROUTES)[number];
export type FaultRoute = SimRoute | '*';

export type Fault =
  /**
   * Answer with `status` instead of processing. A 2xx status without `body` processes the request normally and only
   * replaces its status (e.g. 269, as Scenario sometimes answers). A string `body` is sent as text/plain (e.g. to
   * send a 2xx that is not JSON).
   */
  | { type: 'respond'; status: number; body?: unknown; retryAfterSeconds?: number; headers?: Record<string, string> }
  /** Destroy the socket: `before` processing (nothing happened), or `after` it (e.g. a job was created). */
  | { type: 'drop'; when: 'before' | 'after' }
  /** Never answer; the socket stays open until the client gives up or the simulator stops. */
  | { type: 'hang' }
  /** Process, send the headers and half the body, then destroy the socket (a cut download). */
  | { type: 'truncate' };

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/** Bounds: a test cannot queue unlimited faults or counts by mistake. */
const MAX_QUEUED = 1_000;
const MAX_COUNT = 1_000_000;

export class SimulatorFaults {
  readonly #queues = new Map<FaultRoute, QueuedFault[]>();
  readonly #expireAssetUrls: () => void;

  constructor(expireAssetUrls: () => void) {
    this.#expireAssetUrls = expireAssetUrls;
  }

  /** The next `count` requests of `route` answer `status` (429 gets a Scenario-like concurrency body by default). */
  respondWith(
    route: FaultRoute,
    options: { status: number; count?: number; body?: unknown; retryAfterSeconds?: number; headers?: Record<string, string> },
  ): void {
    const { count, ...fault } = options;
    this.add(route, { type: 'respond', ...fault }, count);
  }

  /** The next `count` requests of `route` lose their connection before or after being processed. */
  dropConnection(route: FaultRoute, options: { when: 'before' | 'after'; count?: number }): void {
    this.add(route, { type: 'drop', when: options.when }, options.count);
  }

  /** The next `count` requests of `route` are never answered. */
  hang(route: FaultRoute, options: { count?: number } = {}): void {
    this.add(route, { type: 'hang' }, options.count);
  }

  /** The next `count` responses of `route` are cut after half their body. */
  truncateBody(route: FaultRoute, options: { count?: number } = {}): void {
    this.add(route, { type: 'truncate' }, options.count);
  }

  /** Every asset URL issued so far answers 403; reading the asset again gives a fresh, valid URL. */
  expireAssetUrls(): void {
    this.#expireAssetUrls();
  }

  /** Forgets every queued fault. */
  reset(): void {
    this.#queues.clear();
  }

  add(route: FaultRoute, fault: Fault, count = 1): void {
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw new RangeError(`count must be an integer in 1..${MAX_COUNT}`);
    const queued = [...this.#queues.values()].reduce((n, q) => n + q.length, 0);
    if (queued >= MAX_QUEUED) throw new RangeError(`at most ${MAX_QUEUED} faults may be queued`);
    const queue = this.#queues.get(route) ?? [];
    queue.push({ fault, remaining: count });
    this.#queues.set(route, queue);
  }

  /** The fault that applies to this request of `route`, consuming one of its count; null when none. */
  take(route: SimRoute): Fault | null {
    for (const key of [route, '*'] as const) {
      const queue = this.#queues.get(key);
      const head = queue?.[0];
      if (!queue || !head) continue;
      if (--head.remaining === 0) queue.shift();
      return head.fault;
    }
    return null;
  }

  /** What is still queued, for debugging over `/_sim/faults`. */
  pending(): Array<{ route: FaultRoute; fault: Fault; remaining: number }> {
    return [...this.#queues].flatMap(([route, queue]) => queue.map((q) => ({ route, fault: q.fault, remaining: q.remaining })));
  }
}
