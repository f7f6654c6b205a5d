// Query.videoJobs: the viewer's jobs as a Relay connection over keyset cursors (JobCursor {time, id}), never offsets,
// so a page stays correct while jobs are created, updated or deleted around it.
import { hasNul } from '../domain/generate-request.ts';
import type { VideoJobFilter, VideoJobOrder } from '../domain/job-filter.ts';
import type { VideoJob } from '../domain/video-job.ts';
import type { JobCursor, JobPageQuery } from '../store/store.ts';
import { builder } from './builder.ts';
import { JobStatusEnum, VideoJobOrderEnum, VideoSizeEnum } from './enums.ts';
import { badUserInput } from './request-errors.ts';
import { DateTimeScalar } from './scalars.ts';
import { VideoJobRef } from './video-job.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
const CURSOR_VERSION = 1;

export const VideoJobFilterInput = builder.inputType('VideoJobFilter', {
  fields: (t) => ({
    status: t.field({ type: [JobStatusEnum], required: { list: false, items: true } }),
    search: t.string({ description: 'Case-insensitive match on prompt and negative prompt.' }),
    createdAfter: t.field({ type: DateTimeScalar }),
    createdBefore: t.field({ type: DateTimeScalar }),
    size: t.field({ type: [VideoSizeEnum], required: { list: false, items: true } }),
    durationSeconds: t.intList({ required: { list: false, items: true } }),
    hasAudio: t.boolean(),
  }),
});

const cursorTime = (job: VideoJob, order: VideoJobOrder) => (order === 'UPDATED_AT_DESC' ? job.updatedAt : job.createdAt);

/** Opaque to clients; bound to the order it was issued for. */
export function encodeCursor(job: VideoJob, order: VideoJobOrder): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, order, cursorTime(job, order), job.id])).toString('base64url');
}

function parseCursor(cursor: string): unknown[] | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

export function decodeCursor(cursor: string, order: VideoJobOrder, argName: string): JobCursor {
  const value = parseCursor(cursor);
  if (value?.length === 4 && value[0] === CURSOR_VERSION) {
    const [, cursorOrder, time, id] = value;
    if (cursorOrder !== order) {
      throw badUserInput(`Argument "${argName}" is a cursor of another orderBy; start again from the first page`);
    }
    if (Number.isSafeInteger(time) && typeof id === 'string' && !hasNul(id)) return { time: time as number, id };
  }
  throw badUserInput(`Argument "${argName}" is not a cursor of this connection`);
}

function checkPageSize(name: 'first' | 'last', value: number | null | undefined): void {
  if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
    throw badUserInput(`Argument "${name}" must be between 0 and ${MAX_PAGE_SIZE} (got ${value})`);
  }
}

interface VideoJobConnectionShape {
  edges: Array<{ cursor: string; node: VideoJob }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** Counted only when selected. */
  count: () => Promise<number>;
}

builder.queryField('videoJobs', (t) =>
  t.connection(
    {
      type: VideoJobRef,
      description: "The viewer's jobs.",
      args: {
        filter: t.arg({ type: VideoJobFilterInput }),
        orderBy: t.arg({ type: VideoJobOrderEnum, defaultValue: 'CREATED_AT_DESC' }),
      },
      resolve: async (_root, args, context): Promise<VideoJobConnectionShape> => {
        // Pothos' connection helpers clamp silently; the contract wants an error.
        checkPageSize('first', args.first);
        checkPageSize('last', args.last);
        if (args.first != null && args.last != null) throw badUserInput('Use either "first" or "last", not both');
        const order: VideoJobOrder = args.orderBy ?? 'CREATED_AT_DESC';
        const filter: VideoJobFilter | null = args.filter ?? null;
        if (filter?.search && hasNul(filter.search)) throw badUserInput('Argument "filter.search" must not contain the NUL character (U+0000)');
        const after = args.after != null ? decodeCursor(args.after, order, 'after') : null;
        const before = args.before != null ? decodeCursor(args.before, order, 'before') : null;
        const fromEnd = args.last != null;
        const query: JobPageQuery = {
          ownerId: context.viewer.id,
          filter,
          order,
          after,
          before,
          limit: args.first ?? args.last ?? DEFAULT_PAGE_SIZE,
          fromEnd,
        };
        const page = await context.services.store.listJobs(query);
        const edges = page.jobs.map((job) => ({ cursor: encodeCursor(job, order), node: job }));
        return {
          edges,
          pageInfo: {
            // As Relay's spec allows: the side a page was not read towards is judged by the cursor given.
            hasNextPage: fromEnd ? before !== null : page.hasMore,
            hasPreviousPage: fromEnd ? page.hasMore : after !== null,
            startCursor: edges[0]?.cursor ?? null,
            endCursor: edges.at(-1)?.cursor ?? null,
          },
          count: () => context.services.store.countJobs(context.viewer.id, filter),
        };
      },
    },
    {
      name: 'VideoJobConnection',
      fields: (tc) => ({
        totalCount: tc.int({
          description: 'Number of jobs matching the filter, ignoring pagination.',
          resolve: (connection) => (connection as unknown as VideoJobConnectionShape).count(),
        }),
      }),
    },
    { name: 'VideoJobEdge' },
  ),
);
