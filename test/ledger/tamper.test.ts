/**
 * Tampering with the stored ledger is detected by `shiplog verify` (DESIGN.md §4): one changed
 * byte, a deleted record, two swapped records, a truncated log, a forged checkpoint, and a
 * record rewritten together with every hash above it. Each names the first bad index.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { leafHash } from '../../src/ledger/merkle.js';
import { generateSigner } from '../../src/ledger/note.js';
import { createRootBuilder } from '../../src/ledger/root-builder.js';
import { auditLedger } from '../../src/store/ledger-audit.js';
import type { Store } from '../../src/store/database.js';
import { DIALECTS } from '../helpers/dialects.js';
import { ORIGIN, ledgerFixture, type LedgerFixture } from './fixture.js';
import { runVerify } from './run-verify.js';
import { rawSql } from '../helpers/raw-sql.js';

const SIZE = 41; // the bootstrap token and 40 events

function flipOneByte(text: string): string {
  const at = text.indexOf('alice');
  return `${text.slice(0, at)}blice${text.slice(at + 5)}`;
}

/** Recomputes every leaf and node hash from the stored bytes, as a careful forger would. */
async function rehashEverything(store: Store, ledger: LedgerFixture['ledger']): Promise<void> {
  const rows = await ledger.entries(0, 1000);
  const builder = createRootBuilder();
  await rawSql(store).deleteFrom('ledger_nodes').execute();
  for (const row of rows) {
    const leaf = Buffer.from(leafHash(Buffer.from(row.data as string)));
    await rawSql(store)
      .updateTable('ledger_entries')
      .set({ leaf_hash: leaf })
      .where('idx', '=', row.index)
      .execute();
    for (const node of builder.append(leaf)) {
      if (node.key.level === 0) continue;
      await rawSql(store)
        .insertInto('ledger_nodes')
        .values({ level: node.key.level, idx: node.key.index, hash: Buffer.from(node.hash) })
        .execute();
    }
  }
}

