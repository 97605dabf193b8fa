/**
 * `shiplog archive restore MONTH`: proves the month's segment (src/retention/segment-verify.ts),
 * then puts its payloads back under their ledger entries (only where the stored leaf hash is the
 * record's), the events rows as they were (same seq and scope, so outbound sinks do not send
 * them again) and the deployment rows that had left. The month then stays in the database for
 * one `hot` period before the retention job retires it again.
 */
import { createGunzip } from 'node:zlib';
import { ShiplogError } from '../errors.js';
import type { NoteVerifier } from '../ledger/note.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { Store } from '../store/database.js';
import type { RestoredEntry } from '../store/retention-repository.js';
import { manifestFile, splitEntryLine, type SegmentManifest } from './segment-format.js';
import { readText, type SegmentStorage } from './segment-storage.js';
import { verifySegment } from './segment-verify.js';

export interface RestoreReport {
  readonly month: string;
  readonly entries: number;
  readonly restored: number;
  readonly deployments: number;
}

interface EventRecordFields {
  id: string;
  deployment: string;
  type: string;
  time: string;
  receivedAt: string;
  hlc: string;
  source: string;
}

const BATCH = 1000;

export async function restoreMonth(
  store: Store,
  storage: SegmentStorage,
  month: string,
  verifiers: readonly NoteVerifier[],
  nowMs: number,
  onProgress?: (done: number, total: number) => void,
): Promise<RestoreReport> {
  const verdict = await verifySegment(storage, month, verifiers);
  if (!verdict.ok) {
    throw new ShiplogError(
      'SHIPLOG_LEDGER_INVALID',
      `the segment of ${month} does not verify: ${verdict.problem ?? ''}`,
    );
  }
  const manifest = JSON.parse(await readText(storage, manifestFile(month))) as SegmentManifest;
  let batch: RestoredEntry[] = [];
  const deployments: DeploymentRow[] = [];
  let entries = 0;
  let restored = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    restored += await store.retention.restore(month, batch, []);
    batch = [];
    onProgress?.(entries, verdict.end - verdict.first);
  };
  let rest = '';
  const take = async (line: string) => {
    if (line === '') return;
    const { head, bytes } = splitEntryLine(line);
    if (head.type === 'deployment') {
      deployments.push(head.row as DeploymentRow);
      return;
    }
    entries += 1;
    if (bytes === undefined) return;
    const index = head.index as number;
    const event = head.event as { seq: number; scope: string } | undefined;
    if (event) {
      const r = JSON.parse(bytes) as EventRecordFields;
      batch.push({
        index,
        bytes,
        event: {
          seq: event.seq,
          scope: event.scope,
          id: r.id,
          deployment: r.deployment,
          type: r.type,
          time_ms: Date.parse(r.time),
          received_ms: Date.parse(r.receivedAt),
          hlc: r.hlc,
          source: r.source,
        },
      });
    } else {
      batch.push({ index, bytes });
    }
    if (batch.length >= BATCH) await flush();
  };
  for await (const chunk of (await storage.read(manifest.records.file)).pipe(
    createGunzip({ chunkSize: 256 * 1024 }),
  )) {
    const parts = (rest + (chunk as Buffer).toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) await take(line);
  }
  await take(rest);
  await flush();
  for (let i = 0; i < deployments.length; i += BATCH) {
    await store.retention.restore(month, [], deployments.slice(i, i + BATCH));
  }
  await store.retention.markRestored(month, nowMs);
  return { month, entries, restored, deployments: deployments.length };
}
