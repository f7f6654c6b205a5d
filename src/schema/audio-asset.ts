// AudioAsset: a node, loaded in batches and only for its owner; uploadAudio creates one.
import { z } from 'zod';
import type { AudioAsset } from '../domain/video-job.ts';
import { AUDIO_LIMITS } from '../engine/audio-import.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { UpstreamError, ValidationError } from './error-classes.ts';
import { DateTimeScalar, FileScalar } from './scalars.ts';
import { mediaUrl } from './media-urls.ts';

export const AudioAssetRef = builder.loadableNode('AudioAsset', {
  id: { resolve: (audio: AudioAsset) => audio.id },
  // Another user's audio loads as null, exactly like an unknown id.
  load: async (ids: string[], context: GraphQLContext) =>
    (await context.services.store.getAudios(ids)).filter((audio): audio is AudioAsset => audio?.ownerId === context.viewer.id),
  sort: (audio) => audio.id,
  fields: (t) => ({
    fileName: t.exposeString('fileName'),
    mimeType: t.exposeString('mimeType'),
    byteSize: t.exposeInt('byteSize'),
    durationSeconds: t.exposeFloat('durationSeconds', { nullable: true }),
    upstreamAssetId: t.exposeString('upstreamAssetId', {
      nullable: true,
      description: 'Upstream asset id once the file is imported upstream.',
    }),
    createdAt: t.expose('createdAt', { type: DateTimeScalar }),
    url: t.string({
      description: 'Signed URL of the stored file (like VideoAsset.url); valid for MEDIA_URL_TTL_SECONDS.',
      resolve: (audio, _args, context) => mediaUrl(context, audio.filePath),
    }),
  }),
});

const UploadAudioSuccess = builder.objectRef<{ audio: AudioAsset }>('UploadAudioSuccess').implement({
  fields: (t) => ({ audio: t.field({ type: AudioAssetRef, resolve: (result) => result.audio }) }),
});

/** Refuses an oversized part before its bytes are copied out of the request. */
const fileArg = z.custom<{ size: number }>().refine((file) => file.size <= AUDIO_LIMITS.maxBytes, {
  message: `must be at most ${AUDIO_LIMITS.maxBytes / (1024 * 1024)} MB`,
});

builder.mutationField('uploadAudio', (t) =>
  t.field({
    type: UploadAudioSuccess,
    description: 'Stores an mp3, wav, ogg or m4a file of 3 to 30 s (at most 15 MB) for use as `GenerateVideoInput.audioId`.',
    errors: { types: [ValidationError, UpstreamError] },
    args: { file: t.arg({ type: FileScalar, required: true, validate: fileArg }) },
    resolve: async (_root, { file }, context) => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const outcome = await context.services.engine.uploadAudio(context.viewer.id, { fileName: file.name, bytes });
      switch (outcome.kind) {
        case 'stored':
          return { audio: outcome.audio };
        case 'invalid':
          throw new ValidationError(outcome.fieldErrors);
        case 'upstreamRefused':
          throw new UpstreamError(outcome.message);
      }
    },
  }),
);
