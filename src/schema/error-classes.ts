// The typed failures of mutation results (CONTRACT.md §8). Plain classes: resolvers throw them and the errors
// plugin turns each into its union member; src/schema/errors.ts registers their GraphQL types.
import type { FieldError } from '../domain/generate-request.ts';
import type { VideoJob } from '../domain/video-job.ts';

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'IDEMPOTENCY_CONFLICT'
  | 'NOT_CANCELABLE'
  | 'UPSTREAM_ERROR';

export abstract class GatewayError extends Error {
  abstract readonly code: ErrorCode;
}

export class ValidationError extends GatewayError {
  readonly code = 'VALIDATION_FAILED';
  constructor(
    readonly fieldErrors: FieldError[],
    message = `Invalid input: ${fieldErrors.map((e) => `${e.path.join('.')} ${e.message}`).join('; ')}`,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends GatewayError {
  readonly code = 'NOT_FOUND';
  constructor(message = 'Not found') {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class QuotaExceededError extends GatewayError {
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`You already have ${limit} unfinished jobs, the most allowed; wait for one to finish`);
    this.name = 'QuotaExceededError';
  }
}

export class RateLimitedError extends GatewayError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many jobs started in the last minute; retry in ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
  }
}

export class IdempotencyConflictError extends GatewayError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly existingJob: VideoJob) {
    super('This idempotency key was already used for a job with other parameters');
    this.name = 'IdempotencyConflictError';
  }
}

export class NotCancelableError extends GatewayError {
  readonly code = 'NOT_CANCELABLE';
  constructor(
    message: string,
    readonly job: VideoJob,
  ) {
    super(message);
    this.name = 'NotCancelableError';
  }
}

export class UpstreamError extends GatewayError {
  readonly code = 'UPSTREAM_ERROR';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** Standard Schema issues (plugin-validation) → the contract's FieldError list. */
export function fieldErrorsFromIssues(issues: readonly StandardIssue[]): FieldError[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)),
    message: issue.message,
  }));
}
