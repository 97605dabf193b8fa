/**
 * Witness mode of `shiplog verify --url URL --checkpoint FILE`: fetch the server's signed
 * checkpoint, check its signature, prove with an RFC 9162 §2.1.4 consistency proof that it
 * extends the checkpoint saved in FILE (history not rewritten), then save the new one.
 */
import fs from 'node:fs';
import type { ClientConfig } from '../config.js';
import { parseCheckpoint, verifyCheckpoint } from '../ledger/checkpoint.js';
import { verifyConsistency } from '../ledger/merkle.js';
import { parseVerifierKey, type NoteVerifier } from '../ledger/note.js';
import { request } from './client.js';
import { CliError } from './output.js';

export interface WitnessResult {
  /** Size of the saved checkpoint, or null on the first run. */
  readonly from: number | null;
  readonly to: number;
  readonly origin: string;
  /** Set when no key was pinned and the server's own key was used. */
  readonly trustedServerKey?: string;
}

/** The body of a signed note (its text up to the blank line), without checking signatures. */
function noteBody(note: string): string {
  return note.slice(0, note.lastIndexOf('\n\n') + 1);
}

async function fetchText(config: ClientConfig, path: string): Promise<string> {
  const body = await request<unknown>(config, 'GET', path);
  if (typeof body !== 'string') throw new CliError(`GET ${path} did not answer text`);
  return body;
}

/**
 * Runs one witness round. `keys` are pinned verifier keys; without them the server's key
 * (GET /v1/ledger/key) is trusted and reported.
 */
export async function witnessCheckpoint(
  config: ClientConfig,
  file: string,
  keys: readonly string[],
): Promise<WitnessResult> {
  let trustedServerKey: string | undefined;
  let verifiers: NoteVerifier[];
  if (keys.length > 0) {
    verifiers = keys.map((k) => parseVerifierKey(k));
  } else {
    trustedServerKey = (await fetchText(config, '/v1/ledger/key')).trim();
    verifiers = [parseVerifierKey(trustedServerKey)];
  }
  const saved = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  const old = saved === undefined ? undefined : parseCheckpoint(noteBody(saved));

  const note = await fetchText(config, '/v1/ledger/checkpoint');
  let current;
  try {
    current = verifyCheckpoint(note, verifiers, old ? { origin: old.origin } : {});
  } catch (error) {
    throw new CliError(`the server's checkpoint does not verify: ${(error as Error).message}`);
  }
  if (old) {
    if (current.size < old.size) {
      throw new CliError(
        `the log shrank: the server's checkpoint has ${current.size} entries, the saved one ${old.size}`,
      );
    }
    const proof = await request<{ hashes: string[] }>(
      config,
      'GET',
      `/v1/ledger/proof/consistency?from=${old.size}&to=${current.size}`,
    );
    const hashes = proof.hashes.map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    if (!verifyConsistency(old.size, current.size, hashes, old.rootHash, current.rootHash)) {
      throw new CliError(
        `history was rewritten: the checkpoint of size ${current.size} does not extend the saved one of size ${old.size} (the consistency proof fails)`,
      );
    }
  }
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, note);
  fs.renameSync(temporary, file);
  return {
    from: old ? old.size : null,
    to: current.size,
    origin: current.origin,
    ...(trustedServerKey ? { trustedServerKey } : {}),
  };
}
