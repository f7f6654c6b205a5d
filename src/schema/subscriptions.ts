// Subscription.jobUpdated and Subscription.videoJobsUpdated, over graphql-ws and SSE alike.
import { initContextCache } from '@pothos/core';
import { ACTIVE_STATUSES, type JobView } from '../domain/video-job.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { localId } from './global-id.ts';
import { JobUpdateStream, OwnerJobsStream } from './live-streams.ts';
import { notFound } from './request-errors.ts';
import { VideoJobRef } from './video-job.ts';
import { VideoJobFilterInput } from './video-jobs.ts';

/** Most unfinished jobs read to seed videoJobsUpdated; far above MAX_ACTIVE_JOBS_PER_USER in practice. */
const UNFINISHED_SNAPSHOT_LIMIT = 1000;

/**
 * Forgets what Pothos cached for this context (data loaders, scope-auth results): both live in WeakMaps keyed by the
 * context's cache object, so a new cache object drops them all.
 */
function resetPothosCaches(context: GraphQLContext): void {
  Object.assign(context, initContextCache());
}

/** A subscription keeps one context for its whole life: every message is resolved with fresh loaders and URLs. */
function freshMessage(job: JobView, context: GraphQLContext): JobView {
  resetPothosCaches(context);
  context.mediaUrlExpiry = undefined;
  return job;
}

/**
 * The streams are asked for their next item once the previous message is resolved and sent: from then on the
 * subscription waits, often for minutes, and the caches of the last message (~2 KB: a DataLoader, scope-auth's
 * request cache and their WeakMap entries) are dropped instead of being kept until the next message.
 */
function releaseCachesWhileWaiting(stream: JobUpdateStream | OwnerJobsStream, context: GraphQLContext): void {
  stream.onPull(() => resetPothosCaches(context));
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
      releaseCachesWhileWaiting(stream, context);
      try {
        // Listen first (live once this resolves), then read: a change committed in between is in the stream, not lost.
        stream.onClose(await context.services.bus.subscribeToJob(jobId, (job) => stream.push(job)));
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
      releaseCachesWhileWaiting(stream, context);
      try {
        stream.onClose(await context.services.bus.subscribeToOwner(context.viewer.id, (job) => stream.push(job)));
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
