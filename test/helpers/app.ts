/** Builds the real app on a fresh database, with an admin token, for route tests. */
import { buildApp, type App, type AppOptions } from '../../src/server/app.js';
import type { Store } from '../../src/store/database.js';
import { freshDatabase, type TestDatabase } from './dialects.js';
import { rawSql } from './raw-sql.js';

export const ADMIN = 'test-admin-secret';

export interface TestApp {
  readonly app: App;
  readonly store: Store;
  readonly database: TestDatabase;
  /** `inject` with the admin token unless another is given. */
  call(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{
    status: number;
    json: () => Record<string, unknown> & { error?: { code: string; details: { path: string }[] } };
  }>;
  close(): Promise<void>;
}

/** `options` (a policy, say) are passed to `buildApp` beside the fresh store. */
export async function testApp(
  dialect: 'sqlite' | 'postgres',
  options: Omit<AppOptions, 'store'> = {},
): Promise<TestApp> {
  const database = await freshDatabase(dialect);
  const store = await database.open();
  await store.tokens.ensureBootstrap(ADMIN);
  const app = await buildApp({ ...options, store });
  return {
    app,
    store,
    database,
    async call(method, url, body, token = ADMIN) {
      const response = await app.server.inject({
        method,
        url,
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
        ...(body === undefined
          ? {}
          : {
              headers: {
                'content-type': 'application/json',
                ...(token === null ? {} : { authorization: `Bearer ${token}` }),
              },
            }),
      });
      return { status: response.statusCode, json: () => response.json() };
    },
    async close() {
      await app.server.close();
      await store.close();
      await database.destroy();
    },
  };
}

export async function countEvents(store: Store): Promise<number> {
  const row = await rawSql(store)
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
