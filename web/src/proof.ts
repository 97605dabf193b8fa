/**
 * Verifies a deployment's inclusion proofs IN THE BROWSER (DESIGN.md §4, §12): WebCrypto only,
 * nothing trusted from the server but the bytes it sends.
 *
 * 1. The verifier key (`<name>+<hex key id>+<base64(0x01 || Ed25519 public key)>`, the signed
 *    note format of C2SP) must equal the key pinned in this browser (trust on first use, shown
 *    and replaceable on the ledger page); its key id must be SHA-256(name || 0x0A || 0x01 ||
 *    key)[:4].
 * 2. The checkpoint note (origin, size, base64 root, blank line, `— name base64(key id ||
 *    signature)`) must carry a valid Ed25519 signature by that key over its text.
 * 3. Each entry's leaf hash is SHA-256(0x00 || entry bytes), and its inclusion proof (RFC 9162
 *    §2.1.3.2) must lead to the checkpoint's root.
 */
const utf8 = new TextEncoder();

function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`not lowercase hex: ${hex.slice(0, 16)}…`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    joined.set(p, offset);
    offset += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export const leafHash = (entry: Uint8Array) => sha256(Uint8Array.of(0), entry);
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);

/** RFC 9162 §2.1.3.2: the root the proof leads to, or null when the proof is malformed. */
export async function rootFromInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Promise<Uint8Array | null> {
  if (index >= size || index < 0) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0 || p.length !== 32) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** RFC 9162 §2.1.4.2: does the proof show the tree of `from` leaves is a prefix of the tree of `to`? */
export async function verifyConsistency(
  from: number,
  to: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): Promise<boolean> {
  if (from > to) return false;
  if (from === to) return proof.length === 0 && equal(oldRoot, newRoot);
  if (from === 0 || proof.length === 0) return false;
  const isPow2 = (from & (from - 1)) === 0;
  const path = isPow2 ? [oldRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [first, ...rest] = path as [Uint8Array, ...Uint8Array[]];
  let fr = first;
  let sr = first;
  for (const c of rest) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
}

export interface VerifierKey {
  name: string;
  keyId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  text: string;
}

/** Parses and checks a note verifier key (its key id must match its name and key). */
export async function parseVerifierKey(text: string): Promise<VerifierKey> {
  // The base64 key may itself hold '+': split at the first two only.
  const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  if (!match) throw new Error('the verifier key is not <name>+<key id>+<key>');
  const [, name, keyId, encoded] = match as unknown as [string, string, string, string];
  const raw = base64ToBytes(encoded);
  if (raw.length !== 33 || raw[0] !== 0x01) throw new Error('the verifier key is not an Ed25519 key');
  const publicKey = raw.slice(1);
  const id = toHex((await sha256(utf8.encode(name), Uint8Array.of(0x0a, 0x01), publicKey)).slice(0, 4));
  if (id !== keyId) throw new Error(`the verifier key id ${keyId} does not match its key (${id})`);
  return { name, keyId, publicKey, text: text.trim() };
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
}

/** Checks the note's Ed25519 signature by `key` with WebCrypto and returns its checkpoint. */
export async function verifyCheckpointNote(note: string, key: VerifierKey): Promise<Checkpoint> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint note has no signature block');
  const text = note.slice(0, split + 1);
  const lines = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '');
  const prefix = `\u2014 ${key.name} `;
  const line = lines.find(
    (l) => l.startsWith(prefix) && toHex(base64ToBytes(l.slice(prefix.length)).slice(0, 4)) === key.keyId,
  );
  if (!line) throw new Error(`the checkpoint is not signed by the pinned key ${key.name}+${key.keyId}`);
  const signature = base64ToBytes(line.slice(prefix.length)).slice(4);
  const publicKey = await crypto.subtle.importKey('raw', key.publicKey, { name: 'Ed25519' }, false, [
    'verify',
  ]);
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, signature, utf8.encode(text));
  if (!ok) throw new Error('the checkpoint signature does not verify (Ed25519)');
  const [origin, size, root] = text.split('\n');
  if (origin === undefined || size === undefined || root === undefined || !/^[0-9]+$/.test(size)) {
    throw new Error('the checkpoint text is malformed');
  }
  return { origin, size: Number(size), rootHash: base64ToBytes(root) };
}

export interface ProofInput {
  checkpoint: { note: string; rootHash: string; size: number };
  verifierKey: string;
  events: { index: number; leafHash: string; data: string | null; hashes: string[] }[];
}

export interface ProofResult {
  ok: boolean;
  /** What was checked, one line each, or what failed. */
  lines: string[];
  checkpoint?: Checkpoint;
}

/** Verifies every entry of the proof against the signed checkpoint and the pinned key. */
export async function verifyDeploymentProof(input: ProofInput, pinned: string): Promise<ProofResult> {
  const lines: string[] = [];
  try {
    const key = await parseVerifierKey(pinned);
    if (input.verifierKey.trim() !== key.text) {
      throw new Error(`the server's verifier key ${input.verifierKey} is not the pinned key ${key.text}`);
    }
    lines.push(`verifier key ${key.name}+${key.keyId} matches the pinned key`);
    const checkpoint = await verifyCheckpointNote(input.checkpoint.note, key);
    if (
      checkpoint.size !== input.checkpoint.size ||
      toHex(checkpoint.rootHash) !== input.checkpoint.rootHash
    ) {
      throw new Error('the checkpoint fields differ from its signed note');
    }
    lines.push(`checkpoint of ${checkpoint.size} entries signed by ${key.name} (Ed25519)`);
    for (const entry of input.events) {
      if (entry.data !== null) {
        const leaf = toHex(await leafHash(utf8.encode(entry.data)));
        if (leaf !== entry.leafHash)
          throw new Error(`entry ${entry.index}: its bytes hash to ${leaf}, not ${entry.leafHash}`);
      }
      const root = await rootFromInclusion(
        hexToBytes(entry.leafHash),
        entry.index,
        checkpoint.size,
        entry.hashes.map(hexToBytes),
      );
      if (root === null || !equal(root, checkpoint.rootHash)) {
        throw new Error(`entry ${entry.index}: the inclusion proof does not lead to the checkpoint root`);
      }
      lines.push(`entry ${entry.index} included (${entry.hashes.length} hashes)`);
    }
    return { ok: true, lines, checkpoint };
  } catch (error) {
    lines.push(error instanceof Error ? error.message : String(error));
    return { ok: false, lines };
  }
}

export { hexToBytes };
