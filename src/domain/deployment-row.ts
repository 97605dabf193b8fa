/**
 * Maps events onto a deployment row: the lifecycle state from the pure reducer, plus the
 * descriptive fields (version, commit, region, ...). Descriptive fields are taken from the
 * lifecycle-earliest event that carries a version (events without one fill only what is still
 * empty), so the version and its fields do not depend on arrival order either: a
 * `failed` that overtakes its `started` makes a row with `version: null`, and the `started`
 * fills it in when it arrives.
 */
import type { DeploymentEvent, EventType } from './event.js';
import {
  applyEvent,
  durationMs,
  finishedAt,
  isEarlier,
  statusOf,
  type DeploymentState,
  type LifecycleEvent,
} from './lifecycle.js';

/** A deployment's derived state, one row of the `deployments` table. Times are epoch ms. */
export interface DeploymentRow {
  deployment: string;
  service: string;
  environment: string;
  /** '' when the deployment names no region. */
  region: string;
  instance: string | null;
  cohort: string | null;
  traffic: number | null;
  kind: string;
  /** null until an event carrying the version arrives (an overtaking `failed`, say). */
  version: string | null;
  commit_sha: string | null;
  actor: string;
  ticket: string | null;
  build_id: string | null;
  build_url: string | null;
  build_provider: string | null;
  labels: string | null;
  status: string;
  /** Lifecycle key (type, time, hlc) of the highest-ranked event, and of the deciding terminal one. */
  head_type: string;
  head_ms: number;
  head_hlc: string;
  terminal_type: string | null;
  terminal_ms: number | null;
  terminal_hlc: string | null;
  /** Lifecycle key of the event whose descriptive fields win (the earliest one). */
  desc_type: string;
  desc_ms: number;
  desc_hlc: string;
  requested_ms: number | null;
  started_ms: number | null;
  finished_ms: number | null;
  rolled_back_ms: number | null;
  duration_ms: number | null;
  /** 1 when the approvals for `version` are met; reset whenever the version changes. */
  approved: number;
  /** Newest-first list order: the earliest event time of the deployment. */
  sort_ms: number;
  updated_ms: number;
  /** Events stored for the deployment (capped, see MAX_EVENTS_PER_DEPLOYMENT). */
  event_count: number;
  /** The earliest commit time over every event's `commits` (lead time, DESIGN.md §10). */
  first_commit_ms: number | null;
  /** Commits listed by the descriptive event (the one whose fields win). */
  commit_count: number | null;
  /** `planned` or `remediation` when an event said so. */
  intent: string | null;
  /** The deployment or incident key this deployment fixes. */
  remediates: string | null;
}

const DESCRIPTIVE = [
  'version',
  'commit_sha',
  'instance',
  'cohort',
  'traffic',
  'ticket',
  'build_id',
  'build_url',
  'build_provider',
  'labels',
  'commit_count',
  'intent',
  'remediates',
] as const;

type Descriptive = Pick<DeploymentRow, (typeof DESCRIPTIVE)[number]>;

function descriptiveOf(event: DeploymentEvent): Descriptive {
  const fields: Descriptive = {
    version: event.version ?? null,
    commit_sha: event.commit ?? null,
    instance: event.instance ?? null,
    cohort: event.cohort ?? null,
    traffic: event.traffic ?? null,
    ticket: event.ticket ?? null,
    build_id: event.build?.id ?? null,
    build_url: event.build?.url ?? null,
    build_provider: event.build?.provider ?? null,
    labels: event.labels ? JSON.stringify(event.labels) : null,
    commit_count: event.commits ? event.commits.length : null,
    intent: event.intent ?? null,
    remediates: event.remediates ?? null,
  };
  return fields;
}

export function stateOfRow(row: DeploymentRow): DeploymentState {
  return {
    head: { type: row.head_type as EventType, timeMs: row.head_ms, hlc: row.head_hlc },
    terminal:
      row.terminal_type === null
        ? null
        : { type: row.terminal_type as EventType, timeMs: row.terminal_ms ?? 0, hlc: row.terminal_hlc ?? '' },
    requestedAt: row.requested_ms,
    startedAt: row.started_ms,
    rolledBackAt: row.rolled_back_ms,
  };
}

/** The row after folding `event` (stamped `hlc`, received at `nowMs`) into `row`. */
export function applyToRow(
  row: DeploymentRow | null,
  event: DeploymentEvent,
  hlc: string,
  nowMs: number,
): DeploymentRow {
  const lifecycle: LifecycleEvent = { type: event.type, timeMs: event.timeMs, hlc };
  const state = applyEvent(row ? stateOfRow(row) : null, lifecycle);
  const incoming = descriptiveOf(event);
  let base: DeploymentRow;
  if (row === null) {
    base = {
      deployment: event.deployment,
      service: event.service,
      environment: event.environment,
      region: event.region ?? '',
      kind: event.kind,
      actor: event.actor,
      approved: 0,
      desc_type: lifecycle.type,
      desc_ms: lifecycle.timeMs,
      desc_hlc: hlc,
      sort_ms: event.timeMs,
      event_count: 0,
      first_commit_ms: null,
      ...incoming,
    } as DeploymentRow;
  } else {
    const current: LifecycleEvent = {
      type: row.desc_type as EventType,
      timeMs: row.desc_ms,
      hlc: row.desc_hlc,
    };
    // The lead is the lifecycle-earliest event that carries a version (else the earliest of
    // all): an event without one, overtaking or late, only fills fields that are still empty.
    const incomingVersioned = event.version !== undefined;
    const incomingWins =
      incomingVersioned !== (row.version !== null) ? incomingVersioned : isEarlier(lifecycle, current);
    base = { ...row, sort_ms: Math.min(row.sort_ms, event.timeMs) };
    for (const key of DESCRIPTIVE) {
      const value = incoming[key];
      if (value === null) continue;
      if (incomingWins || base[key] === null) (base as unknown as Record<string, unknown>)[key] = value;
    }
    if (event.region && (incomingWins || base.region === '')) base.region = event.region;
    if (incomingWins) {
      base.actor = event.actor;
      base.kind = event.kind;
      base.desc_type = lifecycle.type;
      base.desc_ms = lifecycle.timeMs;
      base.desc_hlc = hlc;
    }
    // An approval is for one version: a backdated event that changes the version drops it.
    if (base.version !== row.version) base.approved = 0;
  }
  return {
    ...base,
    status: statusOf(state, base.approved === 1),
    head_type: state.head.type,
    head_ms: state.head.timeMs,
    head_hlc: state.head.hlc,
    terminal_type: state.terminal?.type ?? null,
    terminal_ms: state.terminal?.timeMs ?? null,
    terminal_hlc: state.terminal?.hlc ?? null,
    requested_ms: state.requestedAt,
    started_ms: state.startedAt,
    finished_ms: finishedAt(state),
    rolled_back_ms: state.rolledBackAt,
    duration_ms: durationMs(state),
    updated_ms: nowMs,
    event_count: base.event_count + 1,
    // A minimum over every event: the same whatever order they arrive in.
    first_commit_ms: minOf(base.first_commit_ms, earliestCommitMs(event)),
  };
}

function earliestCommitMs(event: DeploymentEvent): number | null {
  let earliest: number | null = null;
  for (const commit of event.commits ?? []) earliest = minOf(earliest, Date.parse(commit.time));
  return earliest;
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null || b >= a ? a : b;
}
