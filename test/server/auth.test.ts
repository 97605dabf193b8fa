import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { countEvents, testApp, type TestApp } from '../helpers/app.js';

const event = (service: string, environment: string, deployment: string) => ({
  type: 'deployment.started',
  deployment,
  service,
  environment,
  version: '1.0.0',
});

describe.each(DIALECTS)('auth on %s', (dialect) => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    t = await testApp(dialect);
    for (const role of ['approver', 'deployer', 'viewer', 'auditor']) {
      const created = await t.call('POST', '/v1/tokens', { name: `${role}-bot`, role });
      expect(created.status).toBe(201);
      tokens[role] = (created.json() as { token: string }).token;
    }
    const scoped = await t.call('POST', '/v1/tokens', {
      name: 'team-a-ci',
      role: 'deployer',
      scopes: { services: ['team-a-api'], environments: ['staging', 'production'] },
    });
    tokens.scoped = (scoped.json() as { token: string }).token;
  });
  afterAll(async () => t.close());

  const readRoutes = [
    '/v1/deployments',
    '/v1/deployments/x',
    '/v1/environments',
    '/v1/state?environment=production&at=2026-01-01T00:00:00Z',
    '/v1/sources',
  ];

  it('answers 401 without a token, with a bad token, and with a malformed header on every protected route', async () => {
    for (const url of [...readRoutes, '/v1/tokens']) {
      for (const token of [null, 'not-a-token']) {
        const answer = await t.call('GET', url, undefined, token);
        expect(answer.status, `${url} ${String(token)}`).toBe(401);
        expect(answer.json().error?.code).toBe('SHIPLOG_UNAUTHORIZED');
      }
    }
    expect((await t.call('POST', '/v1/events', event('a', 'b', 'c'), null)).status).toBe(401);
    expect((await t.call('POST', '/v1/tokens', { name: 'x', role: 'viewer' }, null)).status).toBe(401);
    expect((await t.call('DELETE', '/v1/tokens/tok_x', undefined, null)).status).toBe(401);
  });

  it('lets every role read', async () => {
    for (const role of ['approver', 'deployer', 'viewer', 'auditor']) {
      expect((await t.call('GET', '/v1/deployments', undefined, tokens[role])).status).toBe(200);
    }
  });

  it('forbids recording events to roles other than deployer and admin', async () => {
    const before = await countEvents(t.store);
    for (const role of ['approver', 'viewer', 'auditor']) {
      const answer = await t.call(
        'POST',
        '/v1/events',
        event('svc', 'production', `forbidden-${role}`),
        tokens[role],
      );
      expect(answer.status).toBe(403);
      expect(answer.json().error?.code).toBe('SHIPLOG_FORBIDDEN');
    }
    expect(await countEvents(t.store)).toBe(before);
    expect(
      (await t.call('POST', '/v1/events', event('svc', 'production', 'allowed'), tokens.deployer)).status,
    ).toBe(201);
  });

  it("keeps a scoped CI token to its team's services and environments", async () => {
    const before = await countEvents(t.store);
    const other = await t.call('POST', '/v1/events', event('team-b-api', 'production', 'b1'), tokens.scoped);
    expect(other.status).toBe(403);
    expect(other.json().error?.details[0]?.path).toBe('/service');
    const env = await t.call(
      'POST',
      '/v1/events',
      { events: [event('team-a-api', 'staging', 'a1'), event('team-a-api', 'dev', 'a2')] },
      tokens.scoped,
    );
    expect(env.status).toBe(403);
    expect(env.json().error?.details[0]?.path).toBe('/events/1/environment');
    expect(await countEvents(t.store)).toBe(before);
    expect(
      (await t.call('POST', '/v1/events', event('team-a-api', 'staging', 'a3'), tokens.scoped)).status,
    ).toBe(201);
  });

  it('forbids token management to every role but admin', async () => {
    for (const role of ['approver', 'deployer', 'viewer', 'auditor']) {
      expect((await t.call('GET', '/v1/tokens', undefined, tokens[role])).status).toBe(403);
      expect((await t.call('POST', '/v1/tokens', { name: 'x', role: 'admin' }, tokens[role])).status).toBe(
        403,
      );
      expect((await t.call('DELETE', '/v1/tokens/tok_x', undefined, tokens[role])).status).toBe(403);
    }
  });

  it('lists tokens without secrets and revokes them at once', async () => {
    const created = (await t.call('POST', '/v1/tokens', { name: 'short-lived', role: 'viewer' })).json() as {
      id: string;
      token: string;
    };
    expect(created.token).toMatch(/^shiplog_/);
    expect((await t.call('GET', '/v1/deployments', undefined, created.token)).status).toBe(200);
    const listed = await t.call('GET', '/v1/tokens');
    const text = JSON.stringify(listed.json());
    expect(text).toContain('short-lived');
    for (const secret of Object.values(tokens).concat(created.token)) expect(text).not.toContain(secret);
    expect(text).not.toContain('hash');
    const revoked = await t.call('DELETE', `/v1/tokens/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json().revokedAt).toEqual(expect.any(String));
    expect((await t.call('GET', '/v1/deployments', undefined, created.token)).status).toBe(401);
    expect((await t.call('DELETE', '/v1/tokens/tok_nope')).status).toBe(404);
  });

  it('rejects bad token requests clearly', async () => {
    const badRole = await t.call('POST', '/v1/tokens', { name: 'x', role: 'superuser' });
    expect(badRole.status).toBe(400);
    expect(badRole.json().error?.details[0]?.path).toBe('/role');
    const scopedViewer = await t.call('POST', '/v1/tokens', {
      name: 'x',
      role: 'viewer',
      scopes: { services: ['a'] },
    });
    expect(scopedViewer.status).toBe(400);
  });
});
