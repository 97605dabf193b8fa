/**
 * The ledger API of DESIGN.md §4 on every dialect, checked with nothing but the RFC 9162
 * verification functions and the C2SP note code: entries hash to leaves, leaves to the
 * checkpoint root, and every proof the server gives verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { createRootBuilder } from '../../src/ledger/root-builder.js';
import { DIALECTS } from '../helpers/dialects.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';

const base = { service: 'checkout-api', environment: 'production' };
const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const utf8 = (s: string) => new TextEncoder().encode(s);

interface Entry {
  index: number;
  leafHash: string;
  data: string | null;
}

describe.each(DIALECTS)('ledger API on %s', (dialect) => {
  let t: TestApp;
  const get = async (url: string, token: string | null = ADMIN) => {
    const response = await t.app.server.inject({
      method: 'GET',
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    return response;
  };
  const checkpoint = async () => {
    const key = parseVerifierKey((await get('/v1/ledger/key')).body.trim());
    return verifyCheckpoint((await get('/v1/ledger/checkpoint')).body, [key]);
  };

  beforeAll(async () => {
    t = await testApp(dialect);
  });
  afterAll(async () => t.close());

  it('answers each stored event with its ledger index, in order and without gaps', async () => {
    const events = Array.from({ length: 13 }, (_, i) => ({
      ...base,
      id: `api-${i}`,
      type: i % 2 === 0 ? 'deployment.started' : 'deployment.succeeded',
      deployment: `api-dep-${Math.floor(i / 2)}`,
      version: '1.0.0',
    }));
    const answer = await t.call('POST', '/v1/events', { events });
    expect(answer.status).toBe(201);
    const results = answer.json().results as { id: string; status: string; ledgerIndex: number }[];
    expect(results.map((r) => r.ledgerIndex)).toEqual(results.map((_, i) => i));
    const again = await t.call('POST', '/v1/events', events[3]);
    expect(again.json().results).toEqual([{ id: 'api-3', status: 'duplicate', ledgerIndex: 3 }]);
    const single = await t.call('POST', '/v1/events', { ...events[0], id: 'api-13' });
    expect(single.json().results).toEqual([{ id: 'api-13', status: 'stored', ledgerIndex: 13 }]);
  });

  it('serves a signed C2SP checkpoint whose root the entries recompute', async () => {
    const response = await get('/v1/ledger/checkpoint');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const lines = response.body.split('\n');
    expect(lines[0]).toBe('shiplog.local/ledger');
    expect(lines[1]).toBe('14');
    expect(lines[3]).toBe('');
    expect(lines[4]).toMatch(/^\u2014 shiplog\.local\/ledger [A-Za-z0-9+/=]+$/);
    const verified = await checkpoint();
    expect(verified.size).toBe(14);
    const key = await get('/v1/ledger/key');
    expect(key.headers['content-type']).toMatch(/^text\/plain/);
    expect(key.body).toMatch(/^shiplog\.local\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);

    const body = (await get(`/v1/ledger/entries?start=0&end=${verified.size}`)).json() as {
      entries: Entry[];
    };
    expect(body.entries.map((e) => e.index)).toEqual(Array.from({ length: 14 }, (_, i) => i));
    const builder = createRootBuilder();
    for (const entry of body.entries) {
      const leaf = leafHash(utf8(entry.data as string));
      expect(Buffer.from(leaf).toString('hex')).toBe(entry.leafHash);
      builder.append(leaf);
      expect(JSON.parse(entry.data as string)).toMatchObject({ recordType: 'event' });
    }
    expect(Buffer.from(builder.root()).equals(verified.rootHash)).toBe(true);

    const json = (await get('/v1/ledger/checkpoint?format=json')).json() as Record<string, unknown>;
    expect(json).toMatchObject({
      origin: 'shiplog.local/ledger',
      size: 14,
      rootHash: Buffer.from(verified.rootHash).toString('hex'),
    });
    // base64(key id || 64-byte Ed25519 signature): never empty.
    expect(json.signature).toMatch(/^[A-Za-z0-9+/]{91}=$/);
    expect(response.body.endsWith(`${json.signature as string}\n`)).toBe(true);
  });

  it('gives inclusion proofs for every index and consistency proofs for every pair of sizes', async () => {
    const entries = ((await get('/v1/ledger/entries?start=0&end=14')).json() as { entries: Entry[] }).entries;
    const roots: Uint8Array[] = [];
    const builder = createRootBuilder();
    for (const entry of entries) {
      builder.append(unhex(entry.leafHash));
      roots[builder.size] = builder.root();
    }
    for (let size = 1; size <= 14; size += 1) {
      for (let index = 0; index < size; index += 1) {
        const proof = (await get(`/v1/ledger/proof/inclusion?index=${index}&size=${size}`)).json() as {
          index: number;
          size: number;
          hashes: string[];
        };
        expect(proof.index).toBe(index);
        expect(proof.size).toBe(size);
        const leaf = unhex((entries[index] as Entry).leafHash);
        expect(verifyInclusion(leaf, index, size, proof.hashes.map(unhex), roots[size] as Uint8Array)).toBe(
          true,
        );
      }
    }
    for (let to = 1; to <= 14; to += 1) {
      for (let from = 1; from <= to; from += 1) {
        const proof = (await get(`/v1/ledger/proof/consistency?from=${from}&to=${to}`)).json() as {
          from: number;
          to: number;
          hashes: string[];
        };
        expect([proof.from, proof.to]).toEqual([from, to]);
        const hashes = proof.hashes.map(unhex);
        expect(verifyConsistency(from, to, hashes, roots[from] as Uint8Array, roots[to] as Uint8Array)).toBe(
          true,
        );
      }
    }
  });

  it('answers bad parameters with 400 and details', async () => {
    const cases = [
      '/v1/ledger/proof/inclusion?index=14&size=14',
      '/v1/ledger/proof/inclusion?index=0&size=15',
      '/v1/ledger/proof/inclusion?index=-1&size=3',
      '/v1/ledger/proof/inclusion?index=a&size=3',
      '/v1/ledger/proof/inclusion?size=3',
      '/v1/ledger/proof/consistency?from=5&to=4',
      '/v1/ledger/proof/consistency?from=1&to=99',
      '/v1/ledger/entries?start=5&end=4',
      '/v1/ledger/entries?start=0&end=1001',
      '/v1/ledger/entries?end=3',
      '/v1/ledger/checkpoint?format=xml',
    ];
    for (const url of cases) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      const body = response.json() as { error: { code: string; details: unknown[] } };
      expect(body.error.code, url).toBe('SHIPLOG_INVALID_REQUEST');
      expect(body.error.details.length, url).toBeGreaterThan(0);
    }
    expect((await get('/v1/ledger/checkpoint', null)).statusCode).toBe(401);
    expect((await get('/v1/ledger/entries?start=0&end=3', 'nope')).statusCode).toBe(401);
  });

  it('clamps entries to the tree size', async () => {
    const body = (await get('/v1/ledger/entries?start=10&end=1000')).json() as { entries: Entry[] };
    expect(body.entries.map((e) => e.index)).toEqual([10, 11, 12, 13]);
    expect(
      ((await get('/v1/ledger/entries?start=50&end=60')).json() as { entries: Entry[] }).entries,
    ).toEqual([]);
  });

  it('gives a deployment its entries with inclusion proofs against one checkpoint', async () => {
    await t.call('POST', '/v1/events', {
      ...base,
      id: 'api-late',
      type: 'deployment.succeeded',
      deployment: 'api-dep-6',
    });
    const response = await get('/v1/deployments/api-dep-6/proof');
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      deployment: string;
      checkpoint: { note: string; size: number; rootHash: string };
      verifierKey: string;
      events: { id: string; index: number; leafHash: string; data: string; hashes: string[] }[];
    };
    expect(body.events.map((e) => e.id)).toEqual(['api-12', 'api-late']);
    const verified = verifyCheckpoint(body.checkpoint.note, [parseVerifierKey(body.verifierKey)]);
    expect(verified.size).toBe(15);
    for (const event of body.events) {
      const leaf = leafHash(utf8(event.data));
      expect(Buffer.from(leaf).toString('hex')).toBe(event.leafHash);
      expect(JSON.parse(event.data)).toMatchObject({ id: event.id, deployment: 'api-dep-6' });
      expect(
        verifyInclusion(leaf, event.index, verified.size, event.hashes.map(unhex), verified.rootHash),
      ).toBe(true);
    }
    expect((await get('/v1/deployments/nope/proof')).statusCode).toBe(404);
  });

  it('records token creation and revocation in the ledger, without secrets', async () => {
    const created = await t.call('POST', '/v1/tokens', { name: 'bob', role: 'approver' });
    expect(created.status).toBe(201);
    const { id, token } = created.json() as { id: string; token: string };
    expect((await t.call('DELETE', `/v1/tokens/${id}`)).status).toBe(200);
    expect((await t.call('DELETE', `/v1/tokens/${id}`)).status).toBe(200);
    const entries = ((await get('/v1/ledger/entries?start=15&end=100')).json() as { entries: Entry[] })
      .entries;
    expect(entries.map((e) => JSON.parse(e.data as string) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        recordType: 'token.created',
        id,
        name: 'bob',
        role: 'approver',
        scopes: null,
        by: 'bootstrap',
      }),
      expect.objectContaining({ recordType: 'token.revoked', id, name: 'bob', by: 'bootstrap' }),
    ]);
    for (const entry of entries) {
      expect(entry.data).not.toContain(token);
      expect(entry.data).not.toContain('hash');
    }
    expect((await checkpoint()).size).toBe(17);
  });
});

describe.each(DIALECTS)('proofs of a long deployment on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect);
    for (let batch = 0; batch < 2; batch += 1) {
      const events = Array.from({ length: 600 }, (_, i) => ({
        ...base,
        id: `long-${batch * 600 + i}`,
        type: 'deployment.started',
        deployment: 'long',
        version: '1.0.0',
      }));
      expect((await t.call('POST', '/v1/events', { events })).status).toBe(201);
    }
  });
  afterAll(async () => t.close());

  // Regression (issue 9, finding 9): a timeline of 150k events ran the heap out on every GET.
  it('pages the timeline of a long deployment', async () => {
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const url: string = `/v1/deployments/long?eventsLimit=500${cursor ? `&eventsCursor=${cursor}` : ''}`;
      const body = (await t.call('GET', url)).json() as {
        events: { id: string }[];
        eventsNextCursor: string | null;
      };
      seen.push(...body.events.map((e) => e.id));
      cursor = body.eventsNextCursor;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(1200);
    const first = (await t.call('GET', '/v1/deployments/long')).json() as {
      events: unknown[];
      eventsNextCursor: string;
    };
    expect(first.events).toHaveLength(1000);
    expect(first.eventsNextCursor).toEqual(expect.any(String));
    expect((await t.call('GET', '/v1/deployments/long?eventsLimit=1001')).status).toBe(400);
  });

  // Regression (issue 9, finding 13): the node lookup for 1000+ proofs was one giant OR that
  // overflowed the SQL parser's stack.
  it('proves every event of a deployment with 1200 events', async () => {
    const response = await t.app.server.inject({
      url: '/v1/deployments/long/proof',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      checkpoint: { note: string };
      verifierKey: string;
      events: { index: number; data: string; hashes: string[] }[];
    };
    expect(body.events).toHaveLength(1200);
    const verified = verifyCheckpoint(body.checkpoint.note, [parseVerifierKey(body.verifierKey)]);
    for (const event of body.events) {
      const leaf = leafHash(utf8(event.data));
      expect(
        verifyInclusion(leaf, event.index, verified.size, event.hashes.map(unhex), verified.rootHash),
      ).toBe(true);
    }
  });
});
