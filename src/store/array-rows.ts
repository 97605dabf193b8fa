/**
 * Reads that bring rows into JavaScript by the hundred thousand (DORA metrics, §10) take them
 * as arrays in select order: an object per row, with its property names, costs more than
 * finding the row. The query is still built and compiled by Kysely, so both dialects run the
 * same SQL; only the shape of the answer differs from `execute()`.
 */
import type SQLite from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import type pg from 'pg';

export type ReadArrays = (query: CompiledQuery) => Promise<unknown[][]>;

/** better-sqlite3's raw mode: each row an array of its column values. */
export function sqliteArrays(database: SQLite.Database): ReadArrays {
  return (query) =>
    Promise.resolve(
      database
        .prepare(query.sql)
        .raw(true)
        .all(...query.parameters) as unknown[][],
    );
}

/** node-postgres's array row mode, with the pool's type parsers (int8 as a number). */
export function postgresArrays(pool: pg.Pool): ReadArrays {
  return async (query) => {
    const result = await pool.query<unknown[]>({
      text: query.sql,
      values: [...query.parameters],
      rowMode: 'array',
    });
    return result.rows;
  };
}
