/**
 * The retention job (DESIGN.md §14, docs/retention.md): `runArchive(now)` does, in order,
 *
 * 1. archive: each whole month older than `hot` that has no segment yet, oldest first, is
 *    written as a segment (src/retention/segment-writer.ts) against a checkpoint covering it,
 *    its leaf hashes made from the records as they are written, then proved against the
 *    checkpoint and checked in the storage (`confirmWrittenSegment`), and only then marked
 *    verified;
 * 2. purge: each verified segment whose month is older than `archive` is proved again from
 *    the storage, then the database's copies of its payloads are retired (leaf hashes kept);
 * 3. purge non-production: events of non-production environments received before
 *    `purgeNonProduction` are retired whether archived or not.
 *
 * A month's segment holds the ledger entries from the end of the previous segment to the last
 * event received in that month, so segments tile the log with no gap. The leader runs the job
 * on a schedule; `shiplog archive run` runs it by hand. Every step is idempotent: a run cut
 * short is finished by the next one.
 */
import type { NoteVerifier } from '../ledger/note.js';
import type { Store } from '../store/database.js';
import type { StoredCheckpoint } from '../store/ledger-repository.js';
import type { PurgeCounts } from '../store/retention-repository.js';
import { ShiplogError } from '../errors.js';
import type { RetentionConfig } from './retention-config.js';
import { monthEnd, monthOf } from './segment-format.js';
import type { SegmentStorage } from './segment-storage.js';
import { confirmWrittenSegment, verifySegment, type SegmentVerdict } from './segment-verify.js';
import { writeSegment } from './segment-writer.js';

export interface RetentionDeps {
  readonly store: Store;
  readonly storage: SegmentStorage;
  readonly config: RetentionConfig;
  /** A signed checkpoint whose tree holds the first `size` entries (at least). */
  readonly checkpoint: (size: number) => Promise<StoredCheckpoint>;
  /** The key that signs checkpoints now, and every key that may have signed older ones. */
  readonly verifierKey: string;
  readonly verifiers: readonly NoteVerifier[];
  /** Production environments are never purged before `archive`. */
  readonly isProduction: (environment: string) => boolean;
  readonly onProgress?: ((phase: string, done: number, total: number) => void) | undefined;
}

export interface ArchivedMonth {
  readonly month: string;
  readonly first: number;
  readonly end: number;
  readonly entries: number;
  readonly deployments: number;
  readonly bytes: number;
}

export interface ArchiveRunReport {
  readonly archived: readonly ArchivedMonth[];
  readonly purged: readonly ({ readonly month: string } & PurgeCounts)[];
  readonly nonProduction: PurgeCounts;
  /** Segments that did not prove: nothing of theirs was deleted. */
  readonly failures: readonly SegmentVerdict[];
}

export interface Retention {
  runArchive(nowMs: number): Promise<ArchiveRunReport>;
}

/** Production: `production`, `prod`, or any environment the policy marks `protected: true`. */
export function productionRule(protectedEnvironments: readonly string[]): (environment: string) => boolean {
  const names = new Set(['production', 'prod', ...protectedEnvironments]);
  return (environment) => names.has(environment);
}

export function createRetention(deps: RetentionDeps): Retention {
  const { store, storage, config } = deps;
  const progress = (phase: string) => (done: number, total: number) => deps.onProgress?.(phase, done, total);

  async function archiveMonths(nowMs: number, failures: SegmentVerdict[]): Promise<ArchivedMonth[]> {
    const archived: ArchivedMonth[] = [];
    const segments = await store.retention.segments();
    // A segment written by a run that stopped before proving it is proved now.
    for (const segment of segments.filter((s) => s.verified_ms === null)) {
      const verdict = await verifySegment(
        storage,
        segment.month,
        deps.verifiers,
        progress(`verifying ${segment.month}`),
      );
      if (verdict.ok) await store.retention.markVerified(segment.month, nowMs);
      else failures.push(verdict);
    }
    let start = segments.length > 0 ? Number(segments[segments.length - 1]?.end_idx) : 0;
    for (;;) {
      const firstMs = await store.retention.firstReceivedFrom(start);
      if (firstMs === undefined) break;
      const month = monthOf(firstMs);
      const endMs = monthEnd(month);
      if (endMs > nowMs - config.hotMs) break;
      const end = await store.retention.endBefore(start, endMs);
      if (end <= start) break;
      const checkpoint = await deps.checkpoint(end);
      if (checkpoint.size < end) {
        throw new ShiplogError(
          'SHIPLOG_INTERNAL',
          `the checkpoint (size ${checkpoint.size}) does not cover entry ${end - 1}`,
        );
      }
      const written = await writeSegment(
        store,
        storage,
        { month, first: start, end, checkpoint, verifierKey: deps.verifierKey },
        nowMs,
        progress(`archiving ${month}`),
      );
      const { manifest } = written;
      await store.retention.insertSegment({
        month,
        first_idx: start,
        end_idx: end,
        checkpoint_size: checkpoint.size,
        location: storage.location,
        entries: manifest.records.entries,
        deployments: manifest.records.deployments,
        bytes: manifest.records.bytes,
        sha256: manifest.records.sha256,
        created_ms: nowMs,
        verified_ms: null,
        purged_ms: null,
        restored_ms: null,
      });
      const verdict = await confirmWrittenSegment(storage, written, deps.verifiers);
      if (!verdict.ok) {
        failures.push(verdict);
        break;
      }
      await store.retention.markVerified(month, nowMs);
      archived.push({
        month,
        first: start,
        end,
        entries: manifest.records.entries,
        deployments: manifest.records.deployments,
        bytes: manifest.records.bytes,
      });
      start = end;
    }
    return archived;
  }

  async function purgeArchived(nowMs: number, failures: SegmentVerdict[]) {
    const purged: ({ month: string } & PurgeCounts)[] = [];
    for (const segment of await store.retention.segments()) {
      if (segment.verified_ms === null || segment.purged_ms !== null) continue;
      if (monthEnd(segment.month) > nowMs - config.archiveMs) continue;
      // A restored month stays in the database for one `hot` period.
      if (segment.restored_ms !== null && Number(segment.restored_ms) > nowMs - config.hotMs) continue;
      const verdict = await verifySegment(
        storage,
        segment.month,
        deps.verifiers,
        progress(`verifying ${segment.month}`),
      );
      if (!verdict.ok) {
        failures.push(verdict);
        continue;
      }
      const counts = await store.retention.purgeSegment(segment, nowMs);
      purged.push({ month: segment.month, ...counts });
    }
    return purged;
  }

  return Object.freeze({
    async runArchive(nowMs: number): Promise<ArchiveRunReport> {
      const failures: SegmentVerdict[] = [];
      const archived = await archiveMonths(nowMs, failures);
      const purged = await purgeArchived(nowMs, failures);
      const nonProduction = await store.retention.purgeNonProduction(
        nowMs - config.purgeNonProductionMs,
        deps.isProduction,
        nowMs,
        monthOf,
      );
      return { archived, purged, nonProduction, failures };
    },
  });
}
