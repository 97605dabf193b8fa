import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeKeyId,
  generateSigner,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  signatureOf,
} from './note.js';

// The Ed25519 example keys and signatures of golang.org/x/mod/sumdb/note (note_test.go), the
// reference implementation of https://c2sp.org/signed-note.
const PETER_SIGNER_KEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VERIFIER_KEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VERIFIER_KEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

const peter = parseVerifierKey(PETER_VERIFIER_KEY);
const enoch = parseVerifierKey(ENOCH_VERIFIER_KEY);

describe('note keys', () => {
  it('parses the Go example keys and derives the same key id and verifier key', () => {
    const signer = parseSignerKey(PETER_SIGNER_KEY);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyId).toBe('c74f20a3');
    expect(signer.verifier.verifierKey).toBe(PETER_VERIFIER_KEY);
    expect(peter.keyId).toBe('c74f20a3');
    expect(enoch.keyId).toBe('af0cfe78');
    expect(peter.publicKey).toHaveLength(32);
  });

  it('computes the key id as SHA-256(name || 0x0A || 0x01 || key)[0:4]', () => {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('PeterNeumann\n'), Buffer.of(1), peter.publicKey]))
      .digest()
      .subarray(0, 4)
      .toString('hex');
    expect(expected).toBe('c74f20a3');
    expect(computeKeyId('PeterNeumann', peter.publicKey)).toBe('c74f20a3');
  });

  it('refuses every substring and every one-character mangling of the keys (as the Go tests do)', () => {
    for (const [key, parse] of [
      [PETER_VERIFIER_KEY, parseVerifierKey],
      [PETER_SIGNER_KEY, parseSignerKey],
    ] as const) {
      for (let i = 0; i <= key.length; i += 1) {
        for (let j = i + 1; j <= key.length; j += 1) {
          if (i !== 0 || j !== key.length) expect(() => parse(key.slice(i, j)), key.slice(i, j)).toThrow();
        }
      }
      for (let i = 0; i < key.length; i += 1) {
        const mangled = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(() => parse(mangled), mangled).toThrow();
      }
    }
    // A wrong-length key and an unknown algorithm, each with a matching key id.
    expect(() =>
      parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='),
    ).toThrow();
    expect(() =>
      parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
    ).toThrow();
  });

  it('never echoes a private key in an error', () => {
    const wrongId = PETER_SIGNER_KEY.replace('c74f20a3', 'c74f20a4');
    expect(() => parseSignerKey(wrongId)).toThrow(/does not match/);
    try {
      parseSignerKey(wrongId);
    } catch (error) {
      expect(String(error)).not.toContain('AYEKFALV');
    }
  });

  it('generates key pairs that round-trip through their strings', () => {
    const { signerKey, verifierKey, signer } = generateSigner('shiplog.example/ledger');
    expect(signerKey).toMatch(
      /^PRIVATE\+KEY\+shiplog\.example\/ledger\+[0-9a-f]{8}\+A[Q-Za-f][A-Za-z0-9+/]{42}$/,
    );
    expect(verifierKey).toMatch(/^shiplog\.example\/ledger\+[0-9a-f]{8}\+A[Q-Za-f][A-Za-z0-9+/]{42}$/);
    expect(parseSignerKey(signerKey).verifier.verifierKey).toBe(verifierKey);
    expect(parseVerifierKey(verifierKey).keyId).toBe(signer.keyId);
    expect(() => generateSigner('bad name')).toThrow();
    expect(() => generateSigner('a+b')).toThrow();
    expect(() => generateSigner('')).toThrow();
  });
});

