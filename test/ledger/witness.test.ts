/**
 * Witness mode against real servers on real ports: `shiplog verify --url URL --checkpoint FILE`
 * accepts a log that grew, and refuses one whose history was rewritten or that shrank.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { witnessCheckpoint } from '../../src/cli/witness.js';
import { loadClientConfig } from '../../src/config.js';
import { generateSigner } from '../../src/ledger/note.js';
import { DIALECTS } from '../helpers/dialects.js';
import { ADMIN, ORIGIN, ledgerFixture, type LedgerFixture } from './fixture.js';
import { runVerify } from './run-verify.js';

async function listen(fx: LedgerFixture): Promise<string> {
  await fx.app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = fx.app.server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

describe.each(DIALECTS)('witness mode on %s', (dialect) => {
  const signer = generateSigner(ORIGIN);
  const key = signer.verifierKey;
  let honest: LedgerFixture;
  let forked: LedgerFixture;
  let short: LedgerFixture;
  let urls: { honest: string; forked: string; short: string };
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-witness-'));
    honest = await ledgerFixture(dialect, { signer: signer.signer, events: 20 });
    // Same key, a different history: what an operator rewriting the log would serve.
    forked = await ledgerFixture(dialect, { signer: signer.signer, events: 30 });
    short = await ledgerFixture(dialect, { signer: signer.signer, events: 3 });
    urls = { honest: await listen(honest), forked: await listen(forked), short: await listen(short) };
  });
  afterAll(async () => {
    for (const fx of [honest, forked, short]) await fx?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const config = (url: string) => loadClientConfig({ url, token: ADMIN }, {});

  it('saves the first checkpoint, then accepts one that extends it', async () => {
    const file = path.join(dir, 'grows.checkpoint');
    const first = await witnessCheckpoint(config(urls.honest), file, [key]);
    expect(first).toEqual({ from: null, to: 21, origin: ORIGIN });
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^shiplog\.test\/ledger\n21\n/);

    const grown = await honest.post({
      id: 'w-1',
      type: 'deployment.started',
      deployment: 'w-dep',
      service: 'checkout-api',
      environment: 'production',
      version: '2.0.0',
    });
    expect(grown.status).toBe(201);
    const second = await witnessCheckpoint(config(urls.honest), file, [key]);
    expect(second).toEqual({ from: 21, to: 22, origin: ORIGIN });
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^shiplog\.test\/ledger\n22\n/);
  });

  it('refuses a server whose history was rewritten, and keeps the saved checkpoint', async () => {
    const file = path.join(dir, 'fork.checkpoint');
    await witnessCheckpoint(config(urls.honest), file, [key]);
    const saved = fs.readFileSync(file, 'utf8');
    await expect(witnessCheckpoint(config(urls.forked), file, [key])).rejects.toThrow(
      /history was rewritten: the checkpoint of size 31 does not extend the saved one of size 2\d/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(saved);
    await expect(witnessCheckpoint(config(urls.short), file, [key])).rejects.toThrow(/the log shrank/);
  });

  it('refuses a checkpoint not signed by the pinned key', async () => {
    const file = path.join(dir, 'pinned.checkpoint');
    const other = generateSigner(ORIGIN).verifierKey;
    await expect(witnessCheckpoint(config(urls.honest), file, [other])).rejects.toThrow(
      /the server's checkpoint does not verify: note has no verifiable signatures/,
    );
    expect(fs.existsSync(file)).toBe(false);
  });

  it('runs as `shiplog verify --url --checkpoint` with exit codes', async () => {
    const file = path.join(dir, 'cli.checkpoint');
    const run = (url: string) => runVerify(['--url', url, '--token', ADMIN, '--checkpoint', file]);
    const first = await run(urls.honest);
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/warning: no --key given; trusted the server's own key/);
    expect(first.out).toMatch(/^saved the checkpoint of shiplog\.test\/ledger at size \d+/);
    const again = await run(urls.honest);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^consistent: shiplog\.test\/ledger grew from (\d+) to \1 entries/);
    const forkedRun = await run(urls.forked);
    expect(forkedRun.code).toBe(1);
    expect(forkedRun.err).toMatch(/^shiplog: history was rewritten/);
  });
});
