/**
 * Security review finding 19: /metrics (open to scrapers) listed token names as label values,
 * and a captured GitHub delivery replayed under another X-GitHub-Event name (the header is not
 * signed) stored a new event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { SECRETS, deliver, fixture } from '../helpers/webhooks.js';

describe.each(DIALECTS)('information exposure (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect, { webhooks: { secrets: SECRETS } });
  });
  afterAll(async () => t.close());

  it('/metrics labels events by source kind, never by token name', async () => {
    const created = await t.call('POST', '/v1/tokens', { name: 'payments-team-ci', role: 'deployer' });
    const token = (created.json() as { token: string }).token;
    const event = {
      type: 'deployment.started',
      deployment: 'metrics-label-1',
      service: 'payments',
      environment: 'staging',
      version: '1.0.0',
    };
    expect((await t.call('POST', '/v1/events', event, token)).status).toBe(201);
    expect((await t.call('POST', '/v1/events', { ...event, service: 'Bad!' }, token)).status).toBe(400);
    const metrics = (await t.app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).not.toContain('payments-team-ci');
    expect(metrics).not.toContain('test-admin');
    expect(metrics).toContain('shiplog_events_total{source="api",outcome="stored"} 1');
    expect(metrics).toContain('shiplog_events_total{source="api",outcome="rejected"} 1');
  });

  it('a GitHub deployment_status delivery replayed as a deployment event stores nothing', async () => {
    const body = fixture('github/deployment_status.payload.json');
    const before = await countEvents(t.store);
    const replayed = await deliver(t.app.server, 'github', body, { 'x-github-event': 'deployment' });
    expect(replayed.status).toBe(400);
    expect(replayed.json()).toMatchObject({
      error: {
        code: 'SHIPLOG_INVALID_REQUEST',
        details: [{ path: 'x-github-event', message: expect.stringContaining('deployment_status') }],
      },
    });
    expect(await countEvents(t.store)).toBe(before);
    // Under its own name it is stored; the deployment event's own payload is too.
    expect(
      (await deliver(t.app.server, 'github', body, { 'x-github-event': 'deployment_status' })).status,
    ).toBe(201);
    const deployment = fixture('github/deployment.payload.json');
    expect(
      (await deliver(t.app.server, 'github', deployment, { 'x-github-event': 'deployment' })).status,
    ).toBe(201);
    // And a deployment payload cannot pass for a status.
    expect(
      (await deliver(t.app.server, 'github', deployment, { 'x-github-event': 'deployment_status' })).status,
    ).toBe(400);
  });
});
