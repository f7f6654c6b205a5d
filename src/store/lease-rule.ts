// Whether a job write may pass the job's lease (UpdateJobOptions.lease), the same for every store. `now` is the
// clock leases run on: the database's for PostgreSQL, the machine's for SQLite.
import type { VideoJob } from '../domain/video-job.ts';
import type { UpdateJobOptions } from './store.ts';

export function leaseAllows(
  job: Pick<VideoJob, 'leaseOwner' | 'leaseExpiresAt'>,
  writer: string,
  rule: NonNullable<UpdateJobOptions['lease']>,
  now: number,
): boolean {
  const live = job.leaseOwner !== null && (job.leaseExpiresAt ?? 0) > now;
  if (rule === 'override') return true;
  if (rule === 'held') return live && job.leaseOwner === writer;
  return !live || job.leaseOwner === writer;
}
