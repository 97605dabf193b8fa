/** Opaque keyset cursors: base64url of a JSON array of the last row's sort key. */
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
