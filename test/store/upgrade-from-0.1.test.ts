/**
 * Migrations stay forward-only and upgrade every earlier release (DESIGN.md §14): a database at
 * release 0.1's schema (migrations 001..008, exactly as 0.1 shipped them: a released migration
 * never changes) is filled with the records 0.1's own code wrote (test/fixtures/release-0.1, a
 * data dump), then opened by this release, which
 * migrates it. Every record is still there and readable, the ledger still verifies, and the
 * new capabilities (retention) work on the old data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSignerKey, parseVerifierKey } from '../../src/ledger/note.js';
import { createRetention, productionRule } from '../../src/retention/archiver.js';
import { DEFAULT_RETENTION } from '../../src/retention/retention-config.js';
import { createFolderStorage } from '../../src/retention/segment-storage.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/database.js';
import { auditLedger } from '../../src/store/ledger-audit.js';
import { createLedger } from '../../src/store/ledger-repository.js';
import { migrateUpTo } from '../../src/store/migrations.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { rawSql, runRawSql } from '../helpers/raw-sql.js';

const RELEASE_0_1 = '008-decision-kind-and-admissions';
const ORIGIN = 'upgrade.test/ledger';
/** What 0.1's code wrote (see its README). */
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/release-0.1');

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.destroy();
  database = undefined;
});

describe.each(DIALECTS)('upgrading a 0.1 database on %s', (dialect) => {
  it('keeps every record readable and the ledger verifiable, and archives the old months', async () => {
    const db = (database = await freshDatabase(dialect));
    const name = dialect === 'postgres' ? 'postgres' : 'sqlite';
    const keys = JSON.parse(fs.readFileSync(path.join(FIXTURE, `keys-${name}.json`), 'utf8')) as {
      signerKey: string;
      verifierKey: string;
      entries: number;
    };
    const signer = parseSignerKey(keys.signerKey);
    const entries = keys.entries;

    // Release 0.1: its schema (its migrations), and the records its own code wrote (a dump).
    const old = await openStore({ dataDir: db.dataDir, databaseUrl: db.databaseUrl, migrate: false });
    await migrateUpTo(rawSql(old), dialect, RELEASE_0_1);
    const migrated = await rawSql(old)
      .selectFrom('kysely_migration' as never)
      .selectAll()
      .execute();
    expect(migrated).toHaveLength(8);
    const dump = fs.readFileSync(path.join(FIXTURE, `${name}.sql`), 'utf8');
    // The migrations seed the ledger head; the dump holds the one 0.1 left.
    await rawSql(old).deleteFrom('ledger_head').execute();
    if (dialect === 'postgres') {
      await runRawSql(old, dump);
    } else {
      // One INSERT per line (.dump writes newlines inside values as char(10)).
      for (const line of dump.split('\n').filter((l) => l.startsWith('INSERT INTO')))
        await runRawSql(old, line);
    }
    await old.close();

    // This release opens it: migrations 009.. run forward.
    const store = await openStore({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
    try {
      const upgraded = createLedger(store, { signer, origin: ORIGIN });
      const verifiers = [parseVerifierKey(keys.verifierKey)];
      expect(await auditLedger(store, { verifiers })).toMatchObject({ ok: true, entries, retired: 0 });
      const { server } = await buildApp({ store, ledger: upgraded });
      const answer = await server.inject({
        method: 'GET',
        url: '/v1/deployments/release-0.1',
        headers: { authorization: 'Bearer admin-secret' },
      });
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ status: 'succeeded', version: '0.1.0', ticket: 'OPS-1' });
      expect((answer.json() as { events: unknown[] }).events).toHaveLength(2);
      const gate = await rawSql(store).selectFrom('gate_decisions').selectAll().execute();
      expect(gate).toMatchObject([{ id: 'g-1', kind: 'release', allow: 1 }]);
      expect(await store.retention.segments()).toEqual([]);

      // The old months archive and retire like new ones.
      const retention = createRetention({
        store,
        storage: createFolderStorage(path.join(db.dataDir, 'archive')),
        config: { ...DEFAULT_RETENTION, archiveMs: 366 * 86_400_000 },
        checkpoint: () => upgraded.cutCheckpoint(),
        verifierKey: upgraded.verifierKey,
        verifiers,
        isProduction: productionRule([]),
      });
      const report = await retention.runArchive(Date.parse('2026-11-01T00:00:00Z'));
      expect(report.failures).toEqual([]);
      expect(report.archived.map((a) => [a.month, a.first, a.end])).toEqual([['2025-06', 0, entries]]);
      expect(report.purged.map((p) => p.month)).toEqual(['2025-06']);
      expect(await auditLedger(store, { verifiers })).toMatchObject({ ok: true, entries, retired: entries });
      await server.close();
    } finally {
      await store.close();
    }
  });
});
