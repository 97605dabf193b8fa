/**
 * The dashboard's browser session (DESIGN.md §12): POST /v1/session sets an HttpOnly,
 * SameSite=Strict cookie that authenticates like the token (same role), a cookie-authenticated
 * write needs this server's Origin (else 403), DELETE /v1/session clears it, and revoking the
 * token ends the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const HOST = '127.0.0.1:7350';
const ORIGIN = `http://${HOST}`;

describe.each(DIALECTS)('browser session (%s)', (dialect) => {
  let t: TestApp;
  const tokens: Record<string, { token: string; id: string }> = {};
  beforeAll(async () => {
    t = await testApp(dialect);
    for (const role of ['viewer', 'approver'] as const) {
      const created = await t.call('POST', '/v1/tokens', { name: `${role}-1`, role });
      tokens[role] = created.json() as { token: string; id: string };
    }
    await t.call('POST', '/v1/events', {
      type: 'deployment.requested',
      deployment: 'dep-1',
      service: 'checkout-api',
      environment: 'production',
      version: '2.0.0',
      actor: 'alice',
    });
  });
  afterAll(async () => t.close());

  const inject = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    headers: Record<string, string>,
    body?: unknown,
  ) =>
    t.app.server.inject({
      method,
      url,
      headers: {
        host: HOST,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  async function login(token: string): Promise<string> {
    const answer = await inject('POST', '/v1/session', { origin: ORIGIN }, { token });
    expect(answer.statusCode).toBe(200);
    const cookie = String(answer.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    return cookie.split(';')[0] as string;
  }

  it('refuses an unknown token without setting a cookie, and a login from another origin', async () => {
    const bad = await inject('POST', '/v1/session', {}, { token: 'nope' });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const foreign = await inject('POST', '/v1/session', { origin: 'https://evil.example' }, { token: ADMIN });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.headers['set-cookie']).toBeUndefined();
    const missing = await inject('POST', '/v1/session', {}, {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details[0].path).toMatch(/token/);
  });

  it('authenticates reads with the cookie, with the token role', async () => {
    const cookie = await login((tokens.viewer as { token: string }).token);
    const me = await inject('GET', '/v1/session', { cookie });
    expect(me.json()).toMatchObject({ name: 'viewer-1', role: 'viewer' });
    expect((await inject('GET', '/v1/deployments', { cookie })).statusCode).toBe(200);
    // The viewer may not approve, cookie or not.
    const refused = await inject(
      'POST',
      '/v1/deployments/dep-1/approvals',
      { cookie, origin: ORIGIN },
      { decision: 'approve' },
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toMatch(/viewer role/);
  });

  it("needs this server's Origin on a cookie-authenticated write, not on a bearer one", async () => {
    const cookie = await login((tokens.approver as { token: string }).token);
    const body = { decision: 'approve', comment: 'ok' };
    const url = '/v1/deployments/dep-1/approvals';
    const noOrigin = await inject('POST', url, { cookie }, body);
    expect(noOrigin.statusCode).toBe(403);
    expect(noOrigin.json().error.details[0].path).toBe('origin');
    const foreign = await inject('POST', url, { cookie, origin: 'http://127.0.0.1:9999' }, body);
    expect(foreign.statusCode).toBe(403);
    const approvals = await t.call('GET', '/v1/approvals?state=decided');
    expect((approvals.json() as { items: unknown[] }).items).toEqual([]);
    const same = await inject('POST', url, { cookie, origin: ORIGIN }, body);
    expect(same.statusCode).toBe(201);
    expect(same.json()).toMatchObject({ approval: { approver: 'approver-1' } });
    const bearer = await inject(
      'POST',
      url,
      { authorization: `Bearer ${ADMIN}` },
      { decision: 'approve', comment: 'second approval, by bearer token without Origin' },
    );
    expect(bearer.statusCode).toBe(201);
  });

  it('ends the session on DELETE (Origin checked) and when the token is revoked', async () => {
    const viewer = tokens.viewer as { token: string; id: string };
    const cookie = await login(viewer.token);
    expect((await inject('DELETE', '/v1/session', { cookie })).statusCode).toBe(403);
    const out = await inject('DELETE', '/v1/session', { cookie, origin: ORIGIN });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/shiplog_session=; .*Max-Age=0/);
    expect((await t.call('DELETE', `/v1/tokens/${viewer.id}`)).status).toBe(200);
    expect((await inject('GET', '/v1/deployments', { cookie })).statusCode).toBe(401);
  });
});
