/**
 * Multi-row inserts and upserts for the write path. Building a 100-row statement with Kysely's
 * query builder costs more than the database takes to run it, so these statements are written
 * out once per shape (table, columns, row count, dialect), then only their parameters change;
 * on SQLite the prepared statement is reused too (see database.ts).
 */
import { CompiledQuery, sql, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import type { Dialect } from './database.js';
import type { Database } from './schema.js';

export interface Conflict {
  /** The unique key the rows may collide on. */
  readonly target: readonly string[];
  /** Columns overwritten by the incoming row on a collision. */
  readonly update: readonly string[];
}

const statements = new Map<string, string>();

function statementFor(
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  rowCount: number,
  conflict?: Conflict,
): string {
  const key = `${dialect}|${table}|${columns.join(',')}|${rowCount}|${conflict?.target.join(',') ?? ''}|${conflict?.update.join(',') ?? ''}`;
  let text = statements.get(key);
  if (text === undefined) {
    let n = 0;
    const placeholder = dialect === 'postgres' ? () => `$${++n}` : () => '?';
    const tuples = Array.from({ length: rowCount }, () => `(${columns.map(placeholder).join(', ')})`);
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    if (conflict) {
      const set = conflict.update.map((c) => `"${c}" = excluded."${c}"`).join(', ');
      text += ` on conflict (${conflict.target.map((c) => `"${c}"`).join(', ')}) do update set ${set}`;
    }
    statements.set(key, text);
  }
  return text;
}

/** Inserts (or, with `conflict`, upserts) `rows` in chunks; every row must have every column. */
export async function bulkWrite<Row extends object>(
  trx: Transaction<Database>,
  dialect: Dialect,
  table: keyof Database & string,
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
  conflict?: Conflict,
  chunkSize = 100,
): Promise<void> {
  for (let start = 0; start < rows.length; start += chunkSize) {
    const chunk = rows.slice(start, start + chunkSize);
    const params: unknown[] = [];
    for (const row of chunk)
      for (const column of columns) params.push((row as Record<string, unknown>)[column] ?? null);
    await trx.executeQuery(
      CompiledQuery.raw(statementFor(dialect, table, columns, chunk.length, conflict), params),
    );
  }
}

/**
 * `column in (values)` with one statement text whatever the number of values (a JSON array on
 * SQLite, a text array on PostgreSQL), so the write path's lookups are prepared once instead
 * of once per list length.
 */
export function inList(dialect: Dialect, column: string, values: readonly string[]): RawBuilder<SqlBool> {
  return dialect === 'postgres'
    ? sql<SqlBool>`${sql.ref(column)} = any(${values}::text[])`
    : sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`;
}
