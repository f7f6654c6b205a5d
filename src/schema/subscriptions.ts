// Subscription.jobUpdated and Subscription.videoJobsUpdated, over graphql-ws and SSE alike.
import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import { ACTIVE_STATUSES, type VideoJob } from '../domain/video-job.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { localId } from './global-id.ts';
import { JobUpdateStream, OwnerJobsStream } from './live-streams.ts';
import { notFound } from './request-errors.ts';
import { VideoJobRef } from './video-job.ts';
import { VideoJobFilterInput } from './video-jobs.ts';

/** Most unfinished jobs read to seed videoJobsUpdated; far above MAX_ACTIVE_JOBS_PER_USER in practice. */
const UNFINISHED_SNAPSHOT_LIMIT = 1000;

/** A subscription keeps one context for its whole life: every message is resolved with fresh loaders and URLs. */
function freshMessage(job: VideoJob, context: GraphQLContext): VideoJob {
  clearAllDataLoaders(context);
  context.mediaUrlExpiry = null;
  return job;
}

builder.subscriptionFields((t) => ({
  jobUpdated: t.field({
    type: VideoJobRef,
    description:
      'First message: the job as it is now. Then one message per change, in version order.\nCompletes after the message with a terminal status.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, context) => {
      const jobId = localId(id, 'VideoJob');
      if (jobId === null) throw notFound('No video job with this id');
      const stream = new JobUpdateStream();
      // Listen first, then read: a change committed in between is in the stream, not lost.
      stream.onClose(context.services.bus.subscribeToJob(jobId, (job) => stream.push(job)));
      try {
        const job = await context.services.store.getJob(jobId);
        if (!job || job.ownerId !== context.viewer.id) throw notFound('No video job with this id');
        stream.start(job);
        return stream;
      } catch (error) {
        await stream.return();
        throw error;
      }
    },
    resolve: (job, _args, context) => freshMessage(job, context),
  }),
  videoJobsUpdated: t.field({
    type: VideoJobRef,
    description: "Every change to any of the viewer's jobs that matches the filter.",
    args: { filter: t.arg({ type: VideoJobFilterInput }) },
    subscribe: async (_root, { filter }, context) => {
      const stream = new OwnerJobsStream(filter ?? null);
      stream.onClose(context.services.bus.subscribeToOwner(context.viewer.id, (job) => stream.push(job)));
      try {
        const unfinished = await context.services.store.listJobs({
          ownerId: context.viewer.id,
          filter: { status: [...ACTIVE_STATUSES] },
          order: 'CREATED_AT_ASC',
          limit: UNFINISHED_SNAPSHOT_LIMIT,
        });
        stream.start(unfinished.jobs);
        return stream;
      } catch (error) {
        await stream.return();
        throw error;
      }
    },
    resolve: (job, _args, context) => freshMessage(job, context),
  }),
}));
