/**
 * The gate decision (DESIGN.md §8): may this deployment go ahead now? Pure: the caller loads
 * the environment's policy, the approvals, the open incidents and the clock, and records the
 * decision. Every rule is evaluated and every failing one reported, so one answer tells the
 * deployer everything to fix. The precedence is documented in docs/governance.md.
 */
import type { Kind } from '../domain/event.js';
import { identityKey } from '../domain/identity.js';
import { compilePattern } from '../domain/pattern.js';
import { parseDuration } from '../domain/duration.js';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '../domain/incident.js';
import { formatLocal } from './local-time.js';
import { SEVERITIES, kindRule, type EnvironmentPolicy, type Severity } from './policy-schema.js';
import { activeFreeze, isInsideWindow, nextWindowOpening } from './windows.js';

/** Why a gate denies (or, when overridden or advisory, would deny). Stable: clients match on them. */
export const REASON_CODES = [
  'frozen',
  'outside_window',
  'incident_open',
  'ticket_missing',
  'ticket_invalid',
  'ticket_not_found',
  'ticket_state',
  'ticket_unverified',
  'field_missing',
  'approval_rejected',
  'approval_missing',
  'approval_expired',
  'self_approval_ignored',
  'override_rejected',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export interface GateReason {
  readonly code: ReasonCode;
  readonly message: string;
}

/** What is known about the deployment asking to go ahead. */
export interface DeploymentFacts {
  readonly service: string;
  readonly environment: string;
  readonly version: string;
  readonly actor: string;
  readonly kind: Kind;
  readonly ticket?: string;
  readonly commit?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly justification?: string;
}

/** One approval decision as recorded (DESIGN.md §8: `POST /v1/deployments/{id}/approvals`). */
export interface ApprovalRecord {
  /** The approving token's name. */
  readonly approver: string;
  /** The approving token's role, matched against `approvers.roles`. */
  readonly role?: string;
  readonly decision: 'approve' | 'reject';
  /** When it was given, epoch ms. Decisions after the evaluated instant are not yet known. */
  readonly at: number;
  /** The version approved; approvals of another version do not count. */
  readonly version: string;
  /** Epoch ms after which it no longer counts, on top of the policy's `approvalTtl`. */
  readonly expiresAt?: number;
}

export interface OpenIncident {
  readonly service: string;
  /** sev1..sev5, or the older critical..info; an incident of unknown severity never blocks. */
  readonly severity: Severity | IncidentSeverity;
  readonly id?: string;
  /** Where it hurts; absent: every environment of the service. */
  readonly environment?: string;
}

/** A break-glass decision: only an `admin` with a justification may override. */
export interface GateOverride {
  readonly by: string;
  readonly role: string;
  readonly justification: string;
}

export interface GateInput {
  /** The environment's policy; undefined when the environment is not configured. */
  readonly policy: EnvironmentPolicy | undefined;
  readonly deployment: DeploymentFacts;
  readonly approvals: readonly ApprovalRecord[];
  readonly nowMs: number;
  readonly openIncidents: readonly OpenIncident[];
  readonly override?: GateOverride;
  /**
   * Why the ticket provider (Jira, ServiceNow) did not confirm the ticket, when the caller asked
   * it and it did not: `ticket_not_found`, `ticket_state` or `ticket_unverified`. Listed only
   * when the ticket is present and matches `requireTicket`.
   */
  readonly ticketProblem?: GateReason | undefined;
}

export interface GateDecision {
  readonly allow: boolean;
  /** Every rule that fails, in a stable order; empty when nothing does. */
  readonly reasons: readonly GateReason[];
  /** True when a valid override turned a deny into an allow. */
  readonly overridden: boolean;
  /** False for unconfigured or `protected: false` environments: reasons are advice only. */
  readonly enforced: boolean;
}

/** Decides whether the deployment may go ahead at `input.nowMs`. */
export function evaluateGate(input: GateInput): GateDecision {
  const { policy } = input;
  if (policy === undefined) return { allow: true, reasons: [], overridden: false, enforced: false };
  const rule = kindRule(policy, input.deployment.kind);
  const reasons: GateReason[] = [
    ...timeReasons(policy, input, rule?.allowOutsideWindows === true),
    ...incidentReasons(policy, input, rule?.allowDuringIncident === true),
    ...fieldReasons(policy, input, rule?.fields ?? policy.require?.fields ?? []),
    ...evaluateApprovals(policy, input.deployment, input.approvals, input.nowMs),
  ];
  const enforced = policy.protected === true;
  if (reasons.length === 0 || !enforced) return { allow: true, reasons, overridden: false, enforced };
  const { override } = input;
  if (override === undefined) return { allow: false, reasons, overridden: false, enforced };
  if (override.role === 'admin' && override.justification.trim() !== '') {
    return { allow: true, reasons, overridden: true, enforced };
  }
  const why =
    override.role === 'admin'
      ? 'it has no justification'
      : `${override.by} has role ${override.role}, not admin`;
  reasons.push({ code: 'override_rejected', message: `override by ${override.by} ignored: ${why}` });
  return { allow: false, reasons, overridden: false, enforced };
}

function timeReasons(policy: EnvironmentPolicy, input: GateInput, ignoreWindows: boolean): GateReason[] {
  const reasons: GateReason[] = [];
  const freeze = activeFreeze(policy.freezes ?? [], input.nowMs);
  if (freeze) {
    const until = new Date(freeze.untilMs).toISOString().replace('.000Z', 'Z');
    reasons.push({ code: 'frozen', message: `frozen (${freeze.freeze.reason}) until ${until}` });
  }
  const windows = policy.windows ?? [];
  if (!ignoreWindows && windows.length > 0 && !windows.some((w) => isInsideWindow(w, input.nowMs))) {
    const next = nextWindowOpening(windows, input.nowMs);
    const when = next ? `; next window opens ${formatLocal(next.window.timezone, next.atMs)}` : '';
    reasons.push({ code: 'outside_window', message: `outside every change window${when}` });
  }
  return reasons;
}

/** 1 (worst) to 5, for either scale: sev1..sev5 or critical..info. */
function rank(severity: Severity | IncidentSeverity): number {
  const sev = INCIDENT_SEVERITIES.indexOf(severity as IncidentSeverity);
  return sev >= 0 ? sev + 1 : SEVERITIES.indexOf(severity as Severity) + 1;
}

function incidentReasons(policy: EnvironmentPolicy, input: GateInput, exempt: boolean): GateReason[] {
  // `incidentFreeze` (DESIGN.md §9) wins over the older `blockOnIncidentSeverity` when both are set.
  const threshold = policy.incidentFreeze ?? policy.blockOnIncidentSeverity;
  if (threshold === undefined || exempt) return [];
  const blocking = input.openIncidents.filter(
    (incident) =>
      incident.service === input.deployment.service &&
      (incident.environment === undefined || incident.environment === input.deployment.environment) &&
      rank(incident.severity) <= rank(threshold),
  );
  if (blocking.length === 0) return [];
  const names = blocking.map((incident) => `${incident.id ?? 'incident'} (${incident.severity})`).join(', ');
  return [
    {
      code: 'incident_open',
      message: `${input.deployment.service} has open incidents at ${threshold} or worse: ${names}`,
    },
  ];
}

/**
 * The ticket to confirm with the ticket provider: the deployment's ticket, trimmed, when it is
 * present and matches `requireTicket` (if set); undefined otherwise (nothing to confirm, or
 * already denied as `ticket_missing` or `ticket_invalid`).
 */
export function ticketToVerify(policy: EnvironmentPolicy, facts: DeploymentFacts): string | undefined {
  const ticket = facts.ticket?.trim() ?? '';
  if (ticket === '') return undefined;
  const pattern = policy.requireTicket;
  return pattern === undefined || compilePattern(pattern).test(ticket) ? ticket : undefined;
}

function fieldReasons(policy: EnvironmentPolicy, input: GateInput, fields: readonly string[]): GateReason[] {
  const facts = input.deployment;
  const reasons: GateReason[] = [];
  const ticket = facts.ticket?.trim() ?? '';
  const pattern = policy.requireTicket;
  if ((pattern !== undefined || fields.includes('ticket')) && ticket === '') {
    reasons.push({ code: 'ticket_missing', message: 'a change ticket is required' });
  } else if (pattern !== undefined && ticket !== '' && !compilePattern(pattern).test(ticket)) {
    reasons.push({ code: 'ticket_invalid', message: `ticket "${ticket}" does not match ${pattern}` });
  } else if (ticket !== '' && input.ticketProblem !== undefined) {
    reasons.push(input.ticketProblem);
  }
  for (const field of fields) {
    if (field === 'ticket' || present(fieldValue(facts, field))) continue;
    reasons.push({
      code: 'field_missing',
      message: `${field} is required for ${facts.kind} deployments here`,
    });
  }
  return reasons;
}

function fieldValue(facts: DeploymentFacts, field: string): string | undefined {
  if (field.startsWith('labels.')) return facts.labels?.[field.slice('labels.'.length)];
  if (field === 'justification') return facts.justification;
  if (field === 'commit') return facts.commit;
  return facts.ticket;
}

function present(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

/**
 * The approval rules of the gate for `deployment` at `nowMs` (docs/governance.md, "How the gate
 * decides", 4 and 5): the reasons approvals are short or rejected; none when they are met.
 * Only approvals of `deployment.version` count. Names are compared as identities
 * (src/domain/identity.ts): an actor's look-alike is the actor, and one person's decisions
 * under look-alike names count once.
 */
export function evaluateApprovals(
  policy: EnvironmentPolicy | undefined,
  deployment: DeploymentFacts,
  approvals: readonly ApprovalRecord[],
  nowMs: number,
): GateReason[] {
  if (policy === undefined) return [];
  const required = kindRule(policy, deployment.kind)?.approvals ?? policy.approvals ?? 0;
  const ttl = policy.approvalTtl === undefined ? undefined : parseDuration(policy.approvalTtl);
  const expired = (a: ApprovalRecord) =>
    (a.expiresAt !== undefined && a.expiresAt <= nowMs) || (ttl !== undefined && a.at + ttl <= nowMs);
  const eligible = (a: ApprovalRecord) => {
    const { approvers } = policy;
    if (approvers === undefined) return true;
    return (
      (a.role !== undefined && approvers.roles?.includes(a.role) === true) ||
      approvers.names?.includes(a.approver) === true
    );
  };
  const actor = identityKey(deployment.actor);
  const isActor = (a: ApprovalRecord) => identityKey(a.approver) === actor;
  // Each approver's latest decision on this version counts; on a tie a rejection wins.
  const latest = new Map<string, ApprovalRecord>();
  let otherVersions = 0;
  for (const a of approvals) {
    if (a.at > nowMs) continue;
    if (a.version !== deployment.version) {
      otherVersions++;
      continue;
    }
    const who = identityKey(a.approver);
    const seen = latest.get(who);
    if (!seen || a.at > seen.at || (a.at === seen.at && a.decision === 'reject')) latest.set(who, a);
  }
  const decisions = [...latest.values()];
  const rejectedBy = decisions
    .filter((a) => a.decision === 'reject' && !expired(a) && (eligible(a) || isActor(a)))
    .map((a) => a.approver);
  const approved = decisions.filter((a) => a.decision === 'approve');
  const self = approved.filter(isActor);
  const others = approved.filter((a) => !isActor(a));
  const stale = others.filter((a) => eligible(a) && expired(a));
  const counted = others.filter((a) => eligible(a) && !expired(a));
  const ineligible = others.filter((a) => !eligible(a));

  const reasons: GateReason[] = [];
  if (rejectedBy.length > 0) {
    reasons.push({ code: 'approval_rejected', message: `rejected by ${rejectedBy.sort().join(', ')}` });
  }
  if (counted.length >= required) return reasons;
  const notes = [
    ineligible.length > 0 ? `not eligible: ${ineligible.map((a) => a.approver).join(', ')}` : '',
    otherVersions > 0 ? `${otherVersions} for another version` : '',
  ].filter((note) => note !== '');
  reasons.push({
    code: 'approval_missing',
    message:
      `${counted.length} of ${required} approvals of ${deployment.version}${approverText(policy)}` +
      (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
  });
  if (stale.length > 0) {
    reasons.push({
      code: 'approval_expired',
      message: `expired approvals: ${stale.map((a) => a.approver).join(', ')}`,
    });
  }
  if (self.length > 0) {
    reasons.push({
      code: 'self_approval_ignored',
      message: `${deployment.actor} cannot approve their own deployment; approval ignored`,
    });
  }
  return reasons;
}

function approverText(policy: EnvironmentPolicy): string {
  const who = [
    ...(policy.approvers?.roles ?? []).map((r) => `role ${r}`),
    ...(policy.approvers?.names ?? []),
  ];
  return who.length > 0 ? ` from ${who.join(' or ')}` : '';
}
