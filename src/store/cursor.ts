/**
 * Keyset pagination, one helper for every list: a page is the rows after the cursor in the
 * list's order, fetched with `limit + 1`; the cursor is opaque (base64url of a JSON array of the
 * last row's sort key).
 */
import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { ShiplogError } from '../errors.js';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor whose key must match `shape` ('s' string, 'n' number). */
export function decodeCursor(cursor: string, shape: readonly ('s' | 'n')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const valid =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((v, i) => (shape[i] === 's' ? typeof v === 'string' : Number.isSafeInteger(v)));
  if (!valid) {
    throw new ShiplogError('SHIPLOG_INVALID_CURSOR', undefined, [
      { path: 'cursor', message: 'is not a cursor from a previous page of this list' },
    ]);
  }
  return key as (string | number)[];
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/**
 * A page from `rows` fetched with `limit + 1`: the extra row only says that there is a next
 * page, whose cursor is the sort key of the page's last row.
 */
export function pageOf<Row, Item>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => readonly (string | number)[],
): Page<Item> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toItem),
    nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null,
  };
}

/** A list's sort key: its columns (unique together), their types in the cursor, one direction. */
export interface Keyset {
  /** Column references as in the query (`created_ms`, `d.sort_ms`); the last one is unique. */
  readonly columns: readonly string[];
  readonly shape: readonly ('s' | 'n')[];
  readonly direction: 'asc' | 'desc';
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/**
 * Runs `query` as one page of a keyset list: rows strictly after the cursor's key in the
 * keyset's order, ordered by it, `limit + 1` of them; `keyOf` gives a row's key for the next
 * cursor, in the keyset's column order.
 */
export async function keysetPage<DB, TB extends keyof DB, Row, Item>(
  query: SelectQueryBuilder<DB, TB, Row>,
  keyset: Keyset,
  request: PageRequest,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => readonly (string | number)[],
): Promise<Page<Item>> {
  let q = query;
  if (request.cursor !== undefined) {
    q = q.where(after(keyset, decodeCursor(request.cursor, keyset.shape)));
  }
  for (const column of keyset.columns) q = q.orderBy(sql.ref(column), keyset.direction);
  const rows = await q.limit(request.limit + 1).execute();
  return pageOf(rows, request.limit, toItem, keyOf);
}

/**
 * `(c1, c2, ...) > (k1, k2, ...)` (or `<` when descending), spelled out as
 * `c1 > k1 or (c1 = k1 and (c2 > k2 or ...))` so both databases use the sort index.
 */
function after(keyset: Keyset, key: readonly (string | number)[]): Expression<SqlBool> {
  const op = sql.raw(keyset.direction === 'desc' ? '<' : '>');
  const build = (i: number): Expression<SqlBool> => {
    const column = sql.ref(keyset.columns[i] as string);
    const value = key[i];
    if (i === keyset.columns.length - 1) return sql<SqlBool>`${column} ${op} ${value}`;
    return sql<SqlBool>`(${column} ${op} ${value} or (${column} = ${value} and ${build(i + 1)}))`;
  };
  return build(0);
}
