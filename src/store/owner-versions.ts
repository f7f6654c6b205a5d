// A counter per owner that moves on every write to that owner's jobs, events, assets or audio, so that a reader
// can tell whether anything it read of one user may have changed (the HTTP response cache, src/http/response-cache.ts).
// It lives in the process: one gateway process owns its database (CONTRACT.md), and the token CLI writes only
// users and tokens, which nothing keyed on these versions depends on.
import type { Store } from './store.ts';

export class OwnerVersions {
  private readonly versions = new Map<string, number>();

  /** The owner's current version; 0 until the first write since the process started. */
  current(ownerId: string): number {
    return this.versions.get(ownerId) ?? 0;
  }

  bump(ownerId: string): void {
    this.versions.set(ownerId, this.current(ownerId) + 1);
  }
}

/**
 * The store with every owner-data write bumping the owner's version once it has committed: a reader that saw the old
 * version before reading keeps the old version with whatever it read, so it can never pass new data off as old.
 * Writes that name only an id (delete, audio upstream id) look the owner up first.
 */
export function withOwnerVersions(store: Store, versions: OwnerVersions): Store {
  const writes: Partial<Store> = {
    async createJob(job, guard) {
      const result = await store.createJob(job, guard);
      if (result.kind === 'created') versions.bump(job.ownerId);
      return result;
    },
    async updateJob(id, patch, options) {
      const job = await store.updateJob(id, patch, options);
      if (job) versions.bump(job.ownerId);
      return job;
    },
    async updateJobs(changes) {
      const jobs = await store.updateJobs(changes);
      for (const ownerId of new Set(jobs.map((job) => job?.ownerId))) if (ownerId) versions.bump(ownerId);
      return jobs;
    },
    async deleteJob(id) {
      const job = await store.getJob(id);
      try {
        return await store.deleteJob(id);
      } finally {
        if (job) versions.bump(job.ownerId);
      }
    },
    async addAudio(audio) {
      await store.addAudio(audio);
      versions.bump(audio.ownerId);
    },
    async setAudioUpstreamId(id, upstreamAssetId) {
      const [audio] = await store.getAudios([id]);
      await store.setAudioUpstreamId(id, upstreamAssetId);
      if (audio) versions.bump(audio.ownerId);
    },
  };
  // Reads and the other writes go to the store itself, called on the store itself.
  return new Proxy(store, {
    get(target, property) {
      if (Object.hasOwn(writes, property)) return writes[property as keyof Store];
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
