import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../domain/event.js';
import { adaptCdevents, parsePurl } from './cdevents.js';
import { AdapterInputError, type WebhookRequest } from './types.js';

const root = new URL('../../../shared/fixtures/cdevents/', import.meta.url);
const VERSIONS = [
  { name: '0.5.1', dir: root, typeVersion: '0.3.0' },
  { name: '0.4.1', dir: new URL('v0.4.1/', root), typeVersion: '0.2.0' },
];

interface CDEvent {
  context: { id: string; source: string; type: string; timestamp: string };
}

function load(dir: URL, file: string): { raw: Buffer; event: CDEvent } {
  const raw = readFileSync(new URL(file, dir));
  return { raw, event: JSON.parse(raw.toString('utf8')) as CDEvent };
}

/** Binary content mode: the CDEvent is the body, its context repeated in ce-* headers. */
function binary(dir: URL, file: string): WebhookRequest {
  const { raw, event } = load(dir, file);
  const c = event.context;
  return {
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': c.id,
      'ce-source': c.source,
      'ce-type': c.type,
      'ce-time': c.timestamp,
    },
    rawBody: raw,
    body: event,
  };
}

/** Structured content mode: the CDEvent is the CloudEvent's data. */
function structured(dir: URL, file: string): WebhookRequest {
  const { event } = load(dir, file);
  const c = event.context;
  const cloudEvent = {
    specversion: '1.0',
    id: c.id,
    source: c.source,
    type: c.type,
    time: c.timestamp,
    datacontenttype: 'application/json',
    data: event,
  };
  const rawBody = Buffer.from(JSON.stringify(cloudEvent));
  return {
    headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    rawBody,
    body: cloudEvent,
  };
}

const dedupe = (type: string) =>
  `cdevents:${createHash('sha256').update(`/event/source/123\u0000271069a8-fc18-44f1-b38f-9d70a1695819\u0000${type}`).digest('hex')}`;
const CHAIN = '4c8cb7dd-3448-41de-8768-eec704e2829b';
const DIGEST = 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427';

const SERVICE_EVENTS: Record<string, string> = {
  'service_deployed.json': 'deployment.succeeded',
  'service_upgraded.json': 'deployment.succeeded',
  'service_rolledback.json': 'deployment.rolled_back',
};

for (const version of VERSIONS) {
  describe(`adaptCdevents on the CDEvents ${version.name} conformance events`, () => {
    for (const [file, type] of Object.entries(SERVICE_EVENTS)) {
      const predicate = file.replace(/^service_|\.json$/g, '');
      const cdType = `dev.cdevents.service.${predicate}.${version.typeVersion}`;
      const expected = {
        id: dedupe(cdType),
        type,
        time: '2023-03-20T14:27:05.315Z',
        deployment: `cdevents:mysubject123:test123:${CHAIN}`,
        service: 'mysubject123',
        environment: 'test123',
        version: DIGEST,
        labels: { 'cdevents.type': cdType },
      };
      it(`maps ${file} (binary mode)`, () => {
        const result = adaptCdevents(binary(version.dir, file));
        expect(result).toEqual({ kind: 'events', events: [expected] });
        if (result.kind === 'events') expect(validateEvent(result.events[0])).toEqual([]);
      });
      it(`maps ${file} (structured mode) to the same event`, () => {
        expect(adaptCdevents(structured(version.dir, file))).toEqual({ kind: 'events', events: [expected] });
      });
    }

    const others = readdirSync(version.dir).filter((f) => f.endsWith('.json') && !(f in SERVICE_EVENTS));
    for (const file of others) {
      it(`keeps ${file} as a record`, () => {
        const { event } = load(version.dir, file);
        const result = adaptCdevents(binary(version.dir, file));
        const m = /^dev\.cdevents\.([a-z]+)\.([a-z]+)\./i.exec(event.context.type);
        expect(result).toEqual({
          kind: 'record',
          recordType: m ? `${m[1]?.toLowerCase()}.${m[2]}` : event.context.type,
          id: `cdevents:${createHash('sha256').update(`${event.context.source}\u0000${event.context.id}\u0000${event.context.type}`).digest('hex')}`,
          source: event.context.source,
          time: file.startsWith('incident_') ? '2022-11-11T13:52:20.079Z' : '2023-03-20T14:27:05.315Z',
          data: event,
        });
      });
    }
  });
}

describe('adaptCdevents details', () => {
  it('keeps incidents, change.merged and custom types with readable record types', () => {
    const types = [
      'incident_detected.json',
      'change_merged.json',
      'service_removed.json',
      'custom_event_cdeventsx.json',
    ].map((f) => {
      const r = adaptCdevents(binary(root, f));
      return r.kind === 'record' ? r.recordType : r.kind;
    });
    expect(types).toEqual([
      'incident.detected',
      'change.merged',
      'service.removed',
      'dev.cdeventsx.mytool-resource.created.0.1.0',
    ]);
  });

  it('gives events that share an id but differ in type different ids', () => {
    const ids = ['service_deployed.json', 'service_upgraded.json', 'incident_detected.json'].map((f) => {
      const r = adaptCdevents(binary(root, f));
      return r.kind === 'events' ? r.events[0]?.id : r.kind === 'record' ? r.id : '';
    });
    expect(new Set(ids).size).toBe(3);
  });

  it('rejects the spec binary-mode example, whose body is malformed JSON as published', () => {
    const text = readFileSync(new URL('cloudevents-binding.binary-mode.published.http.txt', root), 'utf8');
    const [head = '', body = ''] = text.split(/\r?\n\r?\n/, 2);
    const headers: Record<string, string> = {};
    for (const line of head.split(/\r?\n/).slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    expect(headers['ce-type']).toBe('dev.cdevents.taskrun.started.0.1.1');
    expect(() => adaptCdevents({ headers, rawBody: Buffer.from(body), body: undefined })).toThrow(
      AdapterInputError,
    );
  });

  it('takes id, source, type and time from ce-* headers when the context lacks them', () => {
    const req = binary(root, 'taskrun_started.json');
    const body = structuredClone(req.body) as { context: Record<string, unknown> };
    body.context = {};
    expect(adaptCdevents({ ...req, body })).toMatchObject({ kind: 'record', recordType: 'taskrun.started' });
  });

  it('names the missing field under /data in structured mode', () => {
    const req = structured(root, 'service_deployed.json');
    const body = structuredClone(req.body) as { data: { subject: { content: Record<string, unknown> } } };
    delete body.data.subject.content.artifactId;
    expect(() => adaptCdevents({ ...req, body })).toThrow(
      expect.objectContaining({
        details: [{ path: '/data/subject/content/artifactId', message: 'is required' }],
      }),
    );
  });

  it('refuses batched mode', () => {
    expect(() =>
      adaptCdevents({
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        rawBody: Buffer.from('[]'),
        body: [],
      }),
    ).toThrow(AdapterInputError);
  });

  it('parses purls', () => {
    expect(parsePurl('pkg:oci/myapp@sha256%3Aabc?repository_url=x')).toEqual({
      name: 'myapp',
      version: 'sha256:abc',
    });
    expect(parsePurl('pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c')).toEqual({
      name: 'myapp',
      version: '234fd47e07d1004f0aed9c',
    });
    expect(parsePurl('pkg:npm/%40scope/pkg@1.2.3')).toEqual({ name: 'pkg', version: '1.2.3' });
    expect(parsePurl('not-a-purl')).toBeUndefined();
  });
});
