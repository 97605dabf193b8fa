/** `GET /v1/tokens` is paginated like every list (DESIGN.md §3, §6): it used to answer everything. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

describe.each(DIALECTS)('GET /v1/tokens (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect);
    for (let i = 0; i < 6; i++) {
      expect((await t.call('POST', '/v1/tokens', { name: `bot-${i}`, role: 'viewer' })).status).toBe(201);
    }
  });
  afterAll(async () => t.close());

  it('pages tokens by keyset cursor, oldest first, without secrets', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const answer = await t.call('GET', `/v1/tokens?limit=2${query}`);
      expect(answer.status).toBe(200);
      const page = answer.json() as { items: Record<string, unknown>[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((item) => !('token' in item) && !('hash' in item))).toBe(true);
      names.push(...page.items.map((item) => String(item.name)));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    // The bootstrap admin and six bots, each once.
    expect(names).toHaveLength(7);
    expect(new Set(names).size).toBe(7);
    expect(names.slice(1)).toEqual(['bot-0', 'bot-1', 'bot-2', 'bot-3', 'bot-4', 'bot-5']);
    expect(pages).toBe(4);
  });

  it('answers 400 for a cursor it did not issue or a limit out of range', async () => {
    const bad = await t.call('GET', '/v1/tokens?cursor=bm9wZQ');
    expect(bad.status).toBe(400);
    expect(bad.json().error?.code).toBe('SHIPLOG_INVALID_CURSOR');
    expect((await t.call('GET', '/v1/tokens?limit=0')).status).toBe(400);
    expect((await t.call('GET', '/v1/tokens?limit=201')).status).toBe(400);
  });
});
