// The contract's enums, backed by the domain's own constants.
import { JOB_STATUSES, VIDEO_SIZES, VIDEO_SIZE_NAMES, type JobStatus, type VideoSize } from '../domain/video-job.ts';
import type { VideoJobOrder } from '../domain/job-filter.ts';
import { builder } from './builder.ts';

const STATUS_DESCRIPTIONS: Partial<Record<JobStatus, string>> = {
  PENDING: 'Accepted by the gateway, not yet accepted by the upstream provider (gateway queue, rate-limit backoff).',
  QUEUED: 'Accepted upstream, waiting to run (upstream pending, queued, warming-up).',
  IN_PROGRESS: 'Running upstream, finalizing, or the result is being stored by the gateway.',
  SUCCEEDED: 'Finished; every output video is stored by the gateway and playable from VideoAsset.url.',
};

export const JobStatusEnum = builder.enumType('JobStatus', {
  description: 'Normalised job lifecycle. Terminal states: SUCCEEDED, FAILED, CANCELED.',
  values: Object.fromEntries(JOB_STATUSES.map((status) => [status, { value: status, description: STATUS_DESCRIPTIONS[status] }])) as {
    [S in JobStatus]: { value: S; description?: string };
  },
});

export const VideoSizeEnum = builder.enumType('VideoSize', {
  values: Object.fromEntries(
    VIDEO_SIZE_NAMES.map((size) => [size, { value: size, description: `${VIDEO_SIZES[size].width}x${VIDEO_SIZES[size].height}` }]),
  ) as { [S in VideoSize]: { value: S; description: string } },
});

export const VideoJobOrderEnum = builder.enumType('VideoJobOrder', {
  values: {
    CREATED_AT_DESC: { value: 'CREATED_AT_DESC' },
    CREATED_AT_ASC: { value: 'CREATED_AT_ASC' },
    UPDATED_AT_DESC: { value: 'UPDATED_AT_DESC' },
  } satisfies { [O in VideoJobOrder]: { value: O } },
});

export const UpstreamModeEnum = builder.enumType('UpstreamMode', {
  values: {
    LIVE: { value: 'LIVE', description: 'Calls the real provider API.' },
    SIMULATED: { value: 'SIMULATED', description: 'No provider credentials configured: a built-in simulator produces placeholder videos.' },
  } as const,
});
