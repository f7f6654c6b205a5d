// The printed schema is checked in (schema/schema.graphql) and must not break the public contract
// (schema/contract.graphql, a copy of ../shared/api/schema.graphql): graphql-js findBreakingChanges plus input defaults.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  findBreakingChanges,
  findDangerousChanges,
  isInputObjectType,
  isNonNullType,
  isObjectType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { printSchemaSnapshot } from '../src/schema/print.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(new URL(path, new URL('../', import.meta.url)), 'utf8');
const sharedContract = fileURLToPath(new URL('../../shared/api/schema.graphql', import.meta.url));

describe('schema snapshot and contract', () => {
  const printed = printSchemaSnapshot();
  const contract = buildSchema(read('schema/contract.graphql'));
  const served = buildSchema(printed);

  it('schema/schema.graphql is up to date (run `npm run schema:print`)', () => {
    expect(read('schema/schema.graphql')).toBe(printed);
  });

  it.skipIf(!existsSync(sharedContract))('schema/contract.graphql is an exact copy of ../shared/api/schema.graphql', () => {
    expect(read('schema/contract.graphql')).toBe(readFileSync(sharedContract, 'utf8'));
  });

  it('has no breaking change against the contract', () => {
    expect(findBreakingChanges(contract, served).map((c) => `${c.type}: ${c.description}`)).toEqual([]);
    const defaultChanges = findDangerousChanges(contract, served).filter((c) => c.type === 'ARG_DEFAULT_VALUE_CHANGE');
    expect(defaultChanges).toEqual([]);
  });

  it('keeps every input default value of the contract', () => {
    const defaults = (schema: GraphQLSchema) =>
      Object.fromEntries(
        Object.values(schema.getTypeMap())
          .filter(isInputObjectType)
          .filter((type) => contract.getType(type.name))
          .flatMap((type) => Object.values(type.getFields()).map((f) => [`${type.name}.${f.name}`, f.defaultValue ?? null])),
      );
    const mine = defaults(served);
    for (const [field, value] of Object.entries(defaults(contract))) expect([field, mine[field]]).toEqual([field, value]);
  });

  it('keeps the fields clients rely on being null nullable (CONTRACT.md §8)', () => {
    const nullable: Array<[string, string]> = [
      ['Query', 'node'],
      ['Query', 'videoJob'],
      ['VideoJob', 'etaSeconds'],
      ['VideoJob', 'queuePosition'],
      ['VideoJob', 'error'],
      ['VideoJob', 'submittedAt'],
      ['VideoJob', 'completedAt'],
      ['VideoJob', 'seed'],
      ['VideoJob', 'audio'],
    ];
    for (const [typeName, fieldName] of nullable) {
      const type = served.getType(typeName);
      if (!isObjectType(type)) throw new Error(`${typeName} missing`);
      expect([typeName, fieldName, isNonNullType(type.getFields()[fieldName]!.type)]).toEqual([typeName, fieldName, false]);
    }
  });

  it.skipIf(!existsSync(sharedContract))('passes ../shared/tools/check-contract.mjs', () => {
    const output = execFileSync(process.execPath, ['../shared/tools/check-contract.mjs', 'schema/schema.graphql'], { cwd: root, encoding: 'utf8' });
    expect(output).toContain('contract: compatible');
  });
});
