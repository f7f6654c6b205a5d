// CONTRACT.md §5: how Scenario's statuses map onto the gateway's lifecycle.
import type { JobStatus } from '../domain/video-job.ts';

const MAPPING: Record<string, JobStatus> = {
  pending: 'QUEUED',
  queued: 'QUEUED',
  'warming-up': 'QUEUED',
  'in-progress': 'IN_PROGRESS',
  finalizing: 'IN_PROGRESS',
  // Not SUCCEEDED yet: the outputs still have to be stored by the gateway.
  success: 'IN_PROGRESS',
  failure: 'FAILED',
  canceled: 'CANCELED',
};

/** The gateway status for an upstream status, or null for a status this gateway does not know (kept, polling goes on). */
export function mapUpstreamStatus(upstreamStatus: string): JobStatus | null {
  return MAPPING[upstreamStatus] ?? null;
}
