// SQL pieces for job listings, the same on every dialect: the filter predicate (the SQL twin of `matchesFilter`) and the
// keyset (cursor) conditions. Only how text is lower-cased for search differs: each store passes its own `LowerText`.
import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, or, sql, type Column, type SQL } from 'drizzle-orm';
import type { VideoJobFilter, VideoJobOrder } from '../domain/job-filter.ts';
import type { JobCursor, JobPageQuery } from './store.ts';

/** The job columns a listing reads, whichever dialect's table they belong to. */
export interface JobListingColumns {
  id: Column;
  ownerId: Column;
  status: Column;
  size: Column;
  durationSeconds: Column;
  createdAt: Column;
  updatedAt: Column;
  audioId: Column;
  prompt: Column;
  negativePrompt: Column;
}

/** `column` lower-cased exactly as JavaScript's `toLowerCase()` does (what `matchesFilter` compares). */
export type LowerText = (column: Column) => SQL;

/** Escapes LIKE's wildcards (and the escape character itself) so user text matches literally; pair with `ESCAPE '\'`. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

type Direction = 'asc' | 'desc';
const reverse = (direction: Direction): Direction => (direction === 'asc' ? 'desc' : 'asc');

export interface PageRead {
  where: SQL | undefined;
  orderBy: SQL[];
  /** The rows come back against the page's order (Relay `last`) and must be reversed after trimming. */
  reversed: boolean;
}

export class JobListing {
  constructor(
    private readonly jobs: JobListingColumns,
    private readonly lowerText: LowerText,
  ) {}

  /**
   * The SQL twin of `matchesFilter` (src/domain/job-filter.ts): empty lists and empty search mean "no condition",
   * the created bounds are exclusive, and a NULL negative prompt never matches a search.
   */
  filterCondition(filter: VideoJobFilter | null | undefined): SQL | undefined {
    if (!filter) return undefined;
    const { jobs } = this;
    const conditions: Array<SQL | undefined> = [];
    if (filter.status?.length) conditions.push(inArray(jobs.status, filter.status));
    if (filter.size?.length) conditions.push(inArray(jobs.size, filter.size));
    if (filter.durationSeconds?.length) conditions.push(inArray(jobs.durationSeconds, filter.durationSeconds));
    if (filter.createdAfter != null) conditions.push(gt(jobs.createdAt, filter.createdAfter));
    if (filter.createdBefore != null) conditions.push(lt(jobs.createdAt, filter.createdBefore));
    if (filter.hasAudio != null) conditions.push(filter.hasAudio ? isNotNull(jobs.audioId) : isNull(jobs.audioId));
    if (filter.search) conditions.push(or(this.containsText(jobs.prompt, filter.search), this.containsText(jobs.negativePrompt, filter.search)));
    return and(...conditions);
  }

  /**
   * How to read one page: `after` and `before` bound the window in the order's direction; a forward page reads
   * from `after` onwards, a `fromEnd` page reads backwards from `before` (or from the end).
   */
  pageRead(query: JobPageQuery): PageRead {
    const { time, direction } = this.orderKey(query.order);
    const readDirection = query.fromEnd ? reverse(direction) : direction;
    const by = readDirection === 'asc' ? asc : desc;
    return {
      where: and(
        eq(this.jobs.ownerId, query.ownerId),
        this.filterCondition(query.filter),
        query.after ? this.beyond(time, query.after, direction) : undefined,
        query.before ? this.beyond(time, query.before, reverse(direction)) : undefined,
      ),
      orderBy: [by(time), by(this.jobs.id)],
      reversed: Boolean(query.fromEnd),
    };
  }

  private containsText(column: Column, needle: string): SQL {
    const pattern = `%${escapeLike(needle.toLowerCase())}%`;
    return sql`${this.lowerText(column)} LIKE ${pattern} ESCAPE '\\'`;
  }

  /** The time column an order sorts on (the id breaks ties) and its direction. */
  private orderKey(order: VideoJobOrder): { time: Column; direction: Direction } {
    switch (order) {
      case 'CREATED_AT_DESC':
        return { time: this.jobs.createdAt, direction: 'desc' };
      case 'CREATED_AT_ASC':
        return { time: this.jobs.createdAt, direction: 'asc' };
      case 'UPDATED_AT_DESC':
        return { time: this.jobs.updatedAt, direction: 'desc' };
    }
  }

  /** Rows strictly beyond `cursor` when reading in `direction`; a row value keeps the (owner, time, id) index usable. */
  private beyond(time: Column, cursor: JobCursor, direction: Direction): SQL {
    const operator = direction === 'asc' ? sql.raw('>') : sql.raw('<');
    return sql`(${time}, ${this.jobs.id}) ${operator} (${cursor.time}, ${cursor.id})`;
  }
}
