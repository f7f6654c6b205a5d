// Fair admission: waiting jobs are served round-robin across owners, so one owner's burst cannot starve another.
import type { VideoJob } from './video-job.ts';

/**
 * The order in which waiting jobs will be admitted: one job per owner per round, owners in rotation order
 * starting after `lastServedOwner`, each owner's jobs oldest first. `waiting` must be in creation order.
 */
export function admissionOrder(waiting: readonly VideoJob[], lastServedOwner: string | null): VideoJob[] {
  const byOwner = new Map<string, VideoJob[]>();
  for (const job of waiting) {
    const queue = byOwner.get(job.ownerId);
    if (queue) queue.push(job);
    else byOwner.set(job.ownerId, [job]);
  }
  // Owners ordered by their oldest waiting job, rotated so the last served owner goes last.
  const owners = [...byOwner.keys()];
  const lastIndex = lastServedOwner === null ? -1 : owners.indexOf(lastServedOwner);
  const rotated = lastIndex < 0 ? owners : [...owners.slice(lastIndex + 1), ...owners.slice(0, lastIndex + 1)];

  const order: VideoJob[] = [];
  for (let round = 0; order.length < waiting.length; round++) {
    for (const owner of rotated) {
      const job = byOwner.get(owner)![round];
      if (job) order.push(job);
    }
  }
  return order;
}
