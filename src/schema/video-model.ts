// Query.videoModel: what the model accepts, from the domain's WAN_T2V, and whether upstream is live or simulated.
import { VIDEO_SIZES, VIDEO_SIZE_NAMES, WAN_T2V, type VideoSize } from '../domain/video-job.ts';
import { builder } from './builder.ts';
import { UpstreamModeEnum, VideoSizeEnum } from './enums.ts';

interface VideoModelShape {
  id: string;
  upstream: 'LIVE' | 'SIMULATED';
}

const VideoSizeOption = builder.objectRef<VideoSize>('VideoSizeOption').implement({
  fields: (t) => ({
    size: t.field({ type: VideoSizeEnum, resolve: (size) => size }),
    width: t.int({ resolve: (size) => VIDEO_SIZES[size].width }),
    height: t.int({ resolve: (size) => VIDEO_SIZES[size].height }),
  }),
});

const VideoModel = builder.objectRef<VideoModelShape>('VideoModel').implement({
  fields: (t) => ({
    id: t.exposeString('id', { description: 'Upstream model id, model_wan-2-5-t2v.' }),
    name: t.string({ resolve: () => WAN_T2V.name }),
    sizes: t.field({ type: [VideoSizeOption], resolve: () => VIDEO_SIZE_NAMES }),
    durationsSeconds: t.intList({ resolve: () => [...WAN_T2V.durationsSeconds] }),
    maxPromptLength: t.int({ resolve: () => WAN_T2V.maxPromptLength }),
    maxNegativePromptLength: t.int({ resolve: () => WAN_T2V.maxNegativePromptLength }),
    upstream: t.field({ type: UpstreamModeEnum, resolve: (model) => model.upstream }),
  }),
});

builder.queryField('videoModel', (t) =>
  t.field({
    type: VideoModel,
    resolve: (_root, _args, context) => ({ id: context.services.config.modelId, upstream: context.services.upstreamMode }),
  }),
);
