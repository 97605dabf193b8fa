/**
 * The stored record of an event: what the API returns in a deployment's timeline and, as
 * RFC 8785 canonical JSON (src/ledger/jcs.ts), the exact bytes of its ledger entry.
 */
import type { DeploymentEvent } from './event.js';

export interface EventRecord {
  readonly recordType: 'event';
  readonly id: string;
  readonly type: DeploymentEvent['type'];
  readonly time: string;
  readonly receivedAt: string;
  readonly hlc: string;
  readonly source: string;
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly actor: string;
  readonly kind: DeploymentEvent['kind'];
  readonly version?: string;
  readonly commit?: string;
  readonly region?: string;
  readonly instance?: string;
  readonly cohort?: string;
  readonly traffic?: number;
  readonly build?: DeploymentEvent['build'];
  readonly ticket?: string;
  readonly commits?: DeploymentEvent['commits'];
  readonly intent?: DeploymentEvent['intent'];
  readonly remediates?: string;
  readonly labels?: DeploymentEvent['labels'];
}

export function toEventRecord(
  event: DeploymentEvent,
  meta: { receivedMs: number; hlc: string; source: string },
): EventRecord {
  const { timeMs, ...rest } = event;
  return {
    recordType: 'event',
    ...rest,
    time: new Date(timeMs).toISOString(),
    receivedAt: new Date(meta.receivedMs).toISOString(),
    hlc: meta.hlc,
    source: meta.source,
  };
}
