/**
 * `shiplog serve` end to end: the signing key is generated once into the data folder (0600)
 * or taken from SHIPLOG_SIGNING_KEY, the bootstrap token is ledger entry 0, and `shiplog
 * verify` on the same data checks everything with the keys the folder lists, also after a
 * key rotation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../src/config.js';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { generateSigner, parseSignerKey, parseVerifierKey } from '../../src/ledger/note.js';
import { startServer, type Running } from '../../src/server/serve.js';
import { SIGNING_KEY_FILE, VERIFIERS_FILE } from '../../src/store/ledger-keys.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { runVerify } from './run-verify.js';

const TOKEN = 'serve-ledger-admin';

const verifyCli = (args: string[]) => runVerify(['--quiet', ...args]);

describe.each(DIALECTS)('shiplog serve with the ledger on %s', (dialect) => {
  let database: TestDatabase | undefined;
  let running: Running | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await database?.destroy();
    database = undefined;
  });

  const start = async (env: Record<string, string> = {}) => {
    const db = (database ??= await freshDatabase(dialect));
    running = await startServer(
      loadRuntimeConfig(
        { data: db.dataDir, database: db.databaseUrl, port: 0, logLevel: 'silent' },
        { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN, SHIPLOG_LEDGER_ORIGIN: 'serve.test/ledger', ...env },
      ),
    );
    return running;
  };
  const get = async (r: Running, url: string) => {
    const response = await fetch(`${r.url}${url}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const target = () =>
    database?.databaseUrl
      ? ['--database', database.databaseUrl, '--data', database.dataDir]
      : ['--data', (database as TestDatabase).dataDir];

  it('generates the key once, records the bootstrap token and verifies offline', async () => {
    const r = await start();
    const dir = (database as TestDatabase).dataDir;
    const keyFile = path.join(dir, SIGNING_KEY_FILE);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const signer = parseSignerKey(fs.readFileSync(keyFile, 'utf8').trim());
    expect(signer.name).toBe('serve.test/ledger');
    const key = (await get(r, '/v1/ledger/key')).trim();
    expect(key).toBe(signer.verifier.verifierKey);
    expect(fs.readFileSync(path.join(dir, VERIFIERS_FILE), 'utf8')).toContain(key);

    const entries = JSON.parse(await get(r, '/v1/ledger/entries?start=0&end=10')) as {
      entries: { data: string }[];
    };
    expect(entries.entries).toHaveLength(1);
    expect(JSON.parse(entries.entries[0]?.data as string)).toMatchObject({
      recordType: 'token.created',
      name: 'bootstrap',
      role: 'admin',
      by: 'bootstrap',
    });
    const checkpoint = verifyCheckpoint(await get(r, '/v1/ledger/checkpoint'), [parseVerifierKey(key)]);
    expect(checkpoint.size).toBe(1);

    // A restart keeps the key and does not record the bootstrap token again.
    await r.stop();
    const again = await start();
    expect((await get(again, '/v1/ledger/key')).trim()).toBe(key);
    expect(JSON.parse(await get(again, '/v1/ledger/entries?start=0&end=10')).entries).toHaveLength(1);
    await again.stop();
    running = undefined;

    const result = await verifyCli(target());
    expect(result.err).toBe('');
    expect(result.out).toMatch(
      /^ok: 1 entries, root [0-9a-f]{64}; checkpoint signature and root verified at size 1\n$/,
    );
    expect(result.code).toBe(0);
  });

  it('uses SHIPLOG_SIGNING_KEY and keeps old checkpoints verifiable after a rotation', async () => {
    const first = generateSigner('serve.test/ledger');
    const r1 = await start({ SHIPLOG_SIGNING_KEY: first.signerKey });
    expect((await get(r1, '/v1/ledger/key')).trim()).toBe(first.verifierKey);
    await get(r1, '/v1/ledger/checkpoint');
    await r1.stop();

    const second = generateSigner('serve.test/ledger');
    const r2 = await start({ SHIPLOG_SIGNING_KEY: second.signerKey });
    expect((await get(r2, '/v1/ledger/key')).trim()).toBe(second.verifierKey);
    await r2.stop();
    running = undefined;
    const listed = fs.readFileSync(path.join((database as TestDatabase).dataDir, VERIFIERS_FILE), 'utf8');
    expect(listed).toContain(first.verifierKey);
    expect(listed).toContain(second.verifierKey);

    // The latest checkpoint is still signed by the first key: accepted through the list.
    expect((await verifyCli(target())).code).toBe(0);
    const onlyNew = await verifyCli([...target(), '--key', second.verifierKey]);
    expect(onlyNew.code).toBe(1);
    expect(onlyNew.err).toMatch(/forged or damaged: note has no verifiable signatures/);
  });
});
