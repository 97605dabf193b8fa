/**
 * Builds the retention job from what `shiplog serve` and `shiplog archive` both have: the store,
 * the ledger, the data folder and the configuration file. One place decides which storage,
 * which keys and which environments count as production.
 */
import type { ConfigFile } from '../config-file.js';
import { verifyCheckpoint } from '../ledger/checkpoint.js';
import type { NoteVerifier } from '../ledger/note.js';
import type { Store } from '../store/database.js';
import type { Ledger } from '../store/ledger-repository.js';
import { createRetention, productionRule, type Retention } from './archiver.js';
import { DEFAULT_RETENTION, type RetentionConfig } from './retention-config.js';
import { storageFor, type SegmentStorage } from './segment-storage.js';

export interface RetentionSetup {
  readonly retention: Retention;
  readonly storage: SegmentStorage;
  readonly config: RetentionConfig;
  /** The trusted keys: the data folder's and the current signer's. */
  readonly verifiers: readonly NoteVerifier[];
}

export async function setUpRetention(options: {
  readonly store: Store;
  readonly ledger: Ledger;
  readonly file: ConfigFile;
  readonly dataDir: string;
  /** Every key that may have signed a checkpoint (the data folder's list). */
  readonly verifiers: readonly NoteVerifier[];
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}): Promise<RetentionSetup> {
  const config = options.file.retention ?? DEFAULT_RETENTION;
  const storage = await storageFor(config, options.dataDir);
  const protectedEnvironments = Object.entries(options.file.policy.environments)
    .filter(([, policy]) => policy.protected === true)
    .map(([name]) => name);
  const current = options.ledger.signer.verifier;
  const verifiers = options.verifiers.some((v) => v.verifierKey === current.verifierKey)
    ? options.verifiers
    : [...options.verifiers, current];
  const retention = createRetention({
    store: options.store,
    storage,
    config,
    // The server cuts checkpoints all the time: one that covers the month and that a trusted key
    // signed serves; only else is one cut here (signed by this process's key).
    checkpoint: async (size) => {
      const latest = await options.ledger.latestCheckpoint();
      if (latest && latest.size >= size && signedByOneOf(latest.note, verifiers)) return latest;
      return options.ledger.cutCheckpoint();
    },
    verifierKey: options.ledger.verifierKey,
    verifiers,
    isProduction: productionRule(protectedEnvironments),
    onProgress: options.onProgress,
  });
  return { retention, storage, config, verifiers };
}

function signedByOneOf(note: string, verifiers: readonly NoteVerifier[]): boolean {
  try {
    verifyCheckpoint(note, verifiers);
    return true;
  } catch {
    return false;
  }
}
