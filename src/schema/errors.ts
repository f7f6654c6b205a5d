// GraphQL types of the typed failures: the Error interface and one object type per class in error-classes.ts.
import type { FieldError } from '../domain/generate-request.ts';
import { builder } from './builder.ts';
import {
  GatewayError,
  IdempotencyConflictError,
  NotCancelableError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  UpstreamError,
  ValidationError,
} from './error-classes.ts';
import { VideoJobRef } from './video-job.ts';

export const ErrorInterface = builder.interfaceRef<GatewayError>('Error').implement({
  description: 'Every typed failure in a mutation result union implements Error.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code', { description: 'Stable machine-readable code, e.g. VALIDATION_FAILED.' }),
  }),
});

const FieldErrorRef = builder.objectRef<FieldError>('FieldError').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Input path of the bad value, e.g. ["input", "durationSeconds"].' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (error) => error.fieldErrors }) }),
});

builder.objectType(NotFoundError, { name: 'NotFoundError', interfaces: [ErrorInterface] });

builder.objectType(QuotaExceededError, {
  name: 'QuotaExceededError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: "The viewer's limit of jobs that are not yet finished." }),
    // Non-null, unlike the contract's Int: a union member sharing a field name with RateLimitedError.retryAfterSeconds
    // (Int!) must have the same type, or a client selecting both has to alias one of them.
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
      description: 'Seconds until one of the viewer\'s jobs should finish (a minute when the gateway has no history yet).',
    }),
  }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'Seconds until the viewer may start another job.' }),
  }),
});

builder.objectType(IdempotencyConflictError, {
  name: 'IdempotencyConflictError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    existingJob: t.field({
      type: VideoJobRef,
      nullable: true,
      description: 'The job created earlier with the same idempotency key but other parameters.',
      resolve: (error) => error.existingJob,
    }),
  }),
});

builder.objectType(NotCancelableError, {
  name: 'NotCancelableError',
  interfaces: [ErrorInterface],
  // Non-null, like CancelVideoJobSuccess.job, so both can be selected in one query without an alias.
  fields: (t) => ({ job: t.field({ type: VideoJobRef, resolve: (error) => error.job }) }),
});

builder.objectType(UpstreamError, {
  name: 'UpstreamError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryable: t.exposeBoolean('retryable') }),
});
