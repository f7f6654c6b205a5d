// Job listings on SQLite: the shared listing (src/store/job-queries.ts) with SQLite's way of lower-casing text.
import { sql } from 'drizzle-orm';
import { JobListing } from '../job-queries.ts';
import { videoJobs } from './schema.ts';

/**
 * The name of a connection-level SQL function that lower-cases text exactly like JavaScript's `toLowerCase()`.
 * SQLite's own `lower()` and `LIKE` fold only ASCII, so "ÉTÉ" would not match "été" while `matchesFilter` says it does.
 */
export const JS_LOWER_FUNCTION = 'js_lower';

export function jsLower(value: string | null): string | null {
  return value === null ? null : value.toLowerCase();
}

export const sqliteJobListing = new JobListing(videoJobs, (column) => sql`${sql.raw(JS_LOWER_FUNCTION)}(${column})`);
