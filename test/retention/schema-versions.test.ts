/**
 * Event schema versions (DESIGN.md §14): each version is served, `schemaVersion` is accepted,
 * and events recorded by version 1 (release 0.1, captured in test/fixtures/events-v1.json by the
 * server of that release) replay through the current server to the same deployments and records.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_SCHEMA_VERSION } from '../../src/domain/event.js';
import { EVENT_SCHEMA_VERSIONS, eventJsonBody, upcastRecord } from '../../src/domain/event-versions.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

interface Fixture {
  inputs: Record<string, unknown>[];
  deployments: Record<string, { view: Record<string, unknown>; events: Record<string, unknown>[] }>;
}
const fixture = JSON.parse(
  fs.readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/events-v1.json'),
    'utf8',
  ),
) as Fixture;

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('the version list', () => {
  it('names the current version last, and its schema is the live event schema', () => {
    expect(EVENT_SCHEMA_VERSIONS.at(-1)?.version).toBe(EVENT_SCHEMA_VERSION);
    // Changing src/domain/event.ts without adding a version breaks this: add one instead.
    expect(EVENT_SCHEMA_VERSIONS.at(-1)?.schema).toEqual(eventJsonBody());
  });

  it('reads a stored record that names its version as a current one', () => {
    const record = { recordType: 'event', id: 'x', type: 'deployment.started', schemaVersion: '1' };
    expect(upcastRecord(record)).toEqual({ recordType: 'event', id: 'x', type: 'deployment.started' });
  });
});

describe.each(DIALECTS)('schema versions on %s', (dialect) => {
  it('serves every version, the current one by default, publicly', async () => {
    const t = (current = await testApp(dialect));
    const latest = await t.call('GET', '/v1/schema/event.json', undefined, null);
    expect(latest.status).toBe(200);
    expect(latest.json()['x-schema-version']).toBe(EVENT_SCHEMA_VERSION);
    for (const { version } of EVENT_SCHEMA_VERSIONS) {
      const served = await t.call('GET', `/v1/schema/event.json?version=${version}`, undefined, null);
      expect(served.status).toBe(200);
      const body = served.json() as {
        'x-schema-version': string;
        properties: Record<string, { const?: string }>;
      };
      expect(body['x-schema-version']).toBe(version);
      expect(body.properties.schemaVersion?.const).toBe(version);
    }
    const unknown = await t.call('GET', '/v1/schema/event.json?version=99', undefined, null);
    expect(unknown.status).toBe(404);
    expect(unknown.json().error?.details[0]?.path).toBe('version');
  });

  it('documents schemaVersion in the OpenAPI body of POST /v1/events, single and batched', async () => {
    const t = (current = await testApp(dialect));
    const openapi = await t.call('GET', '/v1/openapi.json', undefined, null);
    expect(openapi.status).toBe(200);
    type Schema = { properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; enum?: string[] };
    const paths = openapi.json().paths as Record<
      string,
      { post?: { requestBody: { content: Record<string, { schema: Schema }> } } }
    >;
    const body = paths['/v1/events']?.post?.requestBody.content['application/json']?.schema;
    const [single, batch] = body?.anyOf ?? [];
    const versions = EVENT_SCHEMA_VERSIONS.map((v) => v.version);
    expect(single?.properties?.schemaVersion?.enum).toEqual(versions);
    expect(batch?.properties?.events?.items?.properties?.schemaVersion?.enum).toEqual(versions);
  });

  it('replays the events version 1 recorded to the same deployments and records', async () => {
    const t = (current = await testApp(dialect));
    // Half as a version-1 client sent them (no schemaVersion), half naming the version.
    for (const [i, input] of fixture.inputs.entries()) {
      const body = i % 2 === 0 ? input : { ...input, schemaVersion: '1' };
      const answer = await t.call('POST', '/v1/events', body);
      expect(answer.status).toBe(201);
    }
    for (const [deployment, recorded] of Object.entries(fixture.deployments)) {
      const answer = await t.call('GET', `/v1/deployments/${deployment}`);
      expect(answer.status).toBe(200);
      const { events, ...view } = answer.json() as { events: Record<string, unknown>[] } & Record<
        string,
        unknown
      >;
      for (const [key, value] of Object.entries(recorded.view)) expect(view[key]).toEqual(value);
      const strip = ({ receivedAt: _r, hlc: _h, ledgerIndex: _l, ...rest }: Record<string, unknown>) => rest;
      expect(events.map(strip)).toEqual(recorded.events.map((e) => upcastRecord(e)));
    }
  });

  it('refuses an unknown schemaVersion by its pointer and stores nothing of the batch', async () => {
    const t = (current = await testApp(dialect));
    const [first, second] = fixture.inputs;
    const answer = await t.call('POST', '/v1/events', { events: [first, { ...second, schemaVersion: '9' }] });
    expect(answer.status).toBe(400);
    expect(answer.json().error?.details.map((d) => d.path)).toEqual(['/events/1/schemaVersion']);
    expect((await t.call('GET', '/v1/deployments/gha-900-1')).status).toBe(404);
  });
});
