/**
 * Incidents over HTTP on every dialect: recording, idempotency by key, the lifecycle, ledger
 * entries, roles and scopes, bad input, suspects and the deployment's incidents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app.js';
import { rawSql } from '../helpers/raw-sql.js';
import { DIALECTS } from '../helpers/dialects.js';

const MIN = 60_000;
const START = Date.parse('2026-11-02T12:00:00Z');
const at = (offsetMin: number) => new Date(START + offsetMin * MIN).toISOString();

async function countRows(t: TestApp, table: 'incidents' | 'incident_changes'): Promise<number> {
  const row = await rawSql(t.store)
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(DIALECTS)('incidents (%s)', (dialect) => {
  let t: TestApp;
  let deployer: string;
  beforeAll(async () => {
    t = await testApp(dialect, { services: { 'checkout-api': { dependsOn: ['payments-db'] } } });
    const created = await t.call('POST', '/v1/tokens', {
      name: 'team-a-ci',
      role: 'deployer',
      scopes: { services: ['checkout-api'] },
    });
    deployer = (created.json() as { token: string }).token;
    const deploy = async (
      deployment: string,
      service: string,
      from: number,
      to: number | null,
      extra = {},
    ) => {
      const events = [
        {
          type: 'deployment.started',
          deployment,
          service,
          environment: 'production',
          version: '1.4.2',
          region: 'eu-west-1',
          time: at(from),
          ...extra,
        },
        ...(to === null
          ? []
          : [{ type: 'deployment.succeeded', deployment, service, environment: 'production', time: at(to) }]),
      ];
      expect((await t.call('POST', '/v1/events', { events })).status).toBe(201);
    };
    await deploy('d-near', 'checkout-api', -12, -8);
    await deploy('d-far', 'checkout-api', -300, -290);
    await deploy('d-running', 'checkout-api', -3, null, { region: 'us-east-1' });
    await deploy('d-db', 'payments-db', -30, -25);
    await deploy('d-ticket', 'billing', -60, -55, { ticket: 'OPS-7' });
    await deploy('d-unrelated', 'search', -5, -4);
    await deploy('d-after', 'checkout-api', 5, 6);
  });
  afterAll(async () => t.close());

  it('records an incident (201) with a ledger entry, and the same key again updates it without duplicating', async () => {
    const body = {
      key: 'INC-1',
      title: 'checkout 500s',
      service: 'checkout-api',
      environment: 'production',
      region: 'eu-west-1',
      severity: 'sev2',
      startedAt: at(0),
      ticket: 'OPS-7',
    };
    const first = await t.call('POST', '/v1/incidents', body);
    expect(first.status).toBe(201);
    expect(first.json()).toMatchObject({
      status: 'created',
      incident: { key: 'INC-1', status: 'triggered', severity: 'sev2', startedAt: at(0), kind: 'incident' },
      ledgerIndex: expect.any(Number),
    });
    const entry = await t.call(
      'GET',
      `/v1/ledger/entries?start=${String(first.json().ledgerIndex)}&end=${String(Number(first.json().ledgerIndex) + 1)}`,
    );
    const data = JSON.parse(
      (entry.json() as { entries: { data: string }[] }).entries[0]?.data ?? 'null',
    ) as Record<string, unknown>;
    expect(data).toMatchObject({ recordType: 'incident', key: 'INC-1', change: 'created' });

    const same = await t.call('POST', '/v1/incidents', body);
    expect(same.json()).toMatchObject({ status: 'unchanged', ledgerIndex: null });
    const acked = await t.call('POST', '/v1/incidents', { ...body, status: 'acknowledged' });
    expect(acked.json()).toMatchObject({ status: 'updated', incident: { status: 'acknowledged' } });
    expect(await countRows(t, 'incidents')).toBe(1);
  });

  it('lists incidents newest first, filtered', async () => {
    await t.call('POST', '/v1/incidents', {
      key: 'INC-2',
      title: 'search slow',
      service: 'search',
      startedAt: at(30),
      status: 'resolved',
      resolvedAt: at(40),
    });
    const all = await t.call('GET', '/v1/incidents');
    expect((all.json() as { items: { key: string }[] }).items.map((i) => i.key)).toEqual(['INC-2', 'INC-1']);
    const open = await t.call('GET', '/v1/incidents?status=acknowledged&service=checkout-api');
    expect(open.json()).toMatchObject({ items: [{ key: 'INC-1' }], nextCursor: null });
    const resolved = await t.call('GET', '/v1/incidents/INC-2');
    expect(resolved.json()).toMatchObject({ status: 'resolved', resolvedAt: at(40) });
  });

  it('GET /v1/incidents/{key} ranks suspects: ticket, same service (region first, then time), dependency', async () => {
    const response = await t.call('GET', '/v1/incidents/INC-1');
    expect(response.status).toBe(200);
    const { suspects } = response.json() as { suspects: Record<string, unknown>[] };
    expect(suspects.map((s) => [s.deployment, s.reason, s.withinWindow])).toEqual([
      ['d-ticket', 'ticket', false],
      ['d-near', 'same_service', true],
      ['d-far', 'same_service', false],
      ['d-running', 'same_service', true],
      ['d-db', 'dependency', false],
    ]);
    expect(suspects[1]).toEqual({
      deployment: 'd-near',
      service: 'checkout-api',
      environment: 'production',
      region: 'eu-west-1',
      version: '1.4.2',
      finishedAt: at(-8),
      deltaMs: 8 * MIN,
      reason: 'same_service',
      withinWindow: true,
    });
  });

  it('causedBy makes a deployment the explicit, first suspect', async () => {
    await t.call('POST', '/v1/incidents', {
      key: 'INC-3',
      title: 'payments timeouts',
      service: 'checkout-api',
      environment: 'production',
      startedAt: at(1),
      causedBy: 'd-unrelated',
    });
    const { suspects } = (await t.call('GET', '/v1/incidents/INC-3')).json() as {
      suspects: { deployment: string; reason: string }[];
    };
    expect(suspects[0]).toMatchObject({ deployment: 'd-unrelated', reason: 'explicit' });
  });

  it('GET /v1/deployments/{d} shows the incidents it is a suspect of, with the same reason', async () => {
    const near = (await t.call('GET', '/v1/deployments/d-near')).json();
    expect(near.incidents).toEqual([
      {
        key: 'INC-1',
        title: 'checkout 500s',
        severity: 'sev2',
        status: 'acknowledged',
        reason: 'same_service',
        withinWindow: true,
      },
      {
        key: 'INC-3',
        title: 'payments timeouts',
        severity: null,
        status: 'triggered',
        reason: 'same_service',
        withinWindow: true,
      },
    ]);
    expect((await t.call('GET', '/v1/deployments/d-unrelated')).json().incidents).toEqual([
      expect.objectContaining({ key: 'INC-3', reason: 'explicit' }),
      expect.objectContaining({ key: 'INC-2', reason: 'same_service', withinWindow: false }),
    ]);
    expect((await t.call('GET', '/v1/deployments/d-after')).json().incidents).toEqual([]);
  });

  it('a deployer may post incidents of its services only; viewers may not post', async () => {
    const own = await t.call('POST', '/v1/incidents', { title: 'x', service: 'checkout-api' }, deployer);
    expect(own.status).toBe(201);
    expect(own.json().incident).toMatchObject({ source: 'team-a-ci' });
    const other = await t.call('POST', '/v1/incidents', { title: 'x', service: 'billing' }, deployer);
    expect(other.status).toBe(403);
    expect(other.json().error?.details[0]?.path).toBe('/service');
    // Regression: a key of another service's incident, or of a receiver, is not a way around the scope.
    const hijack = await t.call(
      'POST',
      '/v1/incidents',
      { key: 'INC-2', title: 'x', service: 'checkout-api', status: 'resolved' },
      deployer,
    );
    expect(hijack.status).toBe(403);
    expect((await t.call('GET', '/v1/incidents/INC-2')).json()).toMatchObject({
      service: 'search',
      title: 'search slow',
    });
    const squat = await t.call(
      'POST',
      '/v1/incidents',
      { key: 'pagerduty:P123', title: 'x', service: 'checkout-api' },
      deployer,
    );
    expect(squat.status).toBe(403);
    expect(squat.json().error?.details[0]?.path).toBe('/key');
    const viewer = await t.call('POST', '/v1/tokens', { name: 'v', role: 'viewer' });
    const asViewer = await t.call(
      'POST',
      '/v1/incidents',
      { title: 'x', service: 'billing' },
      (viewer.json() as { token: string }).token,
    );
    expect(asViewer.status).toBe(403);
  });

  it('bad input: 400 naming every field, nothing stored', async () => {
    const before = await countRows(t, 'incident_changes');
    const bad = await t.call('POST', '/v1/incidents', {
      key: 'bad key/with slash',
      service: 'Checkout',
      severity: 'P1',
      startedAt: 'yesterday',
    });
    expect(bad.status).toBe(400);
    const paths = bad.json().error?.details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['/key', '/title', '/service', '/severity', '/startedAt']));
    expect((await t.call('POST', '/v1/incidents', '[1,2')).status).toBe(400);
    expect(await countRows(t, 'incident_changes')).toBe(before);
    expect((await t.call('GET', '/v1/incidents/nope')).status).toBe(404);
  });
});
