// A one-second cache of query responses: the same viewer sending the same body (and Accept header) again within the
// same wall-clock second, with none of the viewer's data written in between, gets the bytes the first request got.
// Why that is what executing again would give: a query reads the viewer's own rows, whose visible writes all move the
// viewer's data version (moved by the database itself, from any replica: see the owner_data_versions migration), and the clock only through the media URLs' expiry, which counts
// whole seconds (src/media/signing.ts). The one field that can differ is `etaSeconds` of an unfinished job, an
// estimate from the gateway-wide run-time history; a cached one is less than a second old.
// Identical requests that arrive while the first is still executing wait for it (single flight): a burst of the
// same query, e.g. many tabs reloading one history page, executes once.

export interface CachedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The request log's operation fields, so a hit is logged as the request that filled the entry was. */
  logFields: Record<string, unknown>;
  /** A response sent as it comes (SSE) instead of `body`; such a response is never stamped, kept or shared. */
  stream?: AsyncIterable<Uint8Array>;
}

/** Whose data a response shows, and the second and data version it was read at. */
export interface Stamp {
  ownerId: string;
  second: number;
  version: number;
}

/** A response, stamped when other requests may be given it: a successful query's, never a mutation's. */
export interface ProducedResponse {
  response: CachedResponse;
  stamp: Stamp | null;
}

export interface ResponseCacheLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_RESPONSE_CACHE_LIMITS: ResponseCacheLimits = { maxEntries: 1_000, maxBytes: 32 * 1024 * 1024 };

/** Who the credentials belong to now, and their data version now; null for credentials no longer valid. */
export type Authenticate = () => Promise<{ ownerId: string; version: number } | null>;

interface Entry {
  stamp: Stamp;
  response: CachedResponse;
}

export type CacheOutcome = 'hit' | 'shared' | 'miss';

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Promise<ProducedResponse>>();
  private bytes = 0;
  /** The second every entry belongs to: entries of any other second can never be given again. */
  private entriesSecond: number | null = null;

  constructor(
    private readonly limits: ResponseCacheLimits = DEFAULT_RESPONSE_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
    private readonly onOutcome: (outcome: CacheOutcome) => void = () => {},
  ) {}

  /** Taken when a query starts executing, with the data version read before any resolver read data. */
  stamp(ownerId: string, version: number): Stamp {
    return { ownerId, second: this.currentSecond(), version };
  }

  /**
   * The response for `key`, which must name the credentials, the request body and whatever else shapes the
   * response: from the cache, from an identical request executing now, or from `produce`. A stored response is
   * given only when `authenticate` (the credentials' user now, or null) names the user it was made for.
   */
  async respond(key: string, produce: () => Promise<ProducedResponse>, authenticate: Authenticate): Promise<CachedResponse> {
    this.forgetOtherSeconds(this.currentSecond());
    const entry = this.entries.get(key);
    if (entry && this.isCurrent(entry.stamp) && (await this.confirm(entry.stamp, authenticate))) {
      this.onOutcome('hit');
      return entry.response;
    }
    const flight = this.flights.get(key);
    if (flight) {
      const shared = await flight.catch(() => null);
      if (shared?.stamp && this.isCurrent(shared.stamp) && (await this.confirm(shared.stamp, authenticate))) {
        this.onOutcome('shared');
        return shared.response;
      }
    }
    return this.lead(key, produce);
  }

  /** Entries held (for tests). */
  size(): number {
    return this.entries.size;
  }

  private async lead(key: string, produce: () => Promise<ProducedResponse>): Promise<CachedResponse> {
    this.onOutcome('miss');
    const flight = produce();
    this.flights.set(key, flight);
    try {
      const { response, stamp } = await flight;
      if (stamp && this.isCurrent(stamp)) this.store(key, { stamp, response });
      return response;
    } finally {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    }
  }

  /** The credentials' user now is the stamp's, and nothing of theirs was written since it was taken. */
  private async confirm(stamp: Stamp, authenticate: Authenticate): Promise<boolean> {
    const now = await authenticate();
    return now !== null && now.ownerId === stamp.ownerId && now.version === stamp.version && this.isCurrent(stamp);
  }

  /** Still the second the stamp was taken in. */
  private isCurrent(stamp: Stamp): boolean {
    return stamp.second === this.currentSecond();
  }

  private currentSecond(): number {
    return Math.floor(this.now() / 1000);
  }

  private store(key: string, entry: Entry): void {
    const size = entry.response.body.byteLength;
    if (size > this.limits.maxBytes / 16) return;
    this.forgetOtherSeconds(entry.stamp.second);
    this.remove(key);
    if (this.full(size)) return;
    this.entries.set(key, entry);
    this.bytes += size;
  }

  private full(adding: number): boolean {
    return this.entries.size >= this.limits.maxEntries || this.bytes + adding > this.limits.maxBytes;
  }

  /** Memory holds one second's entries at most: the others can never be given again (even if the clock stepped back). */
  private forgetOtherSeconds(second: number): void {
    if (this.entriesSecond === second) return;
    this.entries.clear();
    this.bytes = 0;
    this.entriesSecond = second;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.response.body.byteLength;
  }
}
