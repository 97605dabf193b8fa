/**
 * Stored deployment events as CDEvents 0.4 (v0.5.1 spec) in CloudEvents HTTP binary mode: the
 * CDEvent is the body (`Content-Type: application/json`), the context is repeated in `ce-*`
 * headers. Events CDEvents has a type for become `service.deployed` / `service.rolledback`;
 * the other transitions have no CDEvents vocabulary yet and go out as the custom type
 * `dev.cdeventsx.shiplog-deployment.<transition>.0.1.0` (spec: custom events, cdeventsx).
 * Spec: https://github.com/cdevents/spec/blob/v0.5.1/cloudevents-binding.md
 */
import type { EventRecord } from '../domain/event-record.js';

export const CDEVENTS_SPEC_VERSION = '0.4.1';

const SERVICE_TYPES: Readonly<Partial<Record<EventRecord['type'], string>>> = {
  'deployment.succeeded': 'dev.cdevents.service.deployed.0.3.0',
  'deployment.rolled_back': 'dev.cdevents.service.rolledback.0.3.0',
};

export interface OutgoingCloudEvent {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly type: string;
  /** What a dead letter keeps instead of `body`, when the body carries a secret. */
  readonly storedBody?: string;
}

/** Percent-encodes a header value as the CloudEvents HTTP binding requires (§3.1.3.2). */
function headerValue(value: string): string {
  return value.replace(/[^\x21-\x7e]|["%]/gu, (ch) => encodeURIComponent(ch));
}

/** One stored event as a binary-mode CloudEvent; `source` is this shiplog's URI reference. */
export function toCloudEvent(record: EventRecord, source: string): OutgoingCloudEvent {
  const type =
    SERVICE_TYPES[record.type] ??
    `dev.cdeventsx.shiplog-deployment.${record.type.replace('deployment.', '')}.0.1.0`;
  const environmentId = record.region ? `${record.environment}/${record.region}` : record.environment;
  const cdevent = {
    context: {
      specversion: CDEVENTS_SPEC_VERSION,
      id: record.id,
      source,
      type,
      timestamp: record.time,
    },
    subject: {
      id: record.service,
      source,
      content: {
        environment: { id: environmentId, source },
        ...(record.version !== undefined && {
          artifactId: `pkg:generic/${record.service}@${record.version}`,
        }),
      },
    },
    customData: {
      deployment: record.deployment,
      type: record.type,
      actor: record.actor,
      kind: record.kind,
      ...(record.commit !== undefined && { commit: record.commit }),
      ...(record.build !== undefined && { build: record.build }),
      ...(record.cohort !== undefined && { cohort: record.cohort }),
      ...(record.ticket !== undefined && { ticket: record.ticket }),
    },
    customDataContentType: 'application/json',
  };
  return {
    type,
    body: JSON.stringify(cdevent),
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': headerValue(record.id),
      'ce-source': headerValue(source),
      'ce-type': type,
      'ce-subject': headerValue(record.service),
      'ce-time': record.time,
    },
  };
}
