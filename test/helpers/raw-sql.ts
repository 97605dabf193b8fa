/**
 * The store's raw query builder, for tests only: tampering with rows (the ledger audit tests)
 * and reading what no repository exposes. Everything else goes through the repositories.
 */
import { sql, type Kysely } from 'kysely';
import type { Store } from '../../src/store/database.js';
import type { Database } from '../../src/store/schema.js';

export function rawSql(store: Store): Kysely<Database> {
  return store.db;
}

/** Runs one SQL text as it is (on PostgreSQL it may hold several statements): loading dumps. */
export async function runRawSql(store: Store, text: string): Promise<void> {
  await sql.raw(text).execute(store.db);
}