describe.each(DIALECTS)('tamper detection on %s', (dialect) => {
  let fx: LedgerFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });
  const setup = async () => (fx = await ledgerFixture(dialect));
  const audit = (
    f: LedgerFixture,
    extra: { verifiers?: Parameters<typeof auditLedger>[1]['verifiers'] } = {},
  ) => auditLedger(f.store, { verifiers: extra.verifiers ?? [f.signer.verifier], pageSize: 7 });

  it('passes an untouched ledger', async () => {
    const f = await setup();
    const report = await audit(f);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(SIZE);
    expect(report.checkpointSizes).toEqual([SIZE]);
    expect(Buffer.from(report.rootHash).equals(Buffer.from(await f.ledger.rootHash(SIZE)))).toBe(true);
  });

  it('accepts entries whose payload retention retired, keeping their leaf hash', async () => {
    const f = await setup();
    await rawSql(f.store)
      .updateTable('ledger_entries')
      .set({ retired_ms: Date.now() })
      .where('idx', '=', 8)
      .execute();
    await rawSql(f.store).deleteFrom('events').where('ledger_index', '=', 8).execute();
    const report = await audit(f);
    expect(report.problems).toEqual([]);
    expect(report.retired).toBe(1);
    expect(report.notes).toContain(
      '1 entries had their payload retired by retention: only their leaf hash was checked',
    );
  });

  it('stores an event entry once: its ledger row holds the leaf hash, the event the bytes', async () => {
    const f = await setup();
    const row = await rawSql(f.store)
      .selectFrom('ledger_entries')
      .select(['data', 'record_type'])
      .where('idx', '=', 17)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ data: null, record_type: 'event' });
    const [entry] = await f.ledger.entries(17, 18);
    const event = await rawSql(f.store)
      .selectFrom('events')
      .select('body')
      .where('ledger_index', '=', 17)
      .executeTakeFirstOrThrow();
    expect(entry?.data).toBe(event.body);
  });

  it('detects one changed byte of a ledger entry', async () => {
    const f = await setup();
    const [entry] = await f.ledger.entries(0, 1);
    const data = (entry?.data ?? '').replace('"admin"', '"vdmin"');
    await rawSql(f.store).updateTable('ledger_entries').set({ data }).where('idx', '=', 0).execute();
    const report = await audit(f);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toEqual({
      index: 0,
      message: 'entry 0: its data does not hash to its stored leaf hash: the record was changed',
    });
  });

  it('detects one changed byte of a stored event', async () => {
    const f = await setup();
    const row = await rawSql(f.store)
      .selectFrom('events')
      .select(['id', 'body'])
      .where('ledger_index', '=', 9)
      .executeTakeFirstOrThrow();
    await rawSql(f.store)
      .updateTable('events')
      .set({ body: flipOneByte(row.body) })
      .where('id', '=', row.id)
      .execute();
    const report = await audit(f);
    expect(report.problems[0]).toEqual({
      index: 9,
      message: `entry 9: the stored event ${row.id} does not hash to its stored leaf hash: the record was changed`,
    });
  });

  it('detects a deleted ledger entry', async () => {
    const f = await setup();
    await rawSql(f.store).deleteFrom('ledger_entries').where('idx', '=', 5).execute();
    const report = await audit(f);
    expect(report.problems[0]?.index).toBe(5);
    expect(report.problems[0]?.message).toMatch(/entry 5 is missing .*deleted/);
  });

  it('detects a deleted event', async () => {
    const f = await setup();
    await rawSql(f.store).deleteFrom('events').where('ledger_index', '=', 7).execute();
    const report = await audit(f);
    expect(report.problems[0]).toEqual({
      index: 7,
      message: 'entry 7: the event it records is missing from the events table',
    });
  });

  it('detects two swapped entries', async () => {
    const f = await setup();
    const rows = await rawSql(f.store)
      .selectFrom('ledger_entries')
      .selectAll()
      .where('idx', 'in', [3, 30])
      .orderBy('idx')
      .execute();
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    await f.store.writeTransaction(async (trx) => {
      await trx.updateTable('ledger_entries').set({ idx: -1 }).where('idx', '=', 3).execute();
      await trx.updateTable('ledger_entries').set({ idx: 3 }).where('idx', '=', 30).execute();
      await trx.updateTable('ledger_entries').set({ idx: 30 }).where('idx', '=', -1).execute();
    });
    expect(a.leaf_hash).not.toEqual(b.leaf_hash);
    const report = await audit(f);
    expect(report.problems[0]?.index).toBe(3);
    expect(report.problems[0]?.message).toMatch(
      /entry 3: the stored event .* does not hash to its stored leaf hash/,
    );
  });

  it('detects two swapped records even when their events are swapped with them', async () => {
    const f = await setup();
    await f.store.writeTransaction(async (trx) => {
      await trx.updateTable('ledger_entries').set({ idx: -1 }).where('idx', '=', 4).execute();
      await trx.updateTable('ledger_entries').set({ idx: 4 }).where('idx', '=', 6).execute();
      await trx.updateTable('ledger_entries').set({ idx: 6 }).where('idx', '=', -1).execute();
      await trx.updateTable('events').set({ ledger_index: -1 }).where('ledger_index', '=', 4).execute();
      await trx.updateTable('events').set({ ledger_index: 4 }).where('ledger_index', '=', 6).execute();
      await trx.updateTable('events').set({ ledger_index: 6 }).where('ledger_index', '=', -1).execute();
    });
    const report = await audit(f);
    expect(report.ok).toBe(false);
    expect(report.problems[0]?.index).toBe(4);
    expect(report.problems[0]?.message).toMatch(
      /entries 4\.\.5 do not hash to their stored node .*changed, moved or removed/,
    );
  });

  it('detects a log truncated behind the sequencer', async () => {
    const f = await setup();
    await rawSql(f.store).deleteFrom('ledger_entries').where('idx', '>=', 30).execute();
    const report = await audit(f);
    expect(report.problems[0]?.index).toBe(30);
    expect(report.problems[0]?.message).toMatch(
      /sequencer records 41 entries but only 30 are stored.*truncated/,
    );
  });

  it('detects a log truncated together with its sequencer, nodes and events', async () => {
    const f = await setup();
    await rawSql(f.store).deleteFrom('ledger_entries').where('idx', '>=', 30).execute();
    await rawSql(f.store).deleteFrom('events').where('ledger_index', '>=', 30).execute();
    await rawSql(f.store).deleteFrom('ledger_nodes').execute();
    await rawSql(f.store).updateTable('ledger_head').set({ size: 30 }).execute();
    await rehashEverything(f.store, f.ledger);
    const report = await audit(f);
    expect(report.problems[0]?.index).toBe(30);
    expect(report.problems[0]?.message).toBe(
      'the latest checkpoint (size 41) covers 41 entries but only 30 are stored: the log was truncated',
    );
  });

  it('detects a forged checkpoint', async () => {
    const f = await setup();
    const row = await rawSql(f.store).selectFrom('checkpoints').selectAll().executeTakeFirstOrThrow();
    const lines = row.note.split('\n');
    lines[1] = '40';
    await rawSql(f.store)
      .updateTable('checkpoints')
      .set({ note: lines.join('\n') })
      .execute();
    const report = await audit(f);
    expect(report.problems[0]?.index).toBe(null);
    expect(report.problems[0]?.message).toMatch(
      /latest checkpoint \(size 41\) is forged or damaged: invalid signature/,
    );
  });

  it('detects a checkpoint signed by a key it does not trust', async () => {
    const f = await setup();
    const mallory = generateSigner(ORIGIN).signer;
    const note = signCheckpoint({ origin: ORIGIN, size: SIZE, rootHash: new Uint8Array(32) }, mallory);
    await rawSql(f.store).updateTable('checkpoints').set({ note }).execute();
    const report = await audit(f);
    expect(report.problems[0]?.message).toMatch(/forged or damaged: note has no verifiable signatures/);
  });

  it('detects a record rewritten with every hash above it: the signed root no longer matches', async () => {
    const f = await setup();
    const [entry] = await f.ledger.entries(12, 13);
    const data = flipOneByte(entry?.data ?? '');
    await rawSql(f.store).updateTable('events').set({ body: data }).where('ledger_index', '=', 12).execute();
    await rehashEverything(f.store, f.ledger);
    const report = await audit(f);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.message).toMatch(
      /the latest checkpoint \(size 41\) has root [0-9a-f]{64} but the entries give [0-9a-f]{64}: entries before 41 were changed/,
    );
  });

  it('accepts checkpoints of rotated-out keys listed next to the current one', async () => {
    const f = await setup();
    const old = f.signer;
    const next = generateSigner(ORIGIN).signer;
    const rotated = (await import('../../src/store/ledger-repository.js')).createLedger(f.store, {
      signer: next,
      origin: ORIGIN,
    });
    // The latest checkpoint is still the old key's until the tree grows.
    expect((await audit(f, { verifiers: [next.verifier, old.verifier] })).ok).toBe(true);
    expect((await audit(f, { verifiers: [next.verifier] })).ok).toBe(false);
    const cut = await rotated.cutCheckpoint();
    expect(cut.note).toContain(`\u2014 ${ORIGIN} `);
    expect((await audit(f, { verifiers: [next.verifier, old.verifier] })).ok).toBe(true);
  });

  describe('the command', () => {
    const run = (args: string[]) => runVerify(['--quiet', ...args]);
    const target = (f: LedgerFixture) =>
      f.database.databaseUrl ? ['--database', f.database.databaseUrl] : ['--data', f.database.dataDir];

    it('exits 0 on an intact ledger and 1 naming the first bad index', async () => {
      const f = await setup();
      const key = ['--key', f.signer.verifier.verifierKey];
      const ok = await run([...target(f), ...key]);
      expect(ok.err).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(
        /^ok: 41 entries, root [0-9a-f]{64}; checkpoint signature and root verified at size 41\n$/,
      );

      const [entry] = await f.ledger.entries(21, 22);
      await rawSql(f.store)
        .updateTable('events')
        .set({ body: flipOneByte(entry?.data ?? '') })
        .where('ledger_index', '=', 21)
        .execute();
      const bad = await run([...target(f), ...key]);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(
        /shiplog: the ledger does NOT verify: index 21: entry 21: the stored event \S+ does not hash/,
      );
    });

    it('refuses to vouch for a checkpoint without a trusted key', async () => {
      const f = await setup();
      const other = generateSigner(ORIGIN).signer.verifier.verifierKey;
      const bad = await run([...target(f), '--key', other]);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/forged or damaged/);
    });
  });
});
