// The response cache on its own: when a stored response may be given again (same second, same data version, the
// credentials still belong to the user it was made for), single flight for identical requests, and its limits.
import { describe, expect, it } from 'vitest';
import { ResponseCache, type CacheOutcome, type CachedResponse, type ProducedResponse } from '../src/http/response-cache.ts';

/** The owners' data versions as the database would report them on authentication. */
class DataVersions {
  private readonly versions = new Map<string, number>();
  current(ownerId: string): number {
    return this.versions.get(ownerId) ?? 0;
  }
  bump(ownerId: string): void {
    this.versions.set(ownerId, this.current(ownerId) + 1);
  }
}

function harness(limits = { maxEntries: 100, maxBytes: 1024 * 1024 }) {
  let now = 1_700_000_000_000; // the start of a second
  const versions = new DataVersions();
  const outcomes: CacheOutcome[] = [];
  const cache = new ResponseCache(limits, () => now, (outcome) => outcomes.push(outcome));
  let produced = 0;
  /** Executes "a query of `owner`": stamped as it starts, reusable unless told otherwise. */
  const query =
    (owner: string, options: { reusable?: boolean; during?: () => void; bytes?: number } = {}) =>
    async (): Promise<ProducedResponse> => {
      produced += 1;
      const stamp = cache.stamp(owner, versions.current(owner));
      await new Promise((r) => setTimeout(r, 5));
      options.during?.();
      const response: CachedResponse = {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(options.bytes ?? 10, produced),
        logFields: {},
      };
      return { response, stamp: options.reusable === false ? null : stamp };
    };
  const as = (owner: string | null) => async () => (owner === null ? null : { ownerId: owner, version: versions.current(owner) });
  return {
    cache,
    versions,
    outcomes,
    query,
    as,
    produced: () => produced,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ResponseCache', () => {
  it('gives a stored response again within the same second while the owner’s data is unchanged', async () => {
    const h = harness();
    const first = await h.cache.respond('k', h.query('alice'), h.as('alice'));
    h.advance(999);
    const again = await h.cache.respond('k', h.query('alice'), h.as('alice'));
    expect(again).toBe(first);
    expect(h.produced()).toBe(1);
    expect(h.outcomes).toEqual(['miss', 'hit']);
  });

  it('executes again in the next second (media URL expiries count whole seconds)', async () => {
    const h = harness();
    const first = await h.cache.respond('k', h.query('alice'), h.as('alice'));
    h.advance(1000);
    const next = await h.cache.respond('k', h.query('alice'), h.as('alice'));
    expect(next).not.toBe(first);
    expect(h.outcomes).toEqual(['miss', 'miss']);
  });

  it('executes again after any write to the owner’s data, and not after another owner’s', async () => {
    const h = harness();
    const first = await h.cache.respond('k', h.query('alice'), h.as('alice'));
    h.versions.bump('bob');
    expect(await h.cache.respond('k', h.query('alice'), h.as('alice'))).toBe(first);
    h.versions.bump('alice');
    expect(await h.cache.respond('k', h.query('alice'), h.as('alice'))).not.toBe(first);
    expect(h.outcomes).toEqual(['miss', 'hit', 'miss']);
  });

  it('gives nothing stored to credentials that no longer name the user it was made for', async () => {
    const h = harness();
    const first = await h.cache.respond('k', h.query('alice'), h.as('alice'));
    expect(await h.cache.respond('k', h.query('alice'), h.as(null))).not.toBe(first); // revoked: yoga answers 401
    expect(h.produced()).toBe(2);
  });

  it('does not keep a result whose owner’s data was written while it executed', async () => {
    const h = harness();
    await h.cache.respond('k', h.query('alice', { during: () => h.versions.bump('alice') }), h.as('alice'));
    await h.cache.respond('k', h.query('alice'), h.as('alice'));
    expect(h.produced()).toBe(2);
    expect(h.cache.size()).toBe(1);
  });

  it('never keeps or shares a response that is not stamped reusable (mutations, errors)', async () => {
    const h = harness();
    const [a, b] = await Promise.all([
      h.cache.respond('k', h.query('alice', { reusable: false }), h.as('alice')),
      h.cache.respond('k', h.query('alice', { reusable: false }), h.as('alice')),
    ]);
    expect(a).not.toBe(b);
    expect(h.produced()).toBe(2);
    expect(h.cache.size()).toBe(0);
  });

  it('lets identical requests that arrive during an execution wait for it instead of executing again', async () => {
    const h = harness();
    const results = await Promise.all(Array.from({ length: 10 }, () => h.cache.respond('k', h.query('alice'), h.as('alice'))));
    expect(h.produced()).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(h.outcomes.filter((o) => o === 'shared')).toHaveLength(9);
  });

  it('lets a waiting request execute on its own when the first one failed', async () => {
    const h = harness();
    const failing = h.cache.respond('k', () => Promise.reject(new Error('client went away')), h.as('alice'));
    const waiting = h.cache.respond('k', h.query('alice'), h.as('alice'));
    await expect(failing).rejects.toThrow('client went away');
    expect((await waiting).status).toBe(200);
    expect(h.produced()).toBe(1);
  });

  it('holds at most maxEntries and maxBytes, making room from earlier seconds only', async () => {
    const h = harness({ maxEntries: 2, maxBytes: 1600 });
    await h.cache.respond('a', h.query('alice'), h.as('alice'));
    await h.cache.respond('b', h.query('alice'), h.as('alice'));
    await h.cache.respond('c', h.query('alice'), h.as('alice'));
    expect(h.cache.size()).toBe(2); // full of this second's entries: c is not kept
    expect(h.outcomes.slice(-1)).toEqual(['miss']);
    await h.cache.respond('a', h.query('alice'), h.as('alice'));
    expect(h.outcomes.slice(-1)).toEqual(['hit']);

    h.advance(1000);
    await h.cache.respond('c', h.query('alice'), h.as('alice'));
    expect(h.cache.size()).toBe(1); // the earlier second's entries made room
    await h.cache.respond('d', h.query('alice', { bytes: 101 }), h.as('alice'));
    expect(h.cache.size()).toBe(1); // over maxBytes / 16: never kept

    h.advance(1000);
    await h.cache.respond('e', h.query('alice', { reusable: false }), h.as('alice'));
    expect(h.cache.size()).toBe(0); // a new second frees the last one's entries, even when nothing new is kept
  });
});
