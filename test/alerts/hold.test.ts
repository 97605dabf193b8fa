/**
 * shiplog's own non-critical alerts of a service that is deploying are held (suppression): they
 * are recorded at once, with `heldUntil`, and routed only once the deployment has finished and
 * the grace has passed. Critical ones go out as usual.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { buildApp, type App } from '../../src/server/app.js';
import { LEASE_NAME } from '../../src/server/leader.js';
import type { Store } from '../../src/store/database.js';
import { ADMIN } from '../helpers/app.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { startStandIn, type StandIn } from '../helpers/standin.js';

const MIN = 60_000;

describe.each(DIALECTS)('alerts held while the service deploys (%s)', (dialect) => {
  let database: TestDatabase;
  let store: Store;
  let app: App;
  let hook: StandIn;

  beforeAll(async () => {
    hook = await startStandIn();
    database = await freshDatabase(dialect);
    store = await database.open();
    await store.tokens.ensureBootstrap(ADMIN);
    await store.leases.acquire(LEASE_NAME, 'another-replica', 24 * 3600_000, Date.now());
    const file = parseConfigFile(
      `alerts:
  rules:
    - {name: qa-failed, when: deployment_failed, match: {environment: qa}, severity: warning}
    - {name: prod-failed, when: deployment_failed, match: {environment: production}, severity: critical}
  route: {receiver: hook, group_wait: 0s}
  receivers:
    - {name: hook, webhook: {url: '${hook.url}/hook'}}
  suppression:
    alertmanager: {url: 'http://127.0.0.1:9/', grace: 10m}
`,
      'shiplog.yaml',
    );
    app = await buildApp({ store, alerts: file.alerts });
    await app.server.ready();
  });

  afterAll(async () => {
    await app.server.close();
    await store.close();
    await database.destroy();
    await hook.close();
  });

  async function event(id: string, type: string, deployment: string, environment: string) {
    const response = await app.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        id,
        type: `deployment.${type}`,
        deployment,
        service: 'web',
        environment,
        version: '1',
      }),
    });
    expect(response.statusCode).toBe(201);
    await app.alerts.idle();
  }

  async function dispatch(at: number) {
    await app.alerts.dispatch(at);
    await app.alerts.idle();
  }

  it('holds a warning until the deployment has finished and the grace has passed', async () => {
    const t0 = Date.now();
    await event('a1', 'started', 'web-1', 'qa');
    await event('a2', 'failed', 'web-2', 'qa');
    const [held] = (await app.alerts.list({ status: 'firing', limit: 10 })).items;
    expect(held?.rule).toBe('qa-failed');
    expect(held?.heldUntil).not.toBeNull();
    await dispatch(t0 + MIN);
    expect(hook.requests).toHaveLength(0);

    // The running deployment ends (failing too: a success would resolve the held alert unsent).
    await event('a3', 'failed', 'web-1', 'qa');
    await dispatch(t0 + 5 * MIN);
    expect(hook.requests).toHaveLength(0);
    await dispatch(t0 + 12 * MIN);
    await dispatch(t0 + 12 * MIN + 1000);
    const [sent] = await hook.waitFor(1);
    expect(sent?.body).toContain(held?.id ?? 'missing');
    expect((await app.alerts.get(held?.id ?? ''))?.heldUntil).toBeNull();
  });

  it('never holds a critical alert', async () => {
    const t0 = Date.now();
    await event('b1', 'started', 'web-3', 'production');
    await event('b2', 'failed', 'web-4', 'production');
    const critical = (await app.alerts.list({ status: 'firing', limit: 10 })).items.find(
      (a) => a.rule === 'prod-failed',
    );
    expect(critical?.heldUntil).toBeNull();
    // Same group as the first test's alert (no group_by): it goes out after group_interval.
    await dispatch(t0 + 30 * MIN);
    await hook.waitFor(1, (r) => r.body.includes(critical?.id ?? 'missing'));
  });
});
