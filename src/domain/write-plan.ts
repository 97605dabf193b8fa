/**
 * The plan of one group commit of events: a write is a plan, then I/O. Given the submissions of
 * a group and the stored facts they touch (the known event ids and deployment rows), it works
 * out each event's outcome (stored, duplicate, or its submission's rejection) and every row to
 * write. The store reads what the plan needs, then writes what it says (src/store/event-writer.ts).
 *
 * Rules (DESIGN.md §3, docs/security.md):
 * - A submission is atomic: one bad event rejects all of it, and a rejected submission changes
 *   nothing, not even for later submissions in the same group.
 * - An id is unique within its scope (the webhook source for its reserved prefix, else the
 *   sender's name, see src/domain/sources.ts). The same id again is a duplicate when it names the same event (type and
 *   deployment), and a 409 when it names another one: a reused id never hides an event.
 * - A deployment's first event needs no version: events that overtake the one carrying it are
 *   stored and the row shows `version: null` until it arrives (src/domain/deployment-row.ts).
 * - A deployment never changes service or environment (409), and holds at most
 *   {@link MAX_EVENTS_PER_DEPLOYMENT} events (409), so one key cannot grow without bound.
 *
 * Pure: the receipt clock comes in as `stamp`, the time as `nowMs`.
 */
import type { ErrorDetail } from '../errors.js';
import { applyToRow, type DeploymentRow } from './deployment-row.js';
import type { DeploymentEvent } from './event.js';
import { toEventRecord, type EventRecord } from './event-record.js';
import { idScope } from './sources.js';

export const MAX_EVENTS_PER_DEPLOYMENT = 10_000;

export interface Submission {
  readonly events: readonly DeploymentEvent[];
  /** Who sent it: the token's name, or `webhook:<source>`. */
  readonly source: string;
  readonly receivedMs: number;
  /** Per event: whether the sender gave a time (only those measure clock skew). */
  readonly timed: readonly boolean[];
  /** Per event: JSON pointer prefix in the request, for error details. */
  readonly pointers: readonly string[];
}

/** What the store knows of an event id already taken. */
export interface KnownEvent {
  readonly type: string;
  readonly deployment: string;
  readonly ledgerIndex: number | null;
}

export interface StoredFacts {
  /** By {@link scopedId}. */
  readonly events: ReadonlyMap<string, KnownEvent>;
  /** By deployment key. */
  readonly deployments: ReadonlyMap<string, DeploymentRow>;
}

export interface PlannedEvent {
  readonly id: string;
  readonly scope: string;
  readonly deployment: string;
  readonly type: string;
  readonly timeMs: number;
  readonly receivedMs: number;
  readonly hlc: string;
  readonly source: string;
  readonly record: EventRecord;
}

/** `planned` indexes `WritePlan.events`: its ledger index is known once the entries are appended. */
export type EventOutcome =
  | { readonly id: string; readonly status: 'stored'; readonly planned: number }
  | { readonly id: string; readonly status: 'duplicate'; readonly planned: number }
  | { readonly id: string; readonly status: 'duplicate'; readonly ledgerIndex: number | null };

export interface Rejection {
  readonly code: 'SHIPLOG_CONFLICT';
  readonly message: string;
  readonly details: readonly ErrorDetail[];
}

export type SubmissionOutcome = { readonly results: EventOutcome[] } | { readonly rejected: Rejection };

export interface SourceDelta {
  events: number;
  skew: number[];
  lastSeen: number;
}

export interface StoredEvent {
  readonly event: DeploymentEvent;
  readonly source: string;
  /** The deployment's status after the group. */
  readonly status: string;
}

export interface WritePlan {
  /** One per submission, in order. */
  readonly outcomes: SubmissionOutcome[];
  /** Events to insert, in ledger order. */
  readonly events: PlannedEvent[];
  /** Every deployment row the plan changes, as it is after the group. */
  readonly deployments: Map<string, DeploymentRow>;
  /** Per source: events counted and clock skews measured. */
  readonly sources: Map<string, SourceDelta>;
  readonly stored: StoredEvent[];
}

/** The key of an id within its scope. */
export function scopedId(scope: string, id: string): string {
  return `${scope}\u0000${id}`;
}

