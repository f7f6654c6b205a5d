// What a bus that lost messages reads back (src/events/resync.ts): the current state of every job with a listener,
// and every job of a listened-to owner that changed since the loss (with a margin for clocks), nothing older.
import { afterAll, describe, expect, it } from 'vitest';
import { resyncFrom } from '../src/events/resync.ts';
import { newJob, StoreFiles } from './helpers/store-fixtures.ts';

const files = new StoreFiles();
afterAll(() => files.cleanup());

describe('resync after lost bus messages', () => {
  it('reads the followed jobs and the owners’ jobs changed since the loss, as views without scheduling state', async () => {
    const { store, clock } = await files.open();
    const { user: alice } = await store.ensureUser('alice');
    const { user: bob } = await store.ensureUser('bob');
    const create = async (ownerId: string) => {
      const result = await store.createJob(newJob(ownerId), { maxActiveJobs: 1000 });
      if (result.kind !== 'created') throw new Error(result.kind);
      return result.job;
    };
    const old = await create(alice.id);
    const followed = await create(bob.id);
    clock.advance(10 * 60_000);
    const since = clock.time;
    // Changed during the outage, for alice: 150 jobs, more than one page.
    const changed = [];
    for (let i = 0; i < 150; i++) changed.push(await create(alice.id));
    await store.updateJob(followed.id, { status: 'QUEUED', nextCheckAt: 1 });

    const updates = await resyncFrom(store)({ jobIds: [followed.id, 'unknown'], ownerIds: [alice.id], since });
    const ids = updates.map((job) => job.id);
    expect(ids).toContain(followed.id);
    expect(ids).not.toContain(old.id);
    expect(new Set(ids.filter((id) => id !== followed.id))).toEqual(new Set(changed.map((job) => job.id)));
    const followedNow = updates.find((job) => job.id === followed.id)!;
    expect(followedNow).toMatchObject({ status: 'QUEUED', version: 2 });
    expect(followedNow).not.toHaveProperty('nextCheckAt');
    expect(followedNow).not.toHaveProperty('upstreamPayload');
  });
});
