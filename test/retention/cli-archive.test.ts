/**
 * `shiplog archive run | verify | restore` as a user runs them: the built CLI, offline on a real
 * data folder (SQLite) or database (PostgreSQL), segments in a real folder, keys from the data
 * folder. A changed byte in a segment is caught by `archive verify`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeEvent, type EventInput } from '../../src/domain/event.js';
import { createEventWriter } from '../../src/store/event-writer.js';
import { loadLedgerSigner } from '../../src/store/ledger-keys.js';
import { createLedger } from '../../src/store/ledger-repository.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { BIN } from '../helpers/server-process.js';

function shiplog(args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.destroy();
  database = undefined;
});

/** Events received in January and February 2025, production and staging, signed by the folder's key. */
async function seed(db: TestDatabase): Promise<void> {
  const store = await db.open();
  const signer = loadLedgerSigner({ dataDir: db.dataDir, origin: 'test.local/ledger' });
  const ledger = createLedger(store, { signer, origin: 'test.local/ledger' });
  const writer = createEventWriter(store, { ledger });
  const days = ['2025-01-05', '2025-01-20', '2025-02-03', '2025-02-25'];
  for (const [i, day] of days.entries()) {
    for (const environment of ['production', 'staging']) {
      const receivedMs = Date.parse(`${day}T12:00:00Z`);
      const input: EventInput = {
        type: 'deployment.succeeded',
        deployment: `d-${i}-${environment}`,
        service: 'api',
        environment,
        version: `1.${i}.0`,
        time: new Date(receivedMs).toISOString(),
      };
      const event = normalizeEvent(input, { nowMs: receivedMs, actor: 'ci', newId: randomUUID });
      await writer.write({ events: [event], source: 'ci', receivedMs, timed: [true], pointers: [''] });
    }
  }
  await ledger.cutCheckpoint();
  await store.close();
}

describe.each(DIALECTS)('shiplog archive on %s', (dialect) => {
  it('archives and retires offline, proves the segments without the database, and restores a month', async () => {
    const db = (database = await freshDatabase(dialect));
    await seed(db);
    const where = db.databaseUrl
      ? ['--database', db.databaseUrl, '--data', db.dataDir]
      : ['--data', db.dataDir];
    const config = path.join(db.dataDir, 'shiplog.yaml');
    // A year of archive: January and February 2025 are past it at any date this test runs.
    fs.writeFileSync(config, 'retention:\n  hot: 30d\n  archive: 1y\n  purgeNonProduction: 90d\n');

    const run = await shiplog(['archive', 'run', ...where, '--config', config]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/archived 2025-01: entries 0\.\.3 \(4\)/);
    expect(run.out).toMatch(/archived 2025-02: entries 4\.\.7 \(4\)/);
    expect(run.out).toMatch(/retired 2025-01: 4 payloads/);

    const verify = await shiplog(['verify', ...where]);
    expect(verify.code).toBe(0);
    expect(verify.err).toMatch(/8 entries had their payload retired by retention/);

    const archiveDir = path.join(db.dataDir, 'archive');
    const proved = await shiplog(['archive', 'verify', archiveDir, '--data', db.dataDir]);
    expect(proved.code).toBe(0);
    expect(proved.out).toMatch(
      /ok: 2025-01: entries 0\.\.3 \(4\), 4 deployments; included in the signed checkpoint/,
    );
    expect(proved.out).toMatch(/ok: 2025-02: entries 4\.\.7 \(4\)/);

    // Without the data folder: the manifest names its key, and the verifier says it trusted it.
    const bare = await shiplog(['archive', 'verify', archiveDir, '--data', path.join(db.dataDir, 'nowhere')]);
    expect(bare.code).toBe(0);
    expect(bare.err).toMatch(/trusted the key the segments name/);

    const restored = await shiplog(['archive', 'restore', '2025-02', ...where, '--config', config]);
    expect(restored.code).toBe(0);
    expect(restored.out).toMatch(/restored 2025-02: 4 of 4 payloads/);
    const after = await shiplog(['verify', ...where, '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.out)).toMatchObject({ ok: true, retired: 4 });

    // One changed byte of one record: the segment no longer proves.
    const file = path.join(archiveDir, '2025-01.jsonl.gz');
    const text = gunzipSync(fs.readFileSync(file))
      .toString('utf8')
      .replace('"version":"1.0.0"', '"version":"1.0.1"');
    fs.writeFileSync(file, gzipSync(text));
    const tampered = await shiplog(['archive', 'verify', archiveDir, '--data', db.dataDir]);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toMatch(
      /the segment of 2025-01 does NOT verify: entry 0: its record does not hash to its leaf hash/,
    );
  });

  it('refuses a month that is not YYYY-MM', async () => {
    const result = await shiplog(['archive', 'restore', '2025-13', '--data', '/nonexistent']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/2025-13 is not a month/);
  });
});
