/** The API's shapes the dashboard reads (DESIGN.md §3, §8–§11). */
export type Role = 'admin' | 'approver' | 'deployer' | 'viewer' | 'auditor';

export interface Identity {
  name: string;
  role: Role;
  scopes: { services?: string[]; environments?: string[] } | null;
}

export type Status =
  'requested' | 'approved' | 'in_progress' | 'succeeded' | 'failed' | 'rolled_back' | 'canceled';

export interface Deployment {
  deployment: string;
  service: string;
  environment: string;
  region: string | null;
  cohort: string | null;
  traffic: number | null;
  kind: string;
  version: string | null;
  commit: string | null;
  actor: string;
  ticket: string | null;
  status: Status;
  requestedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  updatedAt: string;
}

export interface DeploymentEvent {
  id?: string;
  type: string;
  time?: string;
  actor?: string;
  version?: string;
  ledgerIndex?: number;
  [key: string]: unknown;
}

export interface DeploymentDetail extends Deployment {
  events: DeploymentEvent[];
  incidents?: {
    key: string;
    title: string;
    severity: string | null;
    status: string;
    reason: string;
    withinWindow: boolean;
  }[];
  verification?: { status: 'running' | 'passed' | 'failed'; checks: Record<string, unknown>[] };
}

export interface Side {
  deployment: string;
  version: string | null;
  since: string | null;
  deployedBy: string | null;
}

export interface EnvironmentRow {
  service: string;
  environment: string;
  region: string | null;
  current: Side | null;
  inProgress: (Side & { count: number }) | null;
}

export interface Freeze {
  from: string;
  to: string;
  reason?: string;
}

export interface Window {
  days?: string[];
  from: string;
  to: string;
  timezone?: string;
}

export interface EnvironmentPolicy {
  protected?: boolean;
  approvals?: number;
  windows?: Window[];
  freezes?: Freeze[];
}

export interface Policies {
  environments: Record<string, EnvironmentPolicy>;
}

export interface PendingApproval {
  deployment: string;
  service: string;
  environment: string;
  version: string | null;
  actor: string;
  requestedAt: string | null;
  decisions: number;
}

export interface Approval {
  id: string;
  deployment: string;
  approver: string;
  decision: 'approve' | 'reject';
  comment: string;
  createdAt: string;
}

export interface GateDecision {
  decisionId: string;
  deployment: string;
  version: string;
  askedBy: string;
  allow: boolean;
  enforced: boolean;
  overridden: boolean;
  override: { by: string; justification: string } | null;
  reasons: { code: string; message: string }[];
  decidedAt: string;
}

export interface TimelineItem {
  at: string;
  kind: string;
  what: string;
  who: string;
  ledgerIndex: number | null;
}

export interface Incident {
  key: string;
  title: string;
  service: string;
  environment: string | null;
  region: string | null;
  severity: string | null;
  status: string;
  startedAt: string;
  resolvedAt: string | null;
  kind?: string;
}

export interface Suspect {
  deployment: string;
  service: string;
  environment: string;
  region: string | null;
  version: string | null;
  finishedAt: string | null;
  deltaMs: number;
  reason: string;
  withinWindow: boolean;
}

export interface CompareItem {
  service: string;
  region: string | null;
  a: Side | null;
  b: Side | null;
  differs: boolean;
}

export interface CheckpointJson {
  origin: string;
  size: number;
  rootHash: string;
  signature: string;
  keyName: string;
  keyId: string;
  note: string;
}

export interface DeploymentProof {
  deployment: string;
  checkpoint: CheckpointJson;
  verifierKey: string;
  events: { id: string; index: number; leafHash: string; data: string | null; hashes: string[] }[];
}

/** Why a change counts as failed (docs/metrics.md). */
export type FailureCause =
  | { cause: 'rolled_back'; at: string }
  | { cause: 'rollback' | 'remediated'; by: string }
  | { cause: 'incident'; by: string; reason: string };

/** GET /v1/metrics/dora?explain=true: each figure, its counts and the keys behind them. */
export interface Dora {
  window: { since: string; until: string; tz: string; days: number };
  deploymentFrequency: {
    perDay: number;
    count: number;
    tier: string | null;
    explain?: { deployments: string[] };
  };
  leadTime: {
    medianMs: number | null;
    p90Ms: number | null;
    count: number;
    tier: string | null;
    explain?: { deployments: { deployment: string; leadTimeMs: number }[] };
  };
  changeFailureRate: {
    rate: number | null;
    failed: number;
    total: number;
    tier: string | null;
    explain?: {
      total: string[];
      failed: { deployment: string; causes: FailureCause[] }[];
      excluded: string[];
    };
  };
  recoveryTime: {
    medianMs: number | null;
    count: number;
    tier: string | null;
    explain?: {
      recoveries: {
        deployment: string;
        failedAt: string;
        recoveredAt: string;
        recoveryMs: number;
        recoveredBy: string;
      }[];
      unrecovered: string[];
    };
  };
  reworkRate: {
    rate: number | null;
    rework: number;
    total: number;
    explain?: { total: string[]; rework: { deployment: string; why: string[] }[] };
  };
}

export interface DoraSeries {
  items?: (Dora & { start?: string; end?: string })[];
  series?: (Dora & { start?: string; end?: string })[];
}

/** GET /v1/alerts (docs/alerts.md). */
export interface Alert {
  id: string;
  status: 'firing' | 'acknowledged' | 'resolved';
  /** The rule's name (the `alertname` label) and its kind (`deployment_failed`, ...). */
  rule: string;
  kind: string;
  severity: 'critical' | 'error' | 'warning' | 'info';
  summary: string;
  labels: Record<string, string>;
  deployment: string | null;
  service: string | null;
  environment: string | null;
  startsAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  heldUntil: string | null;
  updatedAt: string;
}

/** GET /v1/silences: shiplog's own Alertmanager silences while a service deploys. */
export interface Silence {
  service: string;
  environment: string;
  deployment: string;
  state: 'active' | 'ended';
  silenceId: string | null;
  matchers: string[];
  startsAt: string | null;
  endsAt: string | null;
  holdUntil: string | null;
  lastError: string | null;
  updatedAt: string;
}
