// VideoJob: the node clients follow. Nested lists (videos, events) and the audio come through per-request
// DataLoaders, one statement per batch whatever the page size.
import { VIDEO_SIZES, type JobError, type JobEvent, type JobView, type VideoAsset, type VideoJob } from '../domain/video-job.ts';
import { AudioAssetRef } from './audio-asset.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { JobStatusEnum, VideoSizeEnum } from './enums.ts';
import { localId } from './global-id.ts';
import { DateTimeScalar } from './scalars.ts';
import { VideoAssetRef } from './video-asset.ts';

const JobErrorRef = builder.objectRef<JobError>('JobError').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
    hint: t.exposeString('hint', { nullable: true, description: 'Actionable hint from the provider or the gateway.' }),
    retryable: t.exposeBoolean('retryable', { description: 'True when the same request may succeed if submitted again.' }),
  }),
});

const JobEventRef = builder.objectRef<JobEvent>('JobEvent').implement({
  description: 'One recorded change of a job; seq increases by one per event within a job.',
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    at: t.expose('at', { type: DateTimeScalar }),
    status: t.expose('status', { type: JobStatusEnum }),
    upstreamStatus: t.exposeString('upstreamStatus', { nullable: true }),
    progress: t.exposeFloat('progress'),
    message: t.exposeString('message', { nullable: true }),
  }),
});

/** Jobs of the viewer by id; another user's job loads as null, exactly like an unknown id. */
async function loadOwnJobs(ids: string[], context: GraphQLContext): Promise<VideoJob[]> {
  return (await context.services.store.getJobs(ids)).filter((job): job is VideoJob => job?.ownerId === context.viewer.id);
}

/** One statement per batch: `load` receives every job id asked for in the same tick. */
function groupedLoader<T>(list: (ids: readonly string[]) => Promise<Map<string, T[]>>) {
  return async (jobIds: string[]): Promise<T[][]> => {
    const byJob = await list(jobIds);
    return jobIds.map((id) => byJob.get(id) ?? []);
  };
}

export const VideoJobRef = builder.loadableNode('VideoJob', {
  id: { resolve: (job: JobView) => job.id },
  load: loadOwnJobs,
  sort: (job) => job.id,
  fields: (t) => ({
    version: t.exposeInt('version', {
      description: 'Starts at 1 and increases on every change; messages of jobUpdated carry strictly increasing versions.',
    }),
    status: t.expose('status', { type: JobStatusEnum }),
    upstreamStatus: t.exposeString('upstreamStatus', {
      nullable: true,
      description: 'Raw status last reported by the provider, e.g. "warming-up".',
    }),
    upstreamJobId: t.exposeString('upstreamJobId', { nullable: true }),
    progress: t.exposeFloat('progress', { description: '0 to 1.' }),
    etaSeconds: t.int({
      nullable: true,
      description: 'Estimated seconds until a terminal state; null when unknown or terminal.',
      resolve: (job, _args, context) => context.services.engine.etaSeconds(job),
    }),
    queuePosition: t.exposeInt('queuePosition', {
      nullable: true,
      description: 'Position in the gateway queue while PENDING (1 = next).',
    }),
    prompt: t.exposeString('prompt'),
    negativePrompt: t.exposeString('negativePrompt', { nullable: true }),
    size: t.expose('size', { type: VideoSizeEnum }),
    width: t.int({ resolve: (job) => VIDEO_SIZES[job.size].width }),
    height: t.int({ resolve: (job) => VIDEO_SIZES[job.size].height }),
    durationSeconds: t.exposeInt('durationSeconds'),
    enablePromptExpansion: t.exposeBoolean('enablePromptExpansion'),
    seed: t.exposeInt('seed', { nullable: true }),
    audio: t.field({
      type: AudioAssetRef,
      nullable: true,
      // The id is enough: the AudioAsset loader batches every job's audio of this result into one read.
      resolve: (job) => job.audioId,
    }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    error: t.field({ type: JobErrorRef, nullable: true, resolve: (job) => job.error }),
    videos: t.loadableList({
      type: VideoAssetRef,
      load: (jobIds: string[], context: GraphQLContext) =>
        groupedLoader<VideoAsset>((ids) => context.services.store.listVideoAssets(ids))(jobIds),
      resolve: (job) => job.id,
    }),
    events: t.loadableList({
      type: JobEventRef,
      load: (jobIds: string[], context: GraphQLContext) =>
        groupedLoader<JobEvent>((ids) => context.services.store.listEvents(ids))(jobIds),
      resolve: (job) => job.id,
    }),
    creativeUnitsCost: t.exposeFloat('creativeUnitsCost', { nullable: true }),
    createdAt: t.expose('createdAt', { type: DateTimeScalar }),
    updatedAt: t.expose('updatedAt', { type: DateTimeScalar }),
    submittedAt: t.expose('submittedAt', { type: DateTimeScalar, nullable: true }),
    completedAt: t.expose('completedAt', { type: DateTimeScalar, nullable: true }),
  }),
});

builder.queryField('videoJob', (t) =>
  t.field({
    type: VideoJobRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }) => localId(id, 'VideoJob'),
  }),
);
