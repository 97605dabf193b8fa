/**
 * Maps events onto a deployment row: the lifecycle state from the pure reducer, plus the
 * descriptive fields (version, commit, region, ...). Descriptive fields are taken from the
 * lifecycle-earliest event that carries them, so they too do not depend on arrival order.
 */
import type { DeploymentEvent, EventType } from '../domain/event.js';
import {
  applyEvent,
  durationMs,
  finishedAt,
  isEarlier,
  statusOf,
  type DeploymentState,
  type LifecycleEvent,
} from '../domain/lifecycle.js';
import type { DeploymentsTable } from './schema.js';

export type DeploymentRow = Omit<DeploymentsTable, never>;

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
      ...incoming,
    } as DeploymentRow;
  } else {
    const current: LifecycleEvent = {
      type: row.desc_type as EventType,
      timeMs: row.desc_ms,
      hlc: row.desc_hlc,
    };
    const incomingWins = isEarlier(lifecycle, current);
    base = { ...row, sort_ms: Math.min(row.sort_ms, event.timeMs) };
    for (const key of DESCRIPTIVE) {
      const value = incoming[key];
      if (value === null) continue;
      if (incomingWins || base[key] === null) (base as Record<string, unknown>)[key] = value;
    }
    if (event.region && (incomingWins || base.region === '')) base.region = event.region;
    if (incomingWins) {
      base.actor = event.actor;
      base.kind = event.kind;
      base.desc_type = lifecycle.type;
      base.desc_ms = lifecycle.timeMs;
      base.desc_hlc = hlc;
    }
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
  };
}
