/**
 * Appends are serialized by the database, never by process memory (DESIGN.md §2): several
 * writers on one PostgreSQL, each with its own ledger instance, produce one valid tree with no
 * gaps and no index given twice. Two real processes, and two stores in this process.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigner } from '../../src/ledger/note.js';
import { buildApp } from '../../src/server/app.js';
import type { Store } from '../../src/store/database.js';
import { auditLedger } from '../../src/store/ledger-audit.js';
import { createLedger } from '../../src/store/ledger-repository.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { rawSql } from '../helpers/raw-sql.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const TOKEN = 'concurrency-admin';
const generated = generateSigner('shiplog.test/ledger');

async function bundleWorker(): Promise<string> {
  // rolldown comes with vitest's vite; it turns the TypeScript worker into one runnable file.
  const { build } = await import('rolldown');
  const outDir = path.join(root, 'node_modules', '.cache', 'shiplog-ledger-test');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `append-worker-${process.pid}.mjs`);
  await build({
    input: path.join(here, 'append-worker.ts'),
    platform: 'node',
    external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    logLevel: 'silent',
    output: { file, format: 'esm' },
  });
  return file;
}

function runWorker(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`worker exited ${code}: ${stderr}`)),
    );
  });
}

async function expectOneGaplessTree(store: Store, expected: number): Promise<void> {
  const indexes = (
    await rawSql(store).selectFrom('events').select('ledger_index').orderBy('ledger_index').execute()
  ).map((r) => Number(r.ledger_index));
  const eventIndexes = new Set(indexes);
  expect(eventIndexes.size).toBe(indexes.length);
  const report = await auditLedger(store, { verifiers: [generated.signer.verifier] });
  expect(report.problems).toEqual([]);
  expect(report.entries).toBe(expected);
  expect(report.headSize).toBe(expected);
}

describe.skipIf(!DIALECTS.includes('postgres'))('concurrent appenders on one PostgreSQL', () => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await freshDatabase('postgres');
    store = await database.open();
    const ledger = createLedger(store, { signer: generated.signer, origin: 'shiplog.test/ledger' });
    await store.tokens.ensureBootstrap(TOKEN, ledger);
  });
  afterAll(async () => {
    await store.close();
    await database.destroy();
  });

  it('two processes appending at once make one valid tree with no gaps', async () => {
    const file = await bundleWorker();
    try {
      const args = (prefix: string) => [
        database.databaseUrl as string,
        generated.signerKey,
        TOKEN,
        prefix,
        '400',
        '4',
      ];
      await Promise.all([runWorker(file, args('p1')), runWorker(file, args('p2'))]);
    } finally {
      fs.rmSync(file, { force: true });
    }
    await expectOneGaplessTree(store, 801);
  }, 120_000);

  it('two stores in one process appending at once make one valid tree', async () => {
    const second = await database.open();
    try {
      const apps = await Promise.all(
        [store, second].map((s) =>
          buildApp({
            store: s,
            ledger: createLedger(s, { signer: generated.signer, origin: 'shiplog.test/ledger' }),
          }),
        ),
      );
      await Promise.all(
        apps.flatMap((app, a) =>
          Array.from({ length: 20 }, async (_, i) => {
            const response = await app.server.inject({
              method: 'POST',
              url: '/v1/events',
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
              payload: JSON.stringify({
                events: Array.from({ length: 5 }, (_, j) => ({
                  id: `s${a}-${i}-${j}`,
                  type: 'deployment.started',
                  deployment: `s${a}-${i}-${j}`,
                  service: 'checkout-api',
                  environment: 'production',
                  version: '1.0.0',
                })),
              }),
            });
            expect(response.statusCode).toBe(201);
          }),
        ),
      );
      for (const app of apps) await app.server.close();
    } finally {
      await second.close();
    }
    await expectOneGaplessTree(store, 1001);
  }, 60_000);
});
