/**
 * CDEvents 0.4 and 0.5 over the CloudEvents HTTP binding → deployment events or records.
 * Binary mode: `ce-*` headers, the body is the CDEvent. Structured mode (`Content-Type:
 * application/cloudevents+json`): the CDEvent is the CloudEvent's `data`.
 * Spec: https://github.com/cdevents/spec/blob/v0.5.1/cloudevents-binding.md
 *
 * CDEvents are deduplicated by (source, id, type) — the spec's own examples reuse one id for
 * different events — so the event id is a hash of the three.
 */
import type { EventInput, EventType } from '../domain/event.js';
import { type AdapterOptions, resolveEnvironment, resolveService, shortName } from './mapping.js';
import {
  PayloadReader,
  asText,
  cleanText,
  deploymentKey,
  finalizeEvent,
  header,
  isRecord,
  jsonBody,
  sha256Hex,
} from './payload.js';
import { toRfc3339 } from './time.js';
import { AdapterInputError, type AdapterResult, type WebhookRequest } from './types.js';

const SERVICE_TYPES: Readonly<Record<string, EventType>> = {
  deployed: 'deployment.succeeded', // a deployed event reports a finished deployment
  upgraded: 'deployment.succeeded',
  rolledback: 'deployment.rolled_back',
};

/** Maps one CDEvent delivery (binary or structured mode) to events or a record. */
export function adaptCdevents(req: WebhookRequest, options: AdapterOptions = {}): AdapterResult {
  const contentType = header(req, 'content-type')?.toLowerCase() ?? '';
  if (contentType.startsWith('application/cloudevents-batch')) {
    throw new AdapterInputError(
      [{ path: 'content-type', message: 'batched mode is not supported; send one CloudEvent per request' }],
      'CloudEvents batched mode is not supported',
    );
  }
  const body = jsonBody(req);
  let cdevent: unknown = body;
  let base = '';
  let ce: { id?: string; source?: string; type?: string; time?: string };
  if (contentType.startsWith('application/cloudevents')) {
    base = '/data';
    cdevent = body.data ?? decodeBase64Json(body.data_base64);
    ce = {
      id: asText(body.id),
      source: asText(body.source),
      type: asText(body.type),
      time: asText(body.time),
    };
  } else {
    ce = {
      id: header(req, 'ce-id'),
      source: header(req, 'ce-source'),
      type: header(req, 'ce-type'),
      time: header(req, 'ce-time'),
    };
  }
  if (!isRecord(cdevent)) throw new AdapterInputError([{ path: base, message: 'must be a CDEvent object' }]);

  const p = new PayloadReader(cdevent, base);
  const context = p.value(['context']);
  // Binary mode may carry the context in ce-* headers alone; a context that is there must be an object.
  if (context !== undefined && !isRecord(context)) p.fail(['context'], 'must be an object');
  const id = p.text(['context', 'id']) ?? ce.id;
  const source = p.text(['context', 'source']) ?? ce.source;
  const type = p.text(['context', 'type']) ?? ce.type;
  const timeRaw = p.text(['context', 'timestamp']) ?? ce.time;
  const time = toRfc3339(timeRaw);
  const subject = p.value(['subject']);
  if (
    id === undefined ||
    source === undefined ||
    type === undefined ||
    time === undefined ||
    !isRecord(subject)
  ) {
    if (id === undefined) p.fail(['context', 'id'], 'is required');
    if (source === undefined) p.fail(['context', 'source'], 'is required');
    if (type === undefined) p.fail(['context', 'type'], 'is required');
    if (time === undefined)
      p.fail(['context', 'timestamp'], timeRaw === undefined ? 'is required' : 'must be an RFC 3339 time');
    if (!isRecord(subject)) p.fail(['subject'], subject === undefined ? 'is required' : 'must be an object');
    return p.raise();
  }
  p.check();

  const dedupeId = `cdevents:${sha256Hex(`${source}\u0000${id}\u0000${type}`)}`;
  // dev.cdevents.<subject>.<predicate>.<major>.<minor>.<patch>
  const [, subjectType, predicate] =
    /^dev\.cdevents\.([a-z]+)\.([a-z]+)\.\d+\.\d+\.\d+(?:-\S*)?$/i.exec(type) ?? [];
  const recordType =
    subjectType && predicate ? `${subjectType.toLowerCase()}.${predicate.toLowerCase()}` : type;
  const record: AdapterResult = { kind: 'record', recordType, id: dedupeId, source, time, data: cdevent };
  // Not a service event, or service.removed / service.published (no version deployed): a record.
  const eventType =
    subjectType?.toLowerCase() === 'service' ? SERVICE_TYPES[predicate?.toLowerCase() ?? ''] : undefined;
  if (eventType === undefined) return record;

  const subjectId = p.requireText(['subject', 'id']);
  const envId = p.text(['subject', 'content', 'environment', 'id']);
  const artifactId = p.text(['subject', 'content', 'artifactId']);
  if (envId === undefined) p.fail(['subject', 'content', 'environment', 'id'], 'is required');
  if (artifactId === undefined) p.fail(['subject', 'content', 'artifactId'], 'is required');
  p.check();

  const purl = artifactId === undefined ? undefined : parsePurl(artifactId);
  const envSource = p.text(['subject', 'content', 'environment', 'source']);
  const service = resolveService(options.rules, [subjectId, purl?.name, artifactId], subjectId);
  const environment = resolveEnvironment(options.rules, [envId, envSource], shortName(envId));
  if (service === undefined || environment === undefined) {
    if (service === undefined) p.fail(['subject', 'id'], 'does not give a usable service name');
    if (environment === undefined)
      p.fail(['subject', 'content', 'environment', 'id'], 'does not give a usable environment name');
    return p.raise();
  }

  // CDEvents carry no deployment id: events of one chain (chainId, 0.4+) for one service and
  // environment are one deployment, so a rolledback in the chain of a deployed lands on it.
  const chain = p.text(['context', 'chainId']) ?? id;
  const out: EventInput = {
    id: dedupeId,
    type: eventType,
    time,
    deployment: deploymentKey('cdevents', service, environment, chain),
    service,
    environment,
    version: cleanText(purl?.version ?? artifactId),
    labels: { 'cdevents.type': cleanText(type, 256) ?? 'unknown' },
  };
  return { kind: 'events', events: [finalizeEvent(out)] };
}

/** `pkg:oci/myapp@sha256%3A0b31...?repository_url=...` → name `myapp`, version `sha256:0b31...`. */
export function parsePurl(purl: string): { name: string; version?: string } | undefined {
  const m = /^pkg:[^/]+\/(?:[^@?#]*\/)?([^/@?#]+)(?:@([^?#]+))?/.exec(purl);
  if (!m) return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const [, name = '', version] = m;
  return { name: decode(name), ...(version !== undefined && { version: decode(version) }) };
}

function decodeBase64Json(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
