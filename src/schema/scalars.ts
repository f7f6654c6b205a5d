// DateTime (ISO 8601 UTC with milliseconds ⇄ the domain's epoch milliseconds) and File (multipart uploads).
import { GraphQLError, Kind } from 'graphql';
import { builder, type UploadedFile } from './builder.ts';

/** A date and time with a zone (Z or ±hh:mm); seconds and fractions optional. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function parseDateTime(value: unknown): number {
  if (typeof value === 'string' && ISO_8601.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new GraphQLError('DateTime must be an ISO 8601 date and time with a zone, e.g. 2026-11-24T12:00:00.000Z', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

export const DateTimeScalar = builder.scalarType('DateTime', {
  description: 'ISO 8601 date and time in UTC with milliseconds, e.g. 2026-11-24T12:00:00.000Z.',
  serialize: (ms) => new Date(ms).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
});

function isUploadedFile(value: unknown): value is UploadedFile {
  // Duck-typed: yoga's File may come from its fetch ponyfill rather than the global class.
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as UploadedFile).arrayBuffer === 'function' &&
    typeof (value as UploadedFile).name === 'string' &&
    typeof (value as UploadedFile).size === 'number'
  );
}

export const FileScalar = builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request spec.',
  serialize: () => {
    throw new Error('File is an input-only scalar');
  },
  parseValue: (value) => {
    if (isUploadedFile(value)) return value;
    throw new GraphQLError('File must be sent as a part of a multipart request (GraphQL multipart request spec)', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  },
  parseLiteral: () => {
    throw new GraphQLError('File cannot be written inline; send it as a multipart request', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
