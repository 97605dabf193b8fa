/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed statement "the log named
 * <origin> has <size> entries and root hash <root>", carried as the text of a signed note.
 *
 *     <origin>\n                 e.g. shiplog.example.com/ledger
 *     <decimal tree size>\n      no sign, no leading zeros
 *     <base64 root hash>\n       RFC 9162 §2.1.1 MTH of the first <size> entries, 32 bytes
 *     [<extension line>\n ...]   optional, non-empty, ignored by shiplog
 *
 * Verification accepts a list of verifier keys so a checkpoint signed before a key rotation
 * stays verifiable with the old key next to the new one.
 */
import { ShiplogError } from '../errors.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { HASH_SIZE } from './merkle.js';
import { openNote, signNote } from './note.js';
import type { NoteSignature, NoteSigner, NoteVerifier } from './note.js';

/** The body of a checkpoint. */
export interface Checkpoint {
  /** The log's unique name; by convention also the name of its signing key. */
  readonly origin: string;
  /** The number of entries in the tree. */
  readonly size: number;
  /** The 32-byte RFC 9162 root hash of the first `size` entries. */
  readonly rootHash: Uint8Array;
  /** Extra body lines after the root hash (rarely used). */
  readonly extensions?: readonly string[];
}

/** A checkpoint whose note signature was verified. */
export interface VerifiedCheckpoint extends Checkpoint {
  readonly extensions: readonly string[];
  /** The known keys that signed it (at least one). */
  readonly verifiedBy: readonly NoteVerifier[];
  /** The verified signature lines, for re-publishing (e.g. in `?format=json`). */
  readonly signatures: readonly NoteSignature[];
}

/** Options of {@link verifyCheckpoint}. */
export interface VerifyCheckpointOptions {
  /** The origin the caller expects; a checkpoint of another log is refused. */
  readonly origin?: string;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function invalid(message: string): ShiplogError {
  return new ShiplogError('SHIPLOG_LEDGER_INVALID', `malformed checkpoint: ${message}`);
}

/** A body line: non-empty, no newline, no other control character. */
function isLine(line: string): boolean {
  return line !== '' && !/[\p{Cc}\p{Cs}]/u.test(line);
}

/** The checkpoint body: origin, size, base64 root hash and extension lines, each ending in "\n". */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  if (!isLine(origin)) throw new TypeError('a checkpoint origin is one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0)
    throw new TypeError('a checkpoint size is a non-negative integer');
  if (rootHash.length !== HASH_SIZE) throw new TypeError(`a checkpoint root hash has ${HASH_SIZE} bytes`);
  if (!extensions.every(isLine)) throw new TypeError('checkpoint extension lines are non-empty single lines');
  return [origin, String(size), encodeBase64(rootHash), ...extensions].map((line) => `${line}\n`).join('');
}

/**
 * Parses a checkpoint body strictly: a non-empty origin, a decimal size without sign or
 * leading zeros (at most 2^53 - 1), a canonical base64 root hash of 32 bytes, then only
 * non-empty extension lines, every line ending in "\n".
 */
export function parseCheckpoint(text: string): Checkpoint & { readonly extensions: readonly string[] } {
  if (!text.endsWith('\n')) throw invalid('the body does not end in a newline');
  const [origin, sizeText, rootText, ...extensions] = text.slice(0, -1).split('\n');
  if (origin === undefined || !isLine(origin)) throw invalid('the origin line is empty or invalid');
  if (sizeText === undefined || !DECIMAL.test(sizeText)) throw invalid('the size is not a decimal number');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw invalid('the size is too large');
  const rootHash = rootText === undefined ? undefined : decodeBase64(rootText);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) {
    throw invalid(`the root hash is not ${HASH_SIZE} bytes of base64`);
  }
  if (!extensions.every(isLine)) throw invalid('an extension line is empty or invalid');
  return Object.freeze({ origin, size, rootHash, extensions: Object.freeze(extensions) });
}

/** The signed checkpoint note, as served by GET /v1/ledger/checkpoint. */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(checkpoint), signer);
}

/**
 * Opens a signed checkpoint: at least one of `verifiers` (old and new keys alike) must have
 * signed it, no known key may have signed it badly, and the body must parse strictly. Throws a
 * SHIPLOG_LEDGER_INVALID error otherwise.
 */
export function verifyCheckpoint(
  note: string,
  verifiers: readonly NoteVerifier[],
  options: VerifyCheckpointOptions = {},
): VerifiedCheckpoint {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new ShiplogError(
      'SHIPLOG_LEDGER_INVALID',
      `the checkpoint is for log ${checkpoint.origin}, not ${options.origin}`,
    );
  }
  return Object.freeze({ ...checkpoint, verifiedBy: opened.verifiedBy, signatures: opened.signatures });
}
