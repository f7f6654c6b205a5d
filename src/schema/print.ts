// The SDL snapshot of the schema (types in the order the code registers them, fields as declared).
import { printSchema } from 'graphql';
import { schema } from './index.ts';

export function printSchemaSnapshot(): string {
  return `${printSchema(schema)}\n`;
}
