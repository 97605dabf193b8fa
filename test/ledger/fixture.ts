/** A small ledger on a fresh database: events of a few deployments, a token change, a checkpoint. */
import { createLedger, type Ledger } from '../../src/store/ledger-repository.js';
import { buildApp, type App } from '../../src/server/app.js';
import type { Store } from '../../src/store/database.js';
import { generateSigner, type NoteSigner } from '../../src/ledger/note.js';
import { freshDatabase, type TestDatabase } from '../helpers/dialects.js';

export const ADMIN = 'ledger-test-admin';
export const ORIGIN = 'shiplog.test/ledger';

export interface LedgerFixture {
  readonly app: App;
  readonly store: Store;
  readonly ledger: Ledger;
  readonly signer: NoteSigner;
  readonly database: TestDatabase;
  post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function ledgerFixture(
  dialect: 'sqlite' | 'postgres',
  options: { signer?: NoteSigner; events?: number } = {},
): Promise<LedgerFixture> {
  const database = await freshDatabase(dialect);
  const store = await database.open();
  const signer = options.signer ?? generateSigner(ORIGIN).signer;
  const ledger = createLedger(store, { signer, origin: ORIGIN, checkpointIntervalMs: 0 });
  await store.tokens.ensureBootstrap(ADMIN, ledger);
  const app = await buildApp({ store, ledger });
  const post = async (body: unknown) => {
    const response = await app.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };
  const count = options.events ?? 40;
  if (count > 0) {
    const events = Array.from({ length: count }, (_, i) => ({
      id: `fx-${i}`,
      type: i % 2 === 0 ? 'deployment.started' : 'deployment.succeeded',
      deployment: `fx-dep-${Math.floor(i / 2)}`,
      service: 'checkout-api',
      environment: i % 4 < 2 ? 'production' : 'staging',
      version: `1.${Math.floor(i / 2)}.0`,
      actor: 'alice',
    }));
    const answer = await post({ events });
    if (answer.status !== 201) throw new Error(`fixture ingest failed: ${JSON.stringify(answer.body)}`);
  }
  await ledger.cutCheckpoint();
  return {
    app,
    store,
    ledger,
    signer,
    database,
    post,
    async close() {
      await app.server.close();
      await store.close();
      await database.destroy();
    },
  };
}