describe('signed notes', () => {
  it('signs exactly as the Go reference implementation', () => {
    expect(signNote(TEXT, parseSignerKey(PETER_SIGNER_KEY))).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('refuses text that does not end in a newline or holds control characters', () => {
    const signer = parseSignerKey(PETER_SIGNER_KEY);
    expect(() => signNote('abc', signer)).toThrow();
    expect(() => signNote('a\tb\n', signer)).toThrow();
    expect(() => signNote('a\ud800\n', signer)).toThrow();
  });

  it('opens the Go example note, verifying known keys and ignoring unknown ones', () => {
    const onlyPeter = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter]);
    expect(onlyPeter.text).toBe(TEXT);
    expect(onlyPeter.verifiedBy).toEqual([peter]);
    expect(onlyPeter.signatures.map((s) => `${s.name}+${s.keyId}`)).toEqual(['PeterNeumann+c74f20a3']);
    expect(onlyPeter.unverified.map((s) => `${s.name}+${s.keyId}`)).toEqual(['EnochRoot+af0cfe78']);

    const both = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter, enoch]);
    expect(both.verifiedBy).toEqual([peter, enoch]);
    expect(both.unverified).toEqual([]);

    // Repeated lines count once; a second copy of the same verifier is not ambiguous.
    const repeated = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}`, [peter, peter]);
    expect(repeated.verifiedBy).toEqual([peter]);
    expect(repeated.unverified).toHaveLength(1);
  });

  it('fails when no known key signed, or when a known key signature is bad', () => {
    expect(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [])).toThrow(/no verifiable signatures/);
    expect(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [peter])).toThrow(/no verifiable signatures/);
    const corrupted = PETER_SIG.slice(0, 60) + 'ABCD' + PETER_SIG.slice(60);
    expect(() => openNote(`${TEXT}\n${corrupted}`, [peter])).toThrow(
      /invalid signature for key PeterNeumann\+c74f20a3/,
    );
    expect(() => openNote(`${TEXT.replace('problem', 'Problem')}\n${PETER_SIG}`, [peter])).toThrow(
      /invalid signature/,
    );
    // A bad signature from an unknown key is only ignored.
    const badEnoch = ENOCH_SIG.slice(0, 60) + 'ABCD' + ENOCH_SIG.slice(60);
    expect(openNote(`${TEXT}\n${PETER_SIG}${badEnoch}`, [peter]).verifiedBy).toEqual([peter]);
  });

  it('refuses a key list holding two different keys with the same name and id', () => {
    const impostor = { ...peter, verifierKey: `${PETER_VERIFIER_KEY}x` };
    expect(() => openNote(`${TEXT}\n${PETER_SIG}`, [peter, impostor])).toThrow(/ambiguous key/);
  });

  it('refuses malformed notes (the Go test cases)', () => {
    const malformed = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIG.replace('—', '-')}`,
      `${TEXT}\n${PETER_SIG.repeat(101)}`,
      `${TEXT}\n— PeterNeumann x08g\n`,
    ];
    for (const note of malformed) expect(() => openNote(note, [peter]), note).toThrow(/malformed note/);
  });

  it('round-trips a note signed by a generated key', () => {
    const { signer } = generateSigner('example.com/log');
    const text = 'line one\n\nline three after a blank line\n';
    const opened = openNote(signNote(text, signer), [signer.verifier]);
    expect(opened.text).toBe(text);
    expect(opened.verifiedBy).toEqual([signer.verifier]);
  });

  it('finds the signature line of one key with the same parser as openNote, without verifying', () => {
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(signatureOf(note, 'EnochRoot', enoch.keyId)).toEqual({
      name: 'EnochRoot',
      keyId: enoch.keyId,
      signature: ENOCH_SIG.slice('— EnochRoot '.length, -1),
    });
    expect(signatureOf(note, 'PeterNeumann', peter.keyId)?.signature).toBe(
      PETER_SIG.slice('— PeterNeumann '.length, -1),
    );
    // Same name, another key (a rotated key keeps its name): not that key's signature.
    expect(signatureOf(note, 'PeterNeumann', enoch.keyId)).toBeUndefined();
    expect(
      signatureOf(`${TEXT}\n${PETER_SIG}Unexpected line.\n`, 'PeterNeumann', peter.keyId),
    ).toBeUndefined();
  });
});
