// generateVideo, cancelVideoJob, deleteVideoJob: the engine's outcomes mapped onto the contract's result unions.
import { normalizeGenerateRequest } from '../domain/generate-request.ts';
import type { VideoJob } from '../domain/video-job.ts';
import { builder } from './builder.ts';
import {
  IdempotencyConflictError,
  NotCancelableError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  UpstreamError,
  ValidationError,
} from './error-classes.ts';
import { VideoSizeEnum } from './enums.ts';
import { localId, toGlobalId } from './global-id.ts';
import { VideoJobRef } from './video-job.ts';

const GenerateVideoInput = builder.inputType('GenerateVideoInput', {
  fields: (t) => ({
    prompt: t.string({ required: true }),
    negativePrompt: t.string(),
    size: t.field({ type: VideoSizeEnum, defaultValue: 'LANDSCAPE_720P' }),
    durationSeconds: t.int({ defaultValue: 5 }),
    enablePromptExpansion: t.boolean({ defaultValue: true }),
    seed: t.int(),
    audioId: t.id({ description: 'An AudioAsset id from uploadAudio.' }),
    idempotencyKey: t.string({
      description: 'Repeating a request with the same key returns the same job instead of creating another.',
    }),
  }),
});

const GenerateVideoSuccess = builder.objectRef<{ job: VideoJob; deduplicated: boolean }>('GenerateVideoSuccess').implement({
  fields: (t) => ({
    job: t.field({ type: VideoJobRef, resolve: (result) => result.job }),
    deduplicated: t.exposeBoolean('deduplicated', {
      description: 'True when an earlier job with the same idempotency key was returned.',
    }),
  }),
});

const CancelVideoJobSuccess = builder.objectRef<{ job: VideoJob }>('CancelVideoJobSuccess').implement({
  fields: (t) => ({ job: t.field({ type: VideoJobRef, resolve: (result) => result.job }) }),
});

const DeleteVideoJobSuccess = builder.objectRef<{ deletedId: string }>('DeleteVideoJobSuccess').implement({
  fields: (t) => ({ deletedId: t.exposeID('deletedId') }),
});

const jobNotFound = () => new NotFoundError('No video job with this id');

builder.mutationField('generateVideo', (t) =>
  t.field({
    type: GenerateVideoSuccess,
    errors: {
      types: [ValidationError, QuotaExceededError, RateLimitedError, NotFoundError, IdempotencyConflictError, UpstreamError],
    },
    args: { input: t.arg({ type: GenerateVideoInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      let audioId: string | null = null;
      if (input.audioId != null) {
        audioId = localId(input.audioId, 'AudioAsset');
        if (audioId === null) {
          // Bad input is reported before a missing audio, as the engine does for ids that decode.
          const checked = normalizeGenerateRequest(input, () => 0);
          if (!checked.ok) throw new ValidationError(checked.fieldErrors);
          throw new NotFoundError('No audio with this id');
        }
      }
      const outcome = await context.services.engine.createJob(context.viewer.id, { ...input, audioId });
      switch (outcome.kind) {
        case 'created':
          return { job: outcome.job, deduplicated: false };
        case 'deduplicated':
          return { job: outcome.job, deduplicated: true };
        case 'invalid':
          throw new ValidationError(outcome.fieldErrors);
        case 'audioNotFound':
          throw new NotFoundError('No audio with this id');
        case 'quota':
          throw new QuotaExceededError(outcome.limit, outcome.retryAfterSeconds);
        case 'rateLimited':
          throw new RateLimitedError(outcome.retryAfterSeconds);
        case 'idempotencyConflict':
          throw new IdempotencyConflictError(outcome.existingJob);
        case 'upstreamRefused':
          throw new UpstreamError(outcome.message);
      }
    },
  }),
);

builder.mutationField('cancelVideoJob', (t) =>
  t.field({
    type: CancelVideoJobSuccess,
    errors: { types: [NotFoundError, NotCancelableError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const jobId = localId(id, 'VideoJob');
      if (jobId === null) throw jobNotFound();
      const outcome = await context.services.engine.cancelJob(context.viewer.id, jobId);
      switch (outcome.kind) {
        case 'canceled':
          return { job: outcome.job };
        case 'notFound':
          throw jobNotFound();
        case 'notCancelable':
          throw new NotCancelableError(outcome.reason, outcome.job);
      }
    },
  }),
);

builder.mutationField('deleteVideoJob', (t) =>
  t.field({
    type: DeleteVideoJobSuccess,
    description: "Removes a terminal job and its stored files from the viewer's history.",
    errors: { types: [NotFoundError, ValidationError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const jobId = localId(id, 'VideoJob');
      if (jobId === null) throw jobNotFound();
      const outcome = await context.services.engine.deleteJob(context.viewer.id, jobId);
      switch (outcome.kind) {
        case 'deleted':
          return { deletedId: toGlobalId('VideoJob', outcome.jobId) };
        case 'notFound':
          throw jobNotFound();
        case 'notTerminal':
          throw new ValidationError(
            [{ path: ['id'], message: `the job is ${outcome.job.status}; only finished jobs (SUCCEEDED, FAILED, CANCELED) can be deleted` }],
            'Only a finished job can be deleted',
          );
      }
    },
  }),
);
