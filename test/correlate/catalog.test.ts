/**
 * The service catalog end to end (both dialects): `shiplog catalog import` (the built CLI) of
 * the Backstage fixtures against a real server, `GET /v1/services` with dependants and current
 * deployments, and imported dependencies counting for correlation.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { BIN } from '../helpers/server-process.js';
import { FIXTURES } from '../helpers/webhooks.js';

const run = promisify(execFile);
const BACKSTAGE = fileURLToPath(new URL('backstage/', FIXTURES));

describe.each(DIALECTS)('service catalog (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await testApp(dialect, {
      services: {
        'checkout-api': { team: 'payments', dependsOn: ['payments-db'], repository: 'octo-org/checkout-api' },
      },
    });
    url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => t.close());

  const cli = (args: string[], token = ADMIN) =>
    run(process.execPath, [BIN, ...args], {
      env: { ...process.env, SHIPLOG_URL: url, SHIPLOG_TOKEN: token },
    });

  it('imports every Backstage fixture with `shiplog catalog import` and lists services with dependants', async () => {
    const files = readdirSync(BACKSTAGE)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `${BACKSTAGE}${f}`);
    const { stdout } = await cli(['catalog', 'import', ...files]);
    expect(stdout).toMatch(/^imported \d+ services \(skipped: .*API/);
    await t.call('POST', '/v1/events', {
      type: 'deployment.succeeded',
      deployment: 'ck-1',
      service: 'checkout-api',
      environment: 'production',
      version: '3.1.0',
    });
    const { items } = (await t.call('GET', '/v1/services')).json() as { items: Record<string, unknown>[] };
    const byName = Object.fromEntries(items.map((s) => [s.service, s]));
    expect(byName['wayback-search']).toMatchObject({ team: 'team-a', dependsOn: ['wayback-archive'] });
    expect(byName['wayback-archive']).toMatchObject({ dependants: ['wayback-search'] });
    expect(byName['backstage-demo']).toMatchObject({
      repository: 'backstage/demo',
      dependsOn: ['demo-graphql'],
    });
    expect(byName['checkout-api']).toMatchObject({
      team: 'payments',
      dependsOn: ['payments-db'],
      lastDeployments: [{ environment: 'production', deployment: 'ck-1', version: '3.1.0' }],
    });
    expect(byName['payments-db']).toMatchObject({ dependants: ['checkout-api'] });
  });

  it('imported dependencies make dependency suspects', async () => {
    const start = Date.now();
    await t.call('POST', '/v1/events', {
      type: 'deployment.succeeded',
      deployment: 'wa-1',
      service: 'wayback-archive',
      environment: 'production',
      version: '1.0.0',
      time: new Date(start - 60_000).toISOString(),
    });
    await t.call('POST', '/v1/incidents', {
      key: 'WB-1',
      title: 'search broken',
      service: 'wayback-search',
      environment: 'production',
      startedAt: new Date(start).toISOString(),
    });
    const { suspects } = (await t.call('GET', '/v1/incidents/WB-1')).json() as { suspects: unknown[] };
    expect(suspects).toEqual([
      expect.objectContaining({ deployment: 'wa-1', reason: 'dependency', withinWindow: true }),
    ]);
  });

  it('refuses a non-admin import (403) and names a bad descriptor without sending anything', async () => {
    const viewer = (await t.call('POST', '/v1/tokens', { name: `v-${dialect}`, role: 'viewer' })).json() as {
      token: string;
    };
    const file = `${BACKSTAGE}component.wayback-search.provides-consumes.catalog-model.yaml`;
    await expect(cli(['catalog', 'import', file], viewer.token)).rejects.toMatchObject({
      stderr: expect.stringContaining('403 SHIPLOG_FORBIDDEN'),
    });
    await expect(cli(['catalog', 'import', '/nonexistent/catalog-info.yaml'])).rejects.toMatchObject({
      stderr: expect.stringContaining('cannot read /nonexistent/catalog-info.yaml: ENOENT'),
    });
  });
});
