/**
 * A separate shiplog process for the concurrency test: it opens the shared PostgreSQL database,
 * builds the real app with its own ledger instance and posts events through it.
 * Usage: node append-worker.mjs <database url> <signer key> <token> <prefix> <events> <parallel>
 */
import os from 'node:os';
import { parseSignerKey } from '../../src/ledger/note.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/database.js';
import { createLedger } from '../../src/store/ledger-repository.js';

const [url, signerKey, token, prefix, countText, parallelText] = process.argv.slice(2);
const store = await openStore({ dataDir: os.tmpdir(), databaseUrl: url, migrate: false });
const signer = parseSignerKey(signerKey as string);
const ledger = createLedger(store, { signer, origin: signer.name });
const { server } = await buildApp({ store, ledger });
const count = Number(countText);
let next = 0;
async function lane(): Promise<void> {
  while (next < count) {
    const size = Math.min(count - next, 1 + (next % 17));
    const first = next;
    next += size;
    const events = Array.from({ length: size }, (_, i) => ({
      id: `${prefix}-${first + i}`,
      type: 'deployment.started',
      deployment: `${prefix}-dep-${first + i}`,
      service: 'checkout-api',
      environment: 'production',
      version: '1.0.0',
    }));
    const response = await server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ events }),
    });
    if (response.statusCode !== 201) throw new Error(`POST failed: ${response.body}`);
  }
}
await Promise.all(Array.from({ length: Number(parallelText) }, lane));
await server.close();
await store.close();
