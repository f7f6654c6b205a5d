// The iterators behind the subscriptions, driven by hand: races between the bus and the row read, out-of-order
// versions, completion, and cleanup however the stream ends.
import { describe, expect, it } from 'vitest';
import type { JobStatus, JobView } from '../src/domain/video-job.ts';
import { JobUpdateStream, OwnerJobsStream } from '../src/schema/live-streams.ts';

const job = (version: number, status: JobStatus = 'QUEUED', extra: Partial<JobView> = {}): JobView =>
  ({ id: 'job-1', ownerId: 'u1', version, status, prompt: 'a fox', negativePrompt: null, size: 'LANDSCAPE_720P', durationSeconds: 5, audioId: null, createdAt: 1, ...extra }) as JobView;

async function drain(stream: AsyncIterator<JobView>, max = 20): Promise<number[]> {
  const versions: number[] = [];
  for (let i = 0; i < max; i++) {
    const { value, done } = await stream.next();
    if (done) break;
    versions.push(value.version);
  }
  return versions;
}

describe('JobUpdateStream', () => {
  it('sends the row first, drops what it already contains, and orders the rest by version', async () => {
    const stream = new JobUpdateStream();
    // Published between subscribing and reading the row: v3 is in the row, v4 came after it.
    stream.push(job(3));
    stream.push(job(4, 'IN_PROGRESS'));
    stream.start(job(3));
    stream.push(job(6, 'IN_PROGRESS'));
    stream.push(job(5, 'IN_PROGRESS'));
    stream.push(job(4, 'IN_PROGRESS'));
    stream.push(job(7, 'SUCCEEDED'));
    stream.push(job(8, 'SUCCEEDED'));
    expect(await drain(stream)).toEqual([3, 4, 5, 6, 7]);
  });

  it('hands a change to a waiting reader, completes after a terminal message and cleans up once', async () => {
    let cleanups = 0;
    const stream = new JobUpdateStream();
    stream.onClose(() => cleanups++);
    stream.start(job(1, 'PENDING'));
    expect((await stream.next()).value?.version).toBe(1);
    const waiting = stream.next();
    stream.push(job(2, 'CANCELED'));
    expect((await waiting).value?.version).toBe(2);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    await stream.return();
    expect(cleanups).toBe(1);
  });

  it('ends a pending read and cleans up when the client leaves, even before the first message', async () => {
    let cleanups = 0;
    const early = new JobUpdateStream();
    early.onClose(() => cleanups++);
    await early.return();
    expect(cleanups).toBe(1);

    const stream = new JobUpdateStream();
    stream.onClose(() => cleanups++);
    stream.start(job(1));
    await stream.next();
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(cleanups).toBe(2);
  });

  it('answers a late subscriber with one terminal message', async () => {
    const stream = new JobUpdateStream();
    stream.start(job(9, 'FAILED'));
    expect(await drain(stream)).toEqual([9]);
  });
});

describe('OwnerJobsStream', () => {
  it('sends changes of jobs that match the filter before or after them', async () => {
    const stream = new OwnerJobsStream({ status: ['QUEUED'] });
    const other = (version: number, status: JobStatus) => job(version, status, { id: 'job-2' });
    stream.start([job(2, 'PENDING')]);
    stream.push(job(3, 'QUEUED')); // enters
    stream.push(job(4, 'QUEUED')); // stays
    stream.push(job(3, 'QUEUED')); // stale
    stream.push(job(5, 'IN_PROGRESS')); // leaves
    stream.push(job(6, 'IN_PROGRESS')); // outside
    stream.push(job(7, 'SUCCEEDED')); // outside
    stream.push(other(1, 'PENDING')); // new, outside
    stream.push(other(2, 'QUEUED')); // enters
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { value } = await stream.next();
      seen.push(`${value!.id}@${value!.version}:${value!.status}`);
    }
    expect(seen).toEqual(['job-1@3:QUEUED', 'job-1@4:QUEUED', 'job-1@5:IN_PROGRESS', 'job-2@2:QUEUED']);
    const more = stream.next();
    await stream.return();
    expect(await more).toEqual({ value: undefined, done: true });
  });

  it('keeps changes published while the snapshot was read', async () => {
    const stream = new OwnerJobsStream(null);
    stream.push(job(1, 'PENDING', { id: 'new' }));
    stream.start([]);
    expect((await stream.next()).value?.id).toBe('new');
  });

  it('never sends an older state, or the end again, after a job ended (a resync or crossing replicas)', async () => {
    const stream = new OwnerJobsStream(null);
    stream.start([job(4, 'IN_PROGRESS')]);
    stream.push(job(6, 'SUCCEEDED'));
    stream.push(job(5, 'IN_PROGRESS')); // a replica's older message, arriving late
    stream.push(job(6, 'SUCCEEDED')); // the resync's read of the same end
    stream.push(job(2, 'QUEUED', { id: 'job-2' }));
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { value } = await stream.next();
      seen.push(`${value!.id}@${value!.version}`);
    }
    expect(seen).toEqual(['job-1@6', 'job-2@2']);
    await stream.return();
  });
});
