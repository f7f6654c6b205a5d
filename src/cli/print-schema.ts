// `npm run schema:print`: writes the schema's SDL to schema/schema.graphql, the reviewed snapshot that
// test/api-schema.test.ts compares with the code and with the public contract.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchemaSnapshot } from '../schema/print.ts';

const target = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));
writeFileSync(target, printSchemaSnapshot());
process.stderr.write(`wrote ${target}\n`);
