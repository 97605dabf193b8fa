/**
 * Authorization as data: every registered route declares its access, docs/security.md lists
 * exactly those declarations, and every role outside an action's row of the matrix is refused
 * (403) on every route that declares it, before the body is read.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_MATRIX, type Access, type Action } from '../../src/server/access.js';
import { ROLES } from '../../src/store/tokens-repository.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/server-process.js';

/** `| \`METHOD /path\` | action |` rows of the routes table of docs/security.md. */
function documentedRoutes(): Map<string, string> {
  const text = fs.readFileSync(path.join(ROOT, 'docs/security.md'), 'utf8');
  const section = text.slice(text.indexOf('### Routes'), text.indexOf('## Order of checks'));
  const routes = new Map<string, string>();
  for (const match of section.matchAll(/^\| `(GET|POST|DELETE) ([^`]+)` \| (.+) \|$/gm)) {
    const [, method, url, access] = match as unknown as [string, string, string, string];
    const declared = /^`([a-z:]+)`$/.exec(access)?.[1] ?? (access.startsWith('public') ? 'public' : access);
    const braces = /^(.*)\{([^}]+)\}(.*)$/.exec(url);
    const urls = braces ? (braces[2] ?? '').split(',').map((s) => `${braces[1]}${s}${braces[3]}`) : [url];
    for (const u of urls) routes.set(`${method} ${u}`, declared);
  }
  return routes;
}

/** The dashboard's static files (public, present once web/ is built): listed in prose, not per file. */
const isDashboardFile = (url: string) =>
  url.startsWith('/assets/') || /^\/[^/]+\.(svg|ico|png|txt|webmanifest)$/.test(url);

describe('route access declarations', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    t = await testApp('sqlite');
    await t.app.server.ready();
    for (const role of ROLES) {
      const created = await t.call('POST', '/v1/tokens', { name: `${role}-matrix`, role });
      tokens[role] = (created.json() as { token: string }).token;
    }
  });
  afterAll(async () => t.close());

  /** Declared routes without HEAD (it mirrors GET) and with the docs UI folded into `/docs/*`. */
  const declared = () => {
    const routes = new Map<string, Access | undefined>();
    for (const r of t.app.routes) {
      if (r.method === 'HEAD' || isDashboardFile(r.url)) continue;
      routes.set(r.url.startsWith('/docs') ? `${r.method} /docs/*` : `${r.method} ${r.url}`, r.access);
    }
    return routes;
  };

  it('has every registered route declare an action or public, as docs/security.md lists them', () => {
    const routes = declared();
    expect([...routes].filter(([, access]) => access === undefined)).toEqual([]);
    expect(Object.fromEntries(routes)).toEqual(Object.fromEntries(documentedRoutes()));
    for (const r of t.app.routes) {
      if (r.method !== 'HEAD' || r.url.startsWith('/docs')) continue;
      const get = t.app.routes.find((g) => g.method === 'GET' && g.url === r.url);
      expect(r.access, r.url).toBe(get?.access);
    }
  });

  it('documents the role matrix exactly as it is enforced', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docs/security.md'), 'utf8');
    const header = /^\| action \| (.+) \| what it covers \|$/m.exec(text)?.[1]?.split(' | ') ?? [];
    expect(header).toEqual([...ROLES]);
    for (const action of Object.keys(ROLE_MATRIX) as Action[]) {
      const row = new RegExp(`^\\| \`${action}\` \\| (.+) \\| [^|]+ \\|$`, 'm').exec(text)?.[1];
      expect(row, action).toBeDefined();
      const allowed = (row ?? '').split('|').flatMap((cell, i) => (cell.trim() === '✓' ? [header[i]] : []));
      expect(allowed, action).toEqual(ROLES.filter((role) => ROLE_MATRIX[action].includes(role)));
    }
  });

  it('refuses every role outside the matrix on every route (403), and lets the others through', async () => {
    const checked: string[] = [];
    for (const r of t.app.routes) {
      if (r.access === undefined || r.access === 'public' || r.method === 'HEAD') continue;
      // The stream never ends on its own: an invalid filter makes an allowed role's answer a 400.
      const url = r.url.replace(/:(\w+)/g, 'no-such-$1') + (r.url === '/v1/stream' ? '?events=none' : '');
      for (const role of ROLES) {
        const answer = await t.call(
          r.method as 'GET' | 'POST' | 'DELETE',
          url,
          r.method === 'GET' ? undefined : {},
          tokens[role],
        );
        const where = `${r.method} ${r.url} as ${role}`;
        if (ROLE_MATRIX[r.access].includes(role)) {
          expect([401, 403], where).not.toContain(answer.status);
        } else {
          expect(answer.status, where).toBe(403);
          expect(answer.json().error?.code, where).toBe('SHIPLOG_FORBIDDEN');
        }
      }
      const anonymous = await t.call(r.method as 'GET' | 'POST' | 'DELETE', url, undefined, null);
      expect(anonymous.status, `${r.method} ${r.url} without a token`).toBe(401);
      checked.push(`${r.method} ${r.url}`);
    }
    expect(checked.length).toBeGreaterThanOrEqual(25);
  });

  it('lets the auditor read the ledger and the records, and change nothing', async () => {
    for (const url of [
      '/v1/ledger/checkpoint',
      '/v1/ledger/entries?start=0',
      '/v1/deployments',
      '/v1/violations',
    ]) {
      expect((await t.call('GET', url, undefined, tokens.auditor)).status, url).toBe(200);
    }
    const writes = t.app.routes.filter(
      (r) => r.method !== 'GET' && r.method !== 'HEAD' && r.access !== undefined && r.access !== 'public',
    );
    for (const r of writes)
      expect(ROLE_MATRIX[r.access as Action], `${r.method} ${r.url}`).not.toContain('auditor');
  });

  it('refuses to start when a route declares no access', async () => {
    const other = await testApp('sqlite');
    try {
      other.app.server.get('/v1/forgotten', async () => ({ open: true }));
      await expect(other.app.server.ready()).rejects.toThrow(/GET \/v1\/forgotten/);
    } finally {
      await other.close();
    }
  });
});

describe('authentication before the body (regression: bodies were buffered before the token was checked)', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await testApp('sqlite');
    await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.server.address() as { port: number }).port;
  });
  afterAll(async () => t.close());

  /** Sends headers announcing `length` bytes and only `sent` of them; resolves with the answer. */
  const partial = (token: string | null, length: number, sent: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/events',
        headers: {
          'content-type': 'application/json',
          'content-length': String(length),
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
      });
      request.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body });
          request.destroy();
        });
      });
      request.on('error', reject);
      request.write('x'.repeat(sent));
      // The rest of the body is never sent: only an answer given before the body was read can arrive.
    });

  it('answers 401 to a bad or missing token while the body is still arriving', async () => {
    for (const token of ['not-a-token', null]) {
      const answer = await partial(token, 100_000, 10);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'SHIPLOG_UNAUTHORIZED' } });
    }
  });

  it('answers 401, not 413, to a bad token with a body over the limit', async () => {
    const answer = await partial('not-a-token', 50 * 1024 * 1024, 1024);
    expect(answer.status).toBe(401);
  });

  it('answers 403 to a role that may not write before the body is read', async () => {
    const created = await t.call('POST', '/v1/tokens', { name: 'early-viewer', role: 'viewer' });
    const answer = await partial((created.json() as { token: string }).token, 100_000, 10);
    expect(answer.status).toBe(403);
  });
});
