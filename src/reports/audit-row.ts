/**
 * One row of the monthly audit report (DESIGN.md §13), computed from nothing but the ledger
 * entries it cites: the deployment's events, its approval decisions and its gate decisions.
 * The server builds each row with this function from the entries below its checkpoint, and
 * `shiplog verify --bundle` runs the same function on the entries in the bundle: a row that
 * does not come out identical was changed. Pure: no I/O, no clock.
 */
import type { EventRecord } from '../domain/event-record.js';
import {
  compareLifecycle,
  deriveState,
  finishedAt,
  statusOf,
  type LifecycleEvent,
} from '../domain/lifecycle.js';
import { isInsideWindow } from '../policy/windows.js';
import type { ChangeWindow } from '../policy/policy-schema.js';

/** A ledger entry a row cites: its index and its bytes (RFC 8785 JSON of the stored record). */
export interface CitedEntry {
  readonly index: number;
  readonly data: string;
}

export interface AuditApprover {
  readonly name: string;
  readonly time: string;
  readonly comment: string;
}

export interface AuditGateDecision {
  readonly decisionId: string;
  readonly allow: boolean;
  readonly reasons: readonly { readonly code: string; readonly message: string }[];
  readonly decidedAt: string;
  /** The break-glass override that let a denied deployment through, if any. */
  readonly override: { readonly by: string; readonly justification: string } | null;
}

/** The §13 columns, plus what an auditor needs to check them. */
export interface AuditRow {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly version: string | null;
  readonly actor: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly status: string;
  /** Approve decisions on the deployed version, oldest first. */
  readonly approvers: readonly AuditApprover[];
  /** The ticket and `labels.justification` of the deployment. */
  readonly justification: { readonly ticket: string | null; readonly justification: string | null };
  /** The latest recorded gate decision on the deployed version; null: the gate was never asked. */
  readonly gateDecision: AuditGateDecision | null;
  /** True when that decision was a denial overridden by break-glass. */
  readonly override: boolean;
  /** Deployed outside every change window of the environment (or the gate said so). */
  readonly outsideWindow: boolean;
  /** The ledger index of the deployment's first event entry. */
  readonly ledgerIndex: number;
  /** Every entry the row is computed from, ascending. */
  readonly evidence: readonly number[];
}

/** What the row is computed from, besides the entries. */
export interface RowContext {
  /** The environment's change windows when the report was built (empty: none). */
  readonly windows: readonly ChangeWindow[];
}

interface ApprovalEntry {
  recordType: 'approval';
  deployment: string;
  version: string;
  approver: string;
  decision: 'approve' | 'reject';
  comment: string;
  createdAt: string;
}

interface GateEntry {
  recordType: 'gate_decision';
  decisionId: string;
  deployment: string;
  version: string;
  allow: boolean;
  overridden: boolean;
  override: { by: string; justification: string } | null;
  reasons: { code: string; message: string }[];
  decidedAt: string;
}

/** The entries of one deployment, sorted out by record type (unknown kinds are refused). */
export interface ParsedEvidence {
  readonly events: readonly { index: number; record: EventRecord }[];
  readonly approvals: readonly { index: number; record: ApprovalEntry }[];
  readonly gates: readonly { index: number; record: GateEntry }[];
}

