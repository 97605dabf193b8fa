/**
 * The evidence bundle: pulled from the real app, checked by the offline verifier, and the four
 * tamperings of the issue each named: change a row, drop a row, swap a proof, forge the
 * checkpoint. A tampered bundle is unpacked, edited and repacked with tar-stream, as an
 * attacker would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCheckpoint, parseCheckpoint } from '../../src/ledger/checkpoint.js';
import { generateSigner, openNote, parseVerifierKey } from '../../src/ledger/note.js';
import { verifyBundle } from '../../src/reports/bundle-verify.js';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { SEED_POLICY, seedMonth, type Seeded } from './seed.js';

type Members = Map<string, string>;

async function readMembers(file: string): Promise<Members> {
  const members: Members = new Map();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      members.set(header.name, Buffer.concat(chunks).toString('utf8'));
      next();
    });
  });
  await pipeline(fs.createReadStream(file), zlib.createGunzip(), extract);
  return members;
}

async function writeMembers(members: Members, file: string): Promise<void> {
  const pack = tar.pack();
  for (const [name, text] of members) pack.entry({ name }, text);
  pack.finalize();
  await pipeline(pack, zlib.createGzip(), fs.createWriteStream(file));
}

describe.each(DIALECTS)('evidence bundle on %s', (dialect) => {
  let t: TestApp;
  let seeded: Seeded;
  let dir: string;
  let bundle: string;
  let original: Members;

  const pull = async (query: string, file: string) => {
    const response = await t.app.server.inject({
      method: 'GET',
      url: `/v1/reports/audit/bundle?${query}`,
      headers: { authorization: `Bearer ${seeded.auditor}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/gzip');
    fs.writeFileSync(file, response.rawPayload);
  };
  /** Verifies `members` (edited by `edit`) repacked; answers the problem codes. */
  const tampered = async (edit: (m: Members) => void, keys: string[] = []) => {
    const copy: Members = new Map(original);
    edit(copy);
    const file = path.join(dir, `tampered-${Math.random().toString(36).slice(2)}.tar.gz`);
    await writeMembers(copy, file);
    const verdict = await verifyBundle(file, keys);
    return verdict.problems.map((p) => p.code);
  };

  beforeAll(async () => {
    t = await testApp(dialect, { policy: SEED_POLICY });
    seeded = await seedMonth(t);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-bundle-test-'));
    bundle = path.join(dir, 'bundle.tar.gz');
    await pull('month=2026-11', bundle);
    original = await readMembers(bundle);
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('carries the report, cited entries with proofs, the checkpoint, the key and a README', () => {
    expect([...original.keys()]).toEqual([
      'README.md',
      'checkpoint.txt',
      'verifier-key.txt',
      'report.json',
      'report.html',
      'cited.jsonl',
      'range.json',
      'leaves.jsonl',
    ]);
    expect(original.get('verifier-key.txt')?.trim()).toBe(t.app.ledger.verifierKey);
    expect(original.get('README.md')).toContain('shiplog verify --bundle');
    const cited = (original.get('cited.jsonl') ?? '').trim().split('\n');
    expect(cited.length).toBeGreaterThan(8);
    expect(JSON.parse(cited[0] ?? '{}')).toMatchObject({
      index: expect.any(Number),
      proof: expect.any(Array),
    });
  });

  it('verifies offline with nothing but the bundle', async () => {
    const verdict = await verifyBundle(bundle);
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ ok: true, month: '2026-11', environment: 'production', rows: 3 });
    // Pinned to the ledger's published key, too.
    expect((await verifyBundle(bundle, [t.app.ledger.verifierKey])).ok).toBe(true);
  });

  it('names a changed row: row_mismatch', async () => {
    const codes = await tampered((m) => {
      m.set(
        'report.json',
        (m.get('report.json') ?? '').replace('"status":"in_progress"', '"status":"succeeded"'),
      );
    });
    expect(codes).toContain('row_mismatch');
  });

  it('names a dropped row even when its entries and the summary are dropped too: row_missing', async () => {
    const codes = await tampered((m) => {
      const lines = (m.get('report.json') ?? '').split('\n');
      const at = lines.findIndex((line) => line.includes('"deployment":"rep-unapproved"'));
      const row = JSON.parse(lines[at]?.replace(/^,/, '') ?? '{}') as { evidence: number[] };
      lines.splice(at, 1);
      const last = lines.findIndex((line) => line.startsWith('],"summary":'));
      const summary = JSON.parse(`{"x":[${lines[last]}`) as { summary: Record<string, unknown> };
      const s = summary.summary as {
        deployments: number;
        byService: Record<string, number>;
        byStatus: Record<string, number>;
        unapproved: number;
      };
      s.deployments -= 1;
      delete s.byService.billing;
      s.byStatus.succeeded = (s.byStatus.succeeded ?? 1) - 1;
      s.unapproved -= 1;
      lines[last] = `],"summary":${JSON.stringify(s)}}`;
      m.set('report.json', lines.join('\n'));
      const cited = (m.get('cited.jsonl') ?? '')
        .split('\n')
        .filter(
          (line) => line === '' || !row.evidence.includes((JSON.parse(line) as { index: number }).index),
        );
      m.set('cited.jsonl', cited.join('\n'));
    });
    expect(codes).toEqual(['row_missing']);
  });

  it('names a swapped proof: proof_invalid', async () => {
    const codes = await tampered((m) => {
      const lines = (m.get('cited.jsonl') ?? '')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { proof: string[] });
      const [a, b] = [lines[0], lines[3]] as [{ proof: string[] }, { proof: string[] }];
      [a.proof, b.proof] = [b.proof, a.proof];
      m.set('cited.jsonl', `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    });
    expect(codes).toContain('proof_invalid');
  });

  it('names a forged checkpoint: checkpoint_forged', async () => {
    const note = original.get('checkpoint.txt') ?? '';
    const key = parseVerifierKey((original.get('verifier-key.txt') ?? '').trim());
    const body = parseCheckpoint(openNote(note, [key]).text);
    // Another root, signed by a key of the same name the ledger never had.
    const forger = generateSigner(key.name).signer;
    const forged = signCheckpoint({ ...body, rootHash: new Uint8Array(32).fill(7) }, forger);
    expect(await tampered((m) => m.set('checkpoint.txt', forged))).toContain('checkpoint_forged');
    // Even with the forger's key put in the bundle, an auditor who pins the ledger's key sees it.
    const swapped = await tampered(
      (m) => {
        m.set('checkpoint.txt', forged);
        m.set('verifier-key.txt', `${forger.verifier.verifierKey}\n`);
      },
      [t.app.ledger.verifierKey],
    );
    expect(swapped).toContain('checkpoint_forged');
  });

  it('names a changed leaf of the run: range_mismatch', async () => {
    const codes = await tampered((m) => {
      m.set('leaves.jsonl', (m.get('leaves.jsonl') ?? '').replace('rep-staging', 'rep-stagin9'));
    });
    expect(codes).toContain('range_mismatch');
  });

  it('proves where the run starts: a later month starts after an event received before it', async () => {
    const file = path.join(dir, 'december.tar.gz');
    await pull('month=2026-12', file);
    const members = await readMembers(file);
    const range = JSON.parse(members.get('range.json') ?? '{}') as {
      start: number;
      boundary: { index: number } | null;
    };
    expect(range.start).toBeGreaterThan(0);
    expect(range.boundary?.index).toBe(range.start - 1);
    const verdict = await verifyBundle(file);
    expect(verdict.problems).toEqual([]);
    expect(verdict.rows).toBe(1);
  });

  it('refuses what is not a bundle: bundle_malformed', async () => {
    const file = path.join(dir, 'not-a-bundle.tar.gz');
    fs.writeFileSync(file, zlib.gzipSync('hello'));
    const verdict = await verifyBundle(file);
    expect(verdict.problems.map((p) => p.code)).toEqual(['bundle_malformed']);
  });
});
