// The SQLite and PostgreSQL schemas describe one data model: this fails as soon as one changes without the other
// (tables, columns, keys, indexes, foreign keys), or a migration file is missing from its journal.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getTableColumns, getTableName, is, SQL, type Column, type Table } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as postgresSchema from '../src/store/postgres/schema.ts';
import * as sqliteSchema from '../src/store/sqlite/schema.ts';
import { PROJECT_ROOT } from './helpers/run-cli.ts';

/** The kind of value a column holds, whatever the dialect calls its type. */
function typeFamily(column: Column): string {
  if (column.columnType === 'SQLiteBoolean') return 'boolean';
  if (column.columnType === 'SQLiteTextJson') return 'json';
  const families: Record<string, string> = {
    text: 'text',
    integer: 'integer',
    bigint: 'integer',
    real: 'real',
    'double precision': 'real',
    boolean: 'boolean',
    jsonb: 'json',
  };
  return families[column.getSQLType()] ?? `unknown: ${column.getSQLType()}`;
}

/** An index's condition as text, with columns by name: `upstream_job_id IS NOT NULL`. */
function conditionText(where: SQL | undefined): string | null {
  if (!where) return null;
  return where.queryChunks
    .map((chunk) => {
      if (is(chunk, SQL)) return conditionText(chunk);
      if (chunk && typeof chunk === 'object' && 'name' in chunk) return String(chunk.name);
      if (chunk && typeof chunk === 'object' && 'value' in chunk) return ([] as unknown[]).concat(chunk.value).join('');
      return String(chunk);
    })
    .join('')
    .trim();
}

interface IndexLike {
  config: { name?: string; unique: boolean; columns: unknown[]; where?: SQL };
}

type TableConfig = ReturnType<typeof pgTableConfig> | ReturnType<typeof sqliteTableConfig>;

/** What both dialects must agree on, in a comparable shape. */
function describeTable(config: TableConfig) {
  const columnNames = (columns: unknown[]) => columns.map((column) => (is(column, SQL) ? conditionText(column) : (column as { name: string }).name));
  return {
    columns: Object.fromEntries(
      config.columns.map((column) => [
        column.name,
        {
          type: typeFamily(column),
          notNull: column.notNull,
          hasDefault: column.hasDefault,
          primary: column.primary,
          unique: column.isUnique,
        },
      ]),
    ),
    primaryKeys: config.primaryKeys.map((key) => columnNames(key.columns)),
    indexes: Object.fromEntries(
      (config.indexes as IndexLike[]).map(({ config: index }) => [
        index.name,
        { unique: index.unique, columns: columnNames(index.columns), where: conditionText(index.where) },
      ]),
    ),
    foreignKeys: config.foreignKeys.map((key) => {
      const reference = key.reference();
      return {
        columns: columnNames(reference.columns),
        table: getTableName(reference.foreignTable),
        foreignColumns: columnNames(reference.foreignColumns),
        onDelete: key.onDelete ?? 'no action',
      };
    }),
  };
}

function tablesOf(schema: Record<string, unknown>) {
  const tables = new Map<string, { exportName: string; config: TableConfig }>();
  for (const [exportName, value] of Object.entries(schema)) {
    const config = is(value, PgTable) ? pgTableConfig(value) : is(value, SQLiteTable) ? sqliteTableConfig(value) : null;
    if (config) tables.set(config.name, { exportName, config });
  }
  return tables;
}

const sqliteTables = tablesOf(sqliteSchema);
const postgresTables = tablesOf(postgresSchema);

describe('the SQLite and PostgreSQL schemas', () => {
  it('have the same tables under the same export names', () => {
    const names = (tables: typeof sqliteTables) => [...tables].map(([name, { exportName }]) => `${exportName}: ${name}`).sort();
    expect(names(postgresTables)).toEqual(names(sqliteTables));
    expect(sqliteTables.size).toBeGreaterThan(0);
  });

  it.each([...sqliteTables.keys()])('agree on table %s', (name) => {
    const sqlite = describeTable(sqliteTables.get(name)!.config);
    const postgres = describeTable(postgresTables.get(name)!.config);
    expect(postgres.columns).toEqual(sqlite.columns);
    // The same property for each column too: a selected row is the same domain object on both stores.
    const properties = (schema: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(getTableColumns(schema[sqliteTables.get(name)!.exportName] as Table)).map(([key, column]) => [key, column.name]));
    expect(properties(postgresSchema)).toEqual(properties(sqliteSchema));
    expect(postgres.primaryKeys).toEqual(sqlite.primaryKeys);
    expect(postgres.indexes).toEqual(sqlite.indexes);
    expect(postgres.foreignKeys).toEqual(sqlite.foreignKeys);
  });

  it('know the type family of every column (an unknown type would compare equal to nothing)', () => {
    for (const tables of [sqliteTables, postgresTables]) {
      for (const { config } of tables.values()) {
        for (const column of config.columns) expect(typeFamily(column), `${config.name}.${column.name}`).not.toMatch(/^unknown/);
      }
    }
  });
});

describe.each(['sqlite', 'postgres'])('the %s migrations', (dialect) => {
  const folder = path.join(PROJECT_ROOT, 'migrations', dialect);

  it('have a journal entry for each migration file, in order', () => {
    const files = readdirSync(folder)
      .filter((file) => file.endsWith('.sql'))
      .map((file) => file.replace(/\.sql$/, ''))
      .sort();
    const journal = JSON.parse(readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8')) as {
      dialect: string;
      entries: Array<{ idx: number; tag: string }>;
    };
    expect(journal.dialect).toBe(dialect === 'postgres' ? 'postgresql' : 'sqlite');
    expect(journal.entries.map((entry) => entry.tag)).toEqual(files);
    expect(journal.entries.map((entry) => entry.idx)).toEqual(files.map((_, index) => index));
    expect(files.length).toBeGreaterThan(0);
  });
});
