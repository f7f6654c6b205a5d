// VideoAsset: a stored output video. `url` and `thumbnailUrl` come from the configured media URL mode (src/media/urls.ts).
import type { VideoAsset } from '../domain/video-job.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { mediaExpiry, mediaUrl } from './media-urls.ts';
import { DateTimeScalar } from './scalars.ts';

export const VideoAssetRef = builder.loadableNode('VideoAsset', {
  id: { resolve: (asset: VideoAsset) => asset.id },
  // Only node(id:) loads assets one by one; a job's list comes in one batch (VideoJob.videos).
  load: async (ids: string[], context: GraphQLContext) => {
    const assets = await Promise.all(ids.map((id) => context.services.store.getVideoAsset(id)));
    return assets.filter((asset): asset is VideoAsset => asset?.ownerId === context.viewer.id);
  },
  sort: (asset) => asset.id,
  fields: (t) => ({
    url: t.string({
      description:
        'Absolute URL served by the gateway; works without headers (e.g. <video src>) until urlExpiresAt; supports Range requests.',
      resolve: (asset, _args, context) => mediaUrl(context, asset.filePath),
    }),
    urlExpiresAt: t.field({
      type: DateTimeScalar,
      nullable: true,
      resolve: (_asset, _args, context) => {
        const expiry = mediaExpiry(context);
        return expiry === null ? null : expiry * 1000;
      },
    }),
    thumbnailUrl: t.string({
      nullable: true,
      resolve: (asset, _args, context) => (asset.thumbnailPath ? mediaUrl(context, asset.thumbnailPath) : null),
    }),
    mimeType: t.exposeString('mimeType'),
    byteSize: t.exposeInt('byteSize', { nullable: true }),
    width: t.exposeInt('width', { nullable: true }),
    height: t.exposeInt('height', { nullable: true }),
    durationSeconds: t.exposeFloat('durationSeconds', { nullable: true }),
    frameRate: t.exposeFloat('frameRate', { nullable: true }),
    upstreamAssetId: t.exposeString('upstreamAssetId', { nullable: true }),
  }),
});
