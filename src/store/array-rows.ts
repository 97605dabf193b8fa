/**
 * Rows as arrays in select order, for the reads of DORA metrics (src/store/dora-repository.ts):
 * their large reads come back as a few rows of aggregated text (src/store/dora-lines.ts), the
 * small ones as plain rows, and an object per row with its property names costs more than
 * either. The query is still built and compiled by Kysely, so both dialects run the same SQL;
 * only the shape of the answer differs from `execute()`. Each query's rows arrive in one go.
 */
import type SQLite from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import type pg from 'pg';

/** Runs `query` and calls `each` with every row (an array of its column values), in order. */
export type EachRow = (query: CompiledQuery, each: (row: unknown[]) => void) => Promise<void>;

/** better-sqlite3's raw mode. */
export function sqliteEachRow(database: SQLite.Database): EachRow {
  return (query, each) => {
    const statement = database.prepare(query.sql).raw(true);
    for (const row of statement.all(...query.parameters)) each(row as unknown[]);
    return Promise.resolve();
  };
}

/** node-postgres's array row mode, with the pool's type parsers (int8 as a number). */
export function postgresEachRow(pool: pg.Pool): EachRow {
  return async (query, each) => {
    const result = await pool.query<unknown[]>({
      text: query.sql,
      values: [...query.parameters],
      rowMode: 'array',
    });
    for (const row of result.rows) each(row);
  };
}
