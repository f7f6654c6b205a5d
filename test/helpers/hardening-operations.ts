// Operations for the hardening tests: the widest legitimate selections, and operations each refused by one limit.
import { LIMIT_MESSAGES } from '../../src/http/limits.ts';

/** Every field of a job: the widest selection a client can make. */
export const FULL_JOB = `id version status upstreamStatus upstreamJobId progress etaSeconds queuePosition prompt negativePrompt size width
  height durationSeconds enablePromptExpansion seed idempotencyKey creativeUnitsCost createdAt updatedAt submittedAt completedAt
  audio { id fileName mimeType byteSize durationSeconds upstreamAssetId createdAt url }
  error { code message hint retryable }
  videos { id url urlExpiresAt thumbnailUrl mimeType byteSize width height durationSeconds frameRate upstreamAssetId }
  events { seq at status upstreamStatus progress message }`;

/** A full page of 100 jobs with every field: the heaviest legitimate operation (Armor cost about 27 400). */
export const FULL_PAGE = `videoJobs(first: 100) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ${FULL_JOB} } } }`;

/** Operations each refused by exactly one limit, with the message it must get. */
export const OVER_LIMIT: Array<{ name: string; query: string; message: string }> = [
  {
    name: 'deep',
    // The schema has no cycles, so nothing legitimate gets this deep; the depth rule still answers for it.
    query: `{ videoJobs { edges { node { audio { id { a { b { c } } } } } } } }`,
    message: LIMIT_MESSAGES.depth,
  },
  {
    name: 'aliased',
    query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`,
    message: LIMIT_MESSAGES.aliases,
  },
  {
    name: 'directives',
    query: `{ viewer { ${'name @include(if: true) '.repeat(11)} } }`,
    message: LIMIT_MESSAGES.directives,
  },
  {
    name: 'costly',
    query: `{ a: ${FULL_PAGE} b: ${FULL_PAGE} }`,
    message: LIMIT_MESSAGES.cost,
  },
  {
    name: 'wide',
    query: `{ viewer { ${'name '.repeat(1200)} } }`,
    message: `Syntax Error: ${LIMIT_MESSAGES.tokens}`,
  },
];
