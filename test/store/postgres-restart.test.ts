/**
 * Regression: PostgreSQL terminating an idle pooled connection (a restart, pg_terminate_backend)
 * made pg.Pool emit an unhandled 'error', which ended the process. The store must survive it
 * and answer the next query on a new connection.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase, POSTGRES_URL } from '../helpers/dialects.js';
import { openStore } from '../../src/store/database.js';

describe.runIf(POSTGRES_URL)('PostgreSQL connection loss', () => {
  it('survives the server terminating idle connections', async () => {
    const database = await freshDatabase('postgres');
    const seen: Error[] = [];
    const store = await openStore({
      dataDir: database.dataDir,
      databaseUrl: database.databaseUrl,
      onConnectionError: (e) => seen.push(e),
    });
    expect(await store.ping()).toBe(true);
    const name = new URL(database.databaseUrl as string).pathname.slice(1);
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    await admin.end();
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBeGreaterThan(0);
    expect(await store.ping()).toBe(true);
    await store.close();
    await database.destroy();
  });
});
