// withOwnerVersions: every write to a user's data moves that user's version once it has committed; reads and
// writes that changed nothing do not.
import { afterAll, describe, expect, it } from 'vitest';
import { OwnerVersions, withOwnerVersions } from '../src/store/owner-versions.ts';
import { audioRow } from './helpers/api-harness.ts';
import { newJob, StoreFiles } from './helpers/store-fixtures.ts';

const files = new StoreFiles();
afterAll(() => files.cleanup());

async function versionedStore() {
  const { store: raw } = await files.open();
  const versions = new OwnerVersions();
  const store = withOwnerVersions(raw, versions);
  const alice = (await store.ensureUser('alice')).user.id;
  const bob = (await store.ensureUser('bob')).user.id;
  const seen = () => ({ alice: versions.current(alice), bob: versions.current(bob) });
  return { store, alice, bob, seen };
}

describe('withOwnerVersions', () => {
  it('moves the owner’s version on every job write, and only the owner’s', async () => {
    const { store, alice, bob, seen } = await versionedStore();
    expect(seen()).toEqual({ alice: 0, bob: 0 });

    const created = await store.createJob(newJob(alice, { idempotencyKey: 'k1' }), { maxActiveJobs: 1 });
    expect(created.kind).toBe('created');
    expect(seen()).toEqual({ alice: 1, bob: 0 });
    // The same key again, then over quota: nothing written, nothing moves.
    expect((await store.createJob(newJob(alice, { idempotencyKey: 'k1' }), { maxActiveJobs: 1 })).kind).toBe('existing');
    expect((await store.createJob(newJob(alice), { maxActiveJobs: 1 })).kind).toBe('quota');
    expect(seen()).toEqual({ alice: 1, bob: 0 });

    const job = created.kind === 'created' ? created.job : null;
    await store.updateJob(job!.id, { progress: 0.5 });
    expect(seen()).toEqual({ alice: 2, bob: 0 });
    // A compare-and-set that did not apply changed nothing.
    expect(await store.updateJob(job!.id, { progress: 0.6 }, { ifVersion: 1 })).toBeNull();
    expect(seen()).toEqual({ alice: 2, bob: 0 });

    const bobs = await store.createJob(newJob(bob), { maxActiveJobs: 10 });
    const bobJob = bobs.kind === 'created' ? bobs.job : null;
    await store.updateJobs([
      { id: job!.id, patch: { status: 'SUCCEEDED', phase: 'done', progress: 1, nextCheckAt: null } },
      { id: bobJob!.id, patch: { progress: 0.1 } },
    ]);
    expect(seen()).toEqual({ alice: 3, bob: 2 });

    await store.deleteJob(job!.id);
    expect(seen()).toEqual({ alice: 4, bob: 2 });

    // Reads move nothing.
    await store.listJobs({ ownerId: alice, filter: null, order: 'CREATED_AT_DESC', limit: 10 });
    await store.getJob(bobJob!.id);
    expect(seen()).toEqual({ alice: 4, bob: 2 });
  });

  it('moves the owner’s version when audio is stored or gets its upstream id', async () => {
    const { store, alice, seen } = await versionedStore();
    await store.addAudio(audioRow('audio-1', alice, 1));
    expect(seen().alice).toBe(1);
    await store.setAudioUpstreamId('audio-1', 'asset_up_1');
    expect(seen().alice).toBe(2);
    expect((await store.getAudios(['audio-1']))[0]?.upstreamAssetId).toBe('asset_up_1');
  });
});
