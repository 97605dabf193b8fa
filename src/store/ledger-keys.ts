/**
 * The ledger's signing key and the verifier keys it has used, kept in the data folder (also
 * when the records live in PostgreSQL):
 *
 * - `ledger-signing.key`: the note signer key (`PRIVATE+KEY+...`, mode 0600), generated on the
 *   first start unless `SHIPLOG_SIGNING_KEY` gives one;
 * - `ledger-verifiers.txt`: every verifier key the server has signed with, one per line
 *   (`#` comments allowed). Each start appends the current key, so after a rotation the old
 *   checkpoints stay verifiable by `shiplog verify`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ShiplogError } from '../errors.js';
import { generateSigner, parseSignerKey, parseVerifierKey } from '../ledger/note.js';
import type { NoteSigner, NoteVerifier } from '../ledger/note.js';

export const SIGNING_KEY_FILE = 'ledger-signing.key';
export const VERIFIERS_FILE = 'ledger-verifiers.txt';

export interface SignerSource {
  readonly dataDir: string;
  /** A signer key given explicitly (SHIPLOG_SIGNING_KEY); wins over the key file. */
  readonly signingKey?: string | undefined;
  /** Name of a generated key: the ledger origin. */
  readonly origin: string;
}

/**
 * The signer of this server: the given key, else the key file, else a new key written to the
 * key file (exclusively, so concurrent first starts agree on one key). Records its verifier key.
 */
export function loadLedgerSigner(source: SignerSource): NoteSigner {
  fs.mkdirSync(source.dataDir, { recursive: true });
  const signer = source.signingKey ? parseSignerKey(source.signingKey.trim()) : signerFromFile(source);
  rememberVerifier(source.dataDir, signer.verifier.verifierKey);
  return signer;
}

function signerFromFile(source: SignerSource): NoteSigner {
  const file = path.join(source.dataDir, SIGNING_KEY_FILE);
  if (!fs.existsSync(file)) {
    const generated = generateSigner(source.origin);
    try {
      fs.writeFileSync(file, `${generated.signerKey}\n`, { mode: 0o600, flag: 'wx' });
      return generated.signer;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  try {
    return parseSignerKey(fs.readFileSync(file, 'utf8').trim());
  } catch (error) {
    throw new ShiplogError(
      'SHIPLOG_CONFIG',
      `${file} does not hold a note signer key: ${(error as Error).message}`,
    );
  }
}

function rememberVerifier(dataDir: string, verifierKey: string): void {
  const file = path.join(dataDir, VERIFIERS_FILE);
  const known = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (known.split('\n').some((line) => line.trim() === verifierKey)) return;
  const header =
    known === '' ? '# verifier keys this shiplog has signed checkpoints with (keep old ones)\n' : '';
  fs.appendFileSync(file, `${header}${verifierKey}\n`);
}

/**
 * The verifier keys recorded in the data folder: the lines of `ledger-verifiers.txt` and the
 * public half of `ledger-signing.key`. Empty when neither exists.
 */
export function readKnownVerifiers(dataDir: string): NoteVerifier[] {
  const keys = new Set<string>();
  const list = path.join(dataDir, VERIFIERS_FILE);
  if (fs.existsSync(list)) {
    for (const line of fs.readFileSync(list, 'utf8').split('\n')) {
      const key = line.trim();
      if (key !== '' && !key.startsWith('#')) keys.add(key);
    }
  }
  const signing = path.join(dataDir, SIGNING_KEY_FILE);
  if (fs.existsSync(signing)) {
    try {
      keys.add(parseSignerKey(fs.readFileSync(signing, 'utf8').trim()).verifier.verifierKey);
    } catch {
      // An unreadable signing key is reported by `serve`; verification uses the listed keys.
    }
  }
  return [...keys].map((key) => parseVerifierKey(key));
}
