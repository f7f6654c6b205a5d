// SQL pieces for job listings on PostgreSQL: the filter predicate and the keyset (cursor) conditions. The twin of
// src/store/sqlite/job-queries.ts, whose functions are bound to the SQLite tables; only search differs in substance
// (see ./lowering.ts).
import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { VideoJobFilter, VideoJobOrder } from '../../domain/job-filter.ts';
import { escapeLike } from '../sqlite/job-queries.ts';
import type { JobCursor, JobPageQuery } from '../store.ts';
import { jsLower, type Lowering } from './lowering.ts';
import { videoJobs } from './schema.ts';

function containsText(column: typeof videoJobs.prompt | typeof videoJobs.negativePrompt, needle: string, lowering: Lowering): SQL {
  const pattern = `%${escapeLike(needle.toLowerCase())}%`;
  return sql`${jsLower(column, lowering)} LIKE ${pattern} ESCAPE '\\'`;
}

/**
 * The SQL twin of `matchesFilter` (src/domain/job-filter.ts): empty lists and empty search mean "no condition",
 * the created bounds are exclusive, and a NULL negative prompt never matches a search.
 */
export function jobFilterCondition(filter: VideoJobFilter | null | undefined, lowering: Lowering): SQL | undefined {
  if (!filter) return undefined;
  const conditions: Array<SQL | undefined> = [];
  if (filter.status?.length) conditions.push(inArray(videoJobs.status, filter.status));
  if (filter.size?.length) conditions.push(inArray(videoJobs.size, filter.size));
  if (filter.durationSeconds?.length) conditions.push(inArray(videoJobs.durationSeconds, filter.durationSeconds));
  if (filter.createdAfter != null) conditions.push(gt(videoJobs.createdAt, filter.createdAfter));
  if (filter.createdBefore != null) conditions.push(lt(videoJobs.createdAt, filter.createdBefore));
  if (filter.hasAudio != null) conditions.push(filter.hasAudio ? isNotNull(videoJobs.audioId) : isNull(videoJobs.audioId));
  if (filter.search) {
    conditions.push(
      or(containsText(videoJobs.prompt, filter.search, lowering), containsText(videoJobs.negativePrompt, filter.search, lowering)),
    );
  }
  return and(...conditions);
}

type Direction = 'asc' | 'desc';
type TimeColumn = typeof videoJobs.createdAt | typeof videoJobs.updatedAt;

const reverse = (direction: Direction): Direction => (direction === 'asc' ? 'desc' : 'asc');

function orderKey(order: VideoJobOrder): { time: TimeColumn; direction: Direction } {
  switch (order) {
    case 'CREATED_AT_DESC':
      return { time: videoJobs.createdAt, direction: 'desc' };
    case 'CREATED_AT_ASC':
      return { time: videoJobs.createdAt, direction: 'asc' };
    case 'UPDATED_AT_DESC':
      return { time: videoJobs.updatedAt, direction: 'desc' };
  }
}

/** Rows strictly beyond `cursor` when reading in `direction`; a row value keeps the (owner, time, id) index usable. */
function beyond(time: TimeColumn, cursor: JobCursor, direction: Direction): SQL {
  const operator = direction === 'asc' ? sql.raw('>') : sql.raw('<');
  return sql`(${time}, ${videoJobs.id}) ${operator} (${cursor.time}, ${cursor.id})`;
}

export interface PageRead {
  where: SQL | undefined;
  orderBy: SQL[];
  /** The rows come back against the page's order (Relay `last`) and must be reversed after trimming. */
  reversed: boolean;
}

/**
 * How to read one page: `after` and `before` bound the window in the order's direction; a forward page reads
 * from `after` onwards, a `fromEnd` page reads backwards from `before` (or from the end).
 */
export function pageRead(query: JobPageQuery, lowering: Lowering): PageRead {
  const { time, direction } = orderKey(query.order);
  const readDirection = query.fromEnd ? reverse(direction) : direction;
  const by = readDirection === 'asc' ? asc : desc;
  return {
    where: and(
      eq(videoJobs.ownerId, query.ownerId),
      jobFilterCondition(query.filter, lowering),
      query.after ? beyond(time, query.after, direction) : undefined,
      query.before ? beyond(time, query.before, reverse(direction)) : undefined,
    ),
    orderBy: [by(time), by(videoJobs.id)],
    reversed: Boolean(query.fromEnd),
  };
}