/** Parses cited entries; throws naming the index of one that is not about `deployment`. */
export function parseEvidence(deployment: string, entries: readonly CitedEntry[]): ParsedEvidence {
  const events: { index: number; record: EventRecord }[] = [];
  const approvals: { index: number; record: ApprovalEntry }[] = [];
  const gates: { index: number; record: GateEntry }[] = [];
  for (const entry of entries) {
    let record: { recordType?: unknown; deployment?: unknown };
    try {
      record = JSON.parse(entry.data) as typeof record;
    } catch {
      throw new Error(`entry ${entry.index} is not JSON`);
    }
    if (record.deployment !== deployment) {
      throw new Error(`entry ${entry.index} is not about deployment ${deployment}`);
    }
    if (record.recordType === 'event') events.push({ index: entry.index, record: record as EventRecord });
    else if (record.recordType === 'approval')
      approvals.push({ index: entry.index, record: record as ApprovalEntry });
    else if (record.recordType === 'gate_decision')
      gates.push({ index: entry.index, record: record as GateEntry });
    else throw new Error(`entry ${entry.index} has record type ${String(record.recordType)}`);
  }
  return { events, approvals, gates };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function lifecycleOf(record: EventRecord): LifecycleEvent {
  return { type: record.type, timeMs: Date.parse(record.time), hlc: record.hlc };
}

/** The earliest event time of the deployment in epoch ms: the instant that puts it in a month. */
export function firstEventMs(evidence: ParsedEvidence): number {
  return Math.min(...evidence.events.map((e) => Date.parse(e.record.time)));
}

/**
 * The row of `deployment` from its cited entries (at least one event). Descriptive fields come
 * from the lifecycle-earliest event that carries a version (else the earliest), filled from the
 * others where it has none, as the deployments table does (src/domain/deployment-row.ts).
 */
export function buildAuditRow(
  deployment: string,
  entries: readonly CitedEntry[],
  context: RowContext,
): AuditRow {
  return auditRowOf(deployment, parseEvidence(deployment, entries), context);
}

/** {@link buildAuditRow} from entries already parsed. */
export function auditRowOf(deployment: string, evidence: ParsedEvidence, context: RowContext): AuditRow {
  if (evidence.events.length === 0) throw new Error(`deployment ${deployment} cites no event`);
  const ordered = [...evidence.events].sort((a, b) =>
    compareLifecycle(lifecycleOf(a.record), lifecycleOf(b.record)),
  );
  const lead = ordered.find((e) => e.record.version !== undefined) ?? ordered[0];
  const first = (pick: (r: EventRecord) => string | undefined): string | null => {
    const own = lead ? pick(lead.record) : undefined;
    if (own !== undefined) return own;
    for (const e of ordered) {
      const value = pick(e.record);
      if (value !== undefined) return value;
    }
    return null;
  };
  const leadRecord = (lead ?? ordered[0])?.record as EventRecord;
  const version = first((r) => r.version);

  const approvers = evidence.approvals
    .filter((a) => a.record.decision === 'approve' && a.record.version === version)
    .sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt) || a.index - b.index)
    .map((a) => ({ name: a.record.approver, time: a.record.createdAt, comment: a.record.comment }));

  const gate = evidence.gates
    .filter((g) => g.record.version === version)
    .sort((a, b) => b.record.decidedAt.localeCompare(a.record.decidedAt) || b.index - a.index)[0]?.record;
  const gateDecision: AuditGateDecision | null = gate
    ? {
        decisionId: gate.decisionId,
        allow: gate.allow,
        reasons: gate.reasons.map((r) => ({ code: r.code, message: r.message })),
        decidedAt: gate.decidedAt,
        override: gate.override ? { by: gate.override.by, justification: gate.override.justification } : null,
      }
    : null;

  const state = deriveState(evidence.events.map((e) => lifecycleOf(e.record)));
  const deployedAt = state.startedAt ?? firstEventMs(evidence);
  const outsideByGate = gate?.reasons.some((r) => r.code === 'outside_window') ?? false;
  const outsideByPolicy =
    context.windows.length > 0 && !context.windows.some((w) => isInsideWindow(w, deployedAt));
  const indexes = [...evidence.events, ...evidence.approvals, ...evidence.gates]
    .map((e) => e.index)
    .sort((a, b) => a - b);

  return {
    deployment,
    service: leadRecord.service,
    environment: leadRecord.environment,
    version,
    actor: leadRecord.actor,
    startedAt: iso(state.startedAt),
    finishedAt: iso(finishedAt(state)),
    status: statusOf(state, approvers.length > 0),
    approvers,
    justification: {
      ticket: first((r) => r.ticket),
      justification: first((r) => r.labels?.justification),
    },
    gateDecision,
    override: gate?.overridden === true,
    outsideWindow: outsideByGate || outsideByPolicy,
    ledgerIndex: Math.min(...evidence.events.map((e) => e.index)),
    evidence: indexes,
  };
}

/** Counts over the rows (DESIGN.md §13 summary). */
export interface AuditSummary {
  deployments: number;
  byService: Record<string, number>;
  byStatus: Record<string, number>;
  /** Rows without an approval of the deployed version. */
  unapproved: number;
  overrides: number;
  outsideWindow: number;
}

export function emptySummary(): AuditSummary {
  return { deployments: 0, byService: {}, byStatus: {}, unapproved: 0, overrides: 0, outsideWindow: 0 };
}

/** Adds one row to the summary (in place). */
export function addToSummary(summary: AuditSummary, row: AuditRow): void {
  summary.deployments += 1;
  summary.byService[row.service] = (summary.byService[row.service] ?? 0) + 1;
  summary.byStatus[row.status] = (summary.byStatus[row.status] ?? 0) + 1;
  if (row.approvers.length === 0) summary.unapproved += 1;
  if (row.override) summary.overrides += 1;
  if (row.outsideWindow) summary.outsideWindow += 1;
}

/** The summary with its maps' keys sorted, so two summaries of the same rows compare equal as JSON. */
export function sortedSummary(summary: AuditSummary): AuditSummary {
  const sortKeys = (m: Record<string, number>) =>
    Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { ...summary, byService: sortKeys(summary.byService), byStatus: sortKeys(summary.byStatus) };
}
