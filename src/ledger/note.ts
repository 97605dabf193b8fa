/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, byte-compatible with
 * golang.org/x/mod/sumdb/note, so checkpoints can be checked with the Go tooling of the
 * transparency-log ecosystem as well as with this module.
 *
 * - key id: the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key);
 * - verifier key: `<name>+<8 hex digits of key id>+<base64(0x01 || public key)>`;
 * - signer key: `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`;
 * - note: text ending in "\n", a blank line, then lines `— <name> <base64(key id || signature)>`
 *   (U+2014 EM DASH, then a space); the signature covers the text bytes only.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ShiplogError } from '../errors.js';
import { decodeBase64, encodeBase64 } from './base64.js';

/** A key that checks signatures of one (name, key id). */
export interface NoteVerifier {
  readonly name: string;
  /** The key id as 8 lowercase hex digits. */
  readonly keyId: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The encoded verifier key, `<name>+<hex key id>+<base64 key>`. */
  readonly verifierKey: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A key that signs notes; it never exposes the private key. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: string;
  readonly verifier: NoteVerifier;
  sign(message: Uint8Array): Uint8Array;
}

/** A freshly generated key pair: the two strings to store and a ready signer. */
export interface GeneratedSigner {
  /** `PRIVATE+KEY+...`: a secret, to be stored like a password. */
  readonly signerKey: string;
  /** The public verifier key to publish (GET /v1/ledger/key). */
  readonly verifierKey: string;
  readonly signer: NoteSigner;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: string;
  /** base64(key id || signature), as it appears on the line. */
  readonly signature: string;
}

/** A note whose signatures were checked against the known verifier keys. */
export interface OpenedNote {
  /** The signed text, ending in "\n". */
  readonly text: string;
  /** The known keys that signed the text (at least one), in signature order. */
  readonly verifiedBy: readonly NoteVerifier[];
  /** The verified signature lines, in the same order as `verifiedBy`. */
  readonly signatures: readonly NoteSignature[];
  /** Signatures by keys not in the list given, ignored. */
  readonly unverified: readonly NoteSignature[];
}

const ALG_ED25519 = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;
// DER prefixes that turn raw Ed25519 keys into PKCS #8 / SPKI (RFC 8410 §7 and §4).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const utf8 = new TextEncoder();

function invalid(message: string): ShiplogError {
  return new ShiplogError('SHIPLOG_LEDGER_INVALID', message);
}

/** A key name is non-empty and has no "+", no whitespace and no control characters. */
function isValidName(name: string): boolean {
  return name !== '' && !/[+\s\p{Cc}\p{Cs}]/u.test(name);
}

/** Go's rule for note text: well-formed Unicode with no ASCII control characters besides "\n". */
function isValidNoteText(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return false;
  }
  // In a `u` regex a valid surrogate pair is one code point, so \p{Cs} finds only lone halves.
  return !/\p{Cs}/u.test(text);
}

/**
 * The key id of an Ed25519 public key under `name`: the first 4 bytes of
 * SHA-256(name || 0x0A || 0x01 || publicKey), as 8 lowercase hex digits.
 */
export function computeKeyId(name: string, publicKey: Uint8Array): string {
  return createHash('sha256')
    .update(utf8.encode(name))
    .update(Uint8Array.of(0x0a, ALG_ED25519))
    .update(publicKey)
    .digest()
    .subarray(0, 4)
    .toString('hex');
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return Uint8Array.from(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length));
}

function createVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const keyObject = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  const keyId = computeKeyId(name, publicKey);
  return Object.freeze({
    name,
    keyId,
    publicKey: Uint8Array.from(publicKey),
    verifierKey: `${name}+${keyId}+${encodeBase64(Uint8Array.of(ALG_ED25519, ...publicKey))}`,
    verify: function verifyEd25519(message: Uint8Array, signature: Uint8Array): boolean {
      return signature.length === 64 && verify(null, message, keyObject, signature);
    },
  });
}

function createSigner(name: string, seed: Uint8Array): NoteSigner {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const verifier = createVerifier(name, rawPublicKey(createPublicKey(privateKey)));
  return Object.freeze({
    name,
    keyId: verifier.keyId,
    verifier,
    sign: function signEd25519(message: Uint8Array): Uint8Array {
      return Uint8Array.from(sign(null, message, privateKey));
    },
  });
}

/** Generates a new Ed25519 key pair named `name` (the log's origin, by convention). */
export function generateSigner(name: string): GeneratedSigner {
  if (!isValidName(name)) throw new TypeError('a key name is non-empty, without "+", spaces or controls');
  const { privateKey } = generateKeyPairSync('ed25519');
  // PKCS #8 of an Ed25519 key is the fixed prefix followed by the 32-byte seed.
  const seed = Uint8Array.from(
    privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length),
  );
  const signer = createSigner(name, seed);
  return Object.freeze({
    signerKey: `PRIVATE+KEY+${name}+${signer.keyId}+${encodeBase64(Uint8Array.of(ALG_ED25519, ...seed))}`,
    verifierKey: signer.verifier.verifierKey,
    signer,
  });
}

