/**
 * The check the archiver runs on a segment it has just written (src/retention/segment-verify.ts
 * `confirmWrittenSegment`): it holds for the objects as written and fails, naming the object,
 * when the stored manifest or records are not the bytes written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../src/domain/event.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { manifestFile, recordsFile } from '../../src/retention/segment-format.js';
import { createFolderStorage } from '../../src/retention/segment-storage.js';
import { confirmWrittenSegment } from '../../src/retention/segment-verify.js';
import { writeSegment } from '../../src/retention/segment-writer.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe.each(DIALECTS)('confirming a written segment on %s', (dialect) => {
  it('holds for the objects as written and names the one that differs', async () => {
    const t = (current = await testApp(dialect));
    const receivedMs = Date.parse('2026-01-10T10:00:00Z');
    for (const [n, type] of ['deployment.started', 'deployment.succeeded'].entries()) {
      const event = normalizeEvent(
        {
          type: type as 'deployment.started',
          deployment: 'jan-prod',
          service: 'checkout',
          environment: 'production',
          version: '1.0.0',
          time: new Date(receivedMs + n).toISOString(),
        },
        { nowMs: receivedMs + n, actor: 'ci', newId: randomUUID },
      );
      await t.app.writer.write({
        events: [event],
        source: 'ci',
        receivedMs: receivedMs + n,
        timed: [true],
        pointers: [''],
      });
    }
    const checkpoint = await t.app.ledger.cutCheckpoint();
    const folder = path.join(t.database.dataDir, 'archive');
    const storage = createFolderStorage(folder);
    const written = await writeSegment(
      t.store,
      storage,
      { month: '2026-01', first: 0, end: 2, checkpoint, verifierKey: t.app.ledger.verifierKey },
      receivedMs,
    );
    const verifiers = [parseVerifierKey(t.app.ledger.verifierKey)];
    expect(await confirmWrittenSegment(storage, written, verifiers)).toMatchObject({ ok: true, entries: 2 });

    const manifest = path.join(folder, manifestFile('2026-01'));
    const asWritten = fs.readFileSync(manifest);
    fs.writeFileSync(manifest, `${asWritten.toString()}\n`);
    expect(await confirmWrittenSegment(storage, written, verifiers)).toMatchObject({
      ok: false,
      problem: 'the stored manifest is not the one written',
    });
    fs.writeFileSync(manifest, asWritten);

    fs.appendFileSync(path.join(folder, recordsFile('2026-01')), Buffer.of(0));
    expect(await confirmWrittenSegment(storage, written, verifiers)).toMatchObject({
      ok: false,
      problem: 'the records file is not the one the manifest describes (size or SHA-256)',
    });
  });
});
