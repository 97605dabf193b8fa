/**
 * `incidentFreeze` over HTTP on every dialect: while an incident of the service at the
 * configured severity or worse is open in the environment, the gate denies with
 * `incident_open`; resolving it, a lower severity or another environment lets deploys through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const CONFIG = parseConfigFile(
  [
    'environments:',
    '  production:',
    '    protected: true',
    '    incidentFreeze: sev2',
    '    require:',
    '      byKind:',
    '        hotfix: {allowDuringIncident: true}',
  ].join('\n'),
  'shiplog.yaml',
);

describe.each(DIALECTS)('incidentFreeze (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect, { policy: CONFIG.policy });
  });
  afterAll(async () => t.close());

  const gate = async (extra: Record<string, unknown> = {}, query = '') => {
    const answer = await t.call('POST', `/v1/gate${query}`, {
      deployment: `g-${String(Math.random()).slice(2)}`,
      service: 'checkout-api',
      environment: 'production',
      version: '2.0.0',
      ...extra,
    });
    expect(answer.status).toBe(200);
    return answer.json() as { allow: boolean; reasons: { code: string; message: string }[] };
  };
  const incident = (body: Record<string, unknown>) =>
    t.call('POST', '/v1/incidents', { title: 'checkout down', service: 'checkout-api', ...body });

  it('denies with incident_open while a sev2-or-worse incident of the service is open', async () => {
    expect((await gate()).allow).toBe(true);
    await incident({ key: 'F-1', severity: 'sev3', environment: 'production' });
    await incident({ key: 'F-2', severity: 'sev1', environment: 'staging' });
    await incident({ key: 'F-3', title: 'search down', service: 'search', severity: 'sev1' });
    expect((await gate()).allow).toBe(true);

    // A second before the incident is received (its start): clear of the same millisecond.
    const before = new Date(Date.now() - 1000).toISOString();
    await incident({ key: 'F-4', severity: 'sev1', environment: 'production' });
    const denied = await gate();
    expect(denied.allow).toBe(false);
    expect(denied.reasons).toEqual([
      { code: 'incident_open', message: 'checkout-api has open incidents at sev2 or worse: F-4 (sev1)' },
    ]);
    // A what-if before the incident started sees it not yet open.
    expect(await gate({}, `?at=${encodeURIComponent(before)}`)).toMatchObject({ allow: true, reasons: [] });
    // A hotfix may ship during the incident.
    expect((await gate({ kind: 'hotfix' })).allow).toBe(true);

    await incident({ key: 'F-4', status: 'resolved' });
    expect((await gate()).allow).toBe(true);
    // Re-triggered: frozen again.
    await incident({ key: 'F-4', status: 'triggered' });
    expect((await gate()).allow).toBe(false);
  });

  it('rejects an unknown severity in the configuration with its line', () => {
    expect(() =>
      parseConfigFile(
        'environments:\n  production:\n    protected: true\n    incidentFreeze: P1\n',
        'shiplog.yaml',
      ),
    ).toThrow(
      /shiplog\.yaml:4:\d+ environments\.production\.incidentFreeze: must be one of sev1, sev2, sev3, sev4, sev5/,
    );
  });
});