/** Splits `<name>+<hex key id>+<base64 key>`; the base64 part may itself contain "+". */
function splitKey(text: string): { name: string; keyId: string; key: Uint8Array } | undefined {
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0) return undefined;
  const name = text.slice(0, first);
  const keyId = text.slice(first + 1, second);
  const key = decodeBase64(text.slice(second + 1));
  if (!isValidName(name) || !/^[0-9a-fA-F]{8}$/.test(keyId) || key === undefined) return undefined;
  if (key.length !== 33 || key[0] !== ALG_ED25519) return undefined;
  return { name, keyId: keyId.toLowerCase(), key: key.subarray(1) };
}

/**
 * Parses a `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>` signer key, checking that the
 * key id matches the public key derived from the seed. Errors never echo the key.
 */
export function parseSignerKey(signerKey: string): NoteSigner {
  const prefix = 'PRIVATE+KEY+';
  const parts = signerKey.startsWith(prefix) ? splitKey(signerKey.slice(prefix.length)) : undefined;
  if (parts === undefined) throw invalid('the signer key is not a PRIVATE+KEY Ed25519 note key');
  const signer = createSigner(parts.name, parts.key);
  if (signer.keyId !== parts.keyId) throw invalid('the signer key id does not match its key');
  return signer;
}

/** Parses a `<name>+<hex id>+<base64(0x01 || public key)>` verifier key, checking its key id. */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const parts = splitKey(verifierKey);
  if (parts === undefined) throw invalid(`the verifier key is not an Ed25519 note key: ${verifierKey}`);
  const verifier = createVerifier(parts.name, parts.key);
  if (verifier.keyId !== parts.keyId) throw invalid('the verifier key id does not match its key');
  return verifier;
}

/** Signs `text` (which must end in "\n"): the text, a blank line and one signature line. */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n') || !isValidNoteText(text)) {
    throw new TypeError('note text must end in "\\n" and hold no control characters but "\\n"');
  }
  const signature = signer.sign(utf8.encode(text));
  const line = encodeBase64(Uint8Array.from([...Buffer.from(signer.keyId, 'hex'), ...signature]));
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${line}\n`;
}

/**
 * Splits a note into its text and signature lines, checking their form only (no signature is
 * verified). The one parser of signature lines: {@link openNote} and {@link signatureOf} use it.
 * Throws a SHIPLOG_LEDGER_INVALID error when the note is malformed.
 */
function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (!isValidNoteText(note)) throw invalid('malformed note: control characters or invalid Unicode');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw invalid('malformed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw invalid('malformed note: no signature lines');

  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw invalid('malformed note: too many signatures');
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw invalid('malformed note: bad signature line');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const encoded = space < 0 ? '' : rest.slice(space + 1);
    const bytes = decodeBase64(encoded);
    if (!isValidName(name) || bytes === undefined || bytes.length < 5) {
      throw invalid('malformed note: bad signature line');
    }
    return { name, keyId: Buffer.from(bytes.subarray(0, 4)).toString('hex'), signature: encoded };
  });
  return { text, signatures };
}

/**
 * The signature line of `note` by the key (`name`, `keyId`), without verifying it; undefined
 * when the note is malformed or has no such line.
 */
export function signatureOf(note: string, name: string, keyId: string): NoteSignature | undefined {
  let signatures: NoteSignature[];
  try {
    signatures = parseNote(note).signatures;
  } catch {
    return undefined;
  }
  return signatures.find((s) => s.name === name && s.keyId === keyId);
}

/**
 * Opens a signed note: splits text and signature lines, checks every signature made by one of
 * `verifiers`, and ignores signatures by other keys. Throws a SHIPLOG_LEDGER_INVALID error when
 * the note is malformed, when a known key's signature does not verify, or when no known key
 * signed it.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures: lines } = parseNote(note);
  const message = utf8.encode(text);
  const verifiedBy: NoteVerifier[] = [];
  const signatures: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();

  for (const entry of lines) {
    const { name, keyId, signature: encoded } = entry;
    const id = `${name}+${keyId}`;
    if (seen.has(id + ' ' + encoded)) continue;
    seen.add(id + ' ' + encoded);

    const candidates = new Map(
      verifiers.filter((v) => v.name === name && v.keyId === keyId).map((v) => [v.verifierKey, v]),
    );
    if (candidates.size > 1) throw invalid(`ambiguous key ${id}`);
    const [verifier] = candidates.values();
    if (verifier === undefined) {
      unverified.push(entry);
      continue;
    }
    const bytes = decodeBase64(encoded);
    if (!bytes || !verifier.verify(message, bytes.subarray(4))) {
      throw invalid(`invalid signature for key ${id}`);
    }
    if (verifiedBy.includes(verifier)) continue;
    verifiedBy.push(verifier);
    signatures.push(entry);
  }
  if (verifiedBy.length === 0) throw invalid('note has no verifiable signatures');
  return Object.freeze({ text, verifiedBy, signatures, unverified });
}