export function planSubmissions(
  submissions: readonly Submission[],
  facts: StoredFacts,
  stamp: (timeMs: number) => string,
  nowMs: number,
): WritePlan {
  const plan: WritePlan = {
    outcomes: [],
    events: [],
    deployments: new Map(),
    sources: new Map(),
    stored: [],
  };
  /** Ids planned by earlier submissions of the group. */
  const plannedIds = new Map<string, { index: number; type: string; deployment: string }>();

  for (const submission of submissions) {
    const rows = new Map<string, DeploymentRow>();
    const events: PlannedEvent[] = [];
    const ids = new Map<string, { index: number; type: string; deployment: string }>();
    const results: EventOutcome[] = [];
    const conflicts: ErrorDetail[] = [];

    submission.events.forEach((event, i) => {
      const pointer = submission.pointers[i] ?? '';
      const scope = idScope(event.id, submission.source);
      const key = scopedId(scope, event.id);
      const taken = facts.events.get(key) ?? plannedIds.get(key) ?? ids.get(key);
      if (taken) {
        if (taken.type !== event.type || taken.deployment !== event.deployment) {
          conflicts.push({
            path: `${pointer}/id`,
            message: `id "${event.id}" is already used by another event (${taken.type} of ${taken.deployment})`,
          });
        } else if ('index' in taken) {
          results.push({ id: event.id, status: 'duplicate', planned: taken.index });
        } else {
          results.push({ id: event.id, status: 'duplicate', ledgerIndex: taken.ledgerIndex });
        }
        return;
      }
      const current =
        rows.get(event.deployment) ??
        plan.deployments.get(event.deployment) ??
        facts.deployments.get(event.deployment) ??
        null;
      if (current && (current.service !== event.service || current.environment !== event.environment)) {
        conflicts.push({
          path: `${pointer}/deployment`,
          message: `deployment "${event.deployment}" belongs to ${current.service} in ${current.environment}, not ${event.service} in ${event.environment}`,
        });
        return;
      }
      if (current && current.event_count >= MAX_EVENTS_PER_DEPLOYMENT) {
        conflicts.push({
          path: `${pointer}/deployment`,
          message: `deployment "${event.deployment}" already holds ${MAX_EVENTS_PER_DEPLOYMENT} events, the most one deployment may hold`,
        });
        return;
      }
      const hlc = stamp(event.timeMs);
      rows.set(event.deployment, applyToRow(current, event, hlc, nowMs));
      const index = plan.events.length + events.length;
      ids.set(key, { index, type: event.type, deployment: event.deployment });
      events.push({
        id: event.id,
        scope,
        deployment: event.deployment,
        type: event.type,
        timeMs: event.timeMs,
        receivedMs: submission.receivedMs,
        hlc,
        source: submission.source,
        record: toEventRecord(event, { receivedMs: submission.receivedMs, hlc, source: submission.source }),
      });
      results.push({ id: event.id, status: 'stored', planned: index });
    });

    if (conflicts.length > 0) {
      plan.outcomes.push({
        rejected: {
          code: 'SHIPLOG_CONFLICT',
          message: 'An event conflicts with what is stored; nothing was stored',
          details: conflicts,
        },
      });
      continue;
    }
    for (const [deployment, row] of rows) plan.deployments.set(deployment, row);
    for (const [key, id] of ids) plannedIds.set(key, id);
    plan.events.push(...events);
    submission.events.forEach((event, i) => {
      if (results[i]?.status !== 'stored') return;
      plan.stored.push({
        event,
        source: submission.source,
        status: rows.get(event.deployment)?.status ?? '',
      });
      const skew = submission.timed[i] ? submission.receivedMs - event.timeMs : null;
      addSkew(plan.sources, submission.source, skew, nowMs);
    });
    plan.outcomes.push({ results });
  }
  return plan;
}

function addSkew(stats: Map<string, SourceDelta>, source: string, skew: number | null, nowMs: number): void {
  let delta = stats.get(source);
  if (!delta) stats.set(source, (delta = { events: 0, skew: [], lastSeen: nowMs }));
  delta.events += 1;
  if (skew !== null) delta.skew.push(skew);
}
