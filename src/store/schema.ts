/** Table types of the shiplog database (both dialects). Times are epoch milliseconds. */
import type { Generated } from 'kysely';
import type { DeploymentRow } from '../domain/deployment-row.js';

export interface EventsTable {
  seq: Generated<number>;
  /** The sender's idempotency key, unique within `scope`. */
  id: string;
  /**
   * The namespace the id is unique in: the webhook source for ids with its reserved prefix
   * (`github:...`), else the sending token's name. One sender cannot squat another's ids.
   */
  scope: string;
  deployment: string;
  type: string;
  time_ms: number;
  received_ms: number;
  hlc: string;
  source: string;
  /** The stored record as canonical JSON: the ledger entry bytes, stored here only. */
  body: string;
  ledger_index: number | null;
}

/** One row per deployment: its derived state (see src/domain/deployment-row.ts). */
export type DeploymentsTable = DeploymentRow;

export interface EnvironmentsTable {
  service: string;
  environment: string;
  region: string;
  current_deployment: string | null;
  current_version: string | null;
  current_since_ms: number | null;
  current_actor: string | null;
  progress_deployment: string | null;
  progress_version: string | null;
  progress_since_ms: number | null;
  progress_actor: string | null;
  progress_count: number;
}

export interface TokensTable {
  id: string;
  name: string;
  role: string;
  hash: string;
  scopes: string | null;
  created_ms: number;
  created_by: string;
  revoked_ms: number | null;
  /** Last authenticated request, written in batches (src/reports/token-usage.ts). */
  last_used_ms?: number | null;
}

/** Authenticated requests per token and UTC day (epoch day), for the access review. */
export interface TokenUsageTable {
  token_id: string;
  day: number;
  uses: number;
}

export interface SourcesTable {
  source: string;
  events: number;
  skew_count: number;
  skew_sum_ms: number;
  skew_min_ms: number | null;
  skew_max_ms: number | null;
  skew_last_ms: number | null;
  last_seen_ms: number;
}

/** One ledger entry (RFC 9162 leaf). */
export interface LedgerEntriesTable {
  idx: number;
  /** SHA-256(0x00 || data), 32 bytes. */
  leaf_hash: Uint8Array;
  /**
   * The entry bytes (RFC 8785 JSON of the record). null for an event's entry, whose bytes are
   * `events.body` of the event with this `ledger_index` (stored once), and null once retention
   * retired the payload (`retired_ms`).
   */
  data: string | null;
  /** When retention dropped the payload; the leaf hash stays. */
  retired_ms: number | null;
  record_type: string;
}

/** The hash of a complete subtree (level >= 1) covering leaves [idx * 2^level, (idx + 1) * 2^level). */
export interface LedgerNodesTable {
  level: number;
  idx: number;
  hash: Uint8Array;
}

/** The sequencer: one row (id 1) holding the tree size. */
export interface LedgerHeadTable {
  id: number;
  size: number;
}

/** Signed checkpoints (C2SP tlog-checkpoint notes). */
export interface CheckpointsTable {
  size: number;
  root_hash: Uint8Array;
  note: string;
  created_ms: number;
}

/** One approval decision (append-only; each approver's latest decision counts). */
export interface ApprovalsTable {
  id: string;
  deployment: string;
  service: string;
  environment: string;
  /** The version approved: an approval never carries over to another version. */
  version: string;
  /** The approving token's name and role. */
  approver: string;
  approver_role: string;
  decision: 'approve' | 'reject';
  comment: string;
  created_ms: number;
  /** From the environment's `approvalTtl` at the time of the decision; null: never. */
  expires_ms: number | null;
  /** The decision's ledger entry (set in the same transaction; 012-reports). */
  ledger_index?: number | null;
}

/** One recorded gate decision (what-if decisions are not recorded). */
export interface GateDecisionsTable {
  id: string;
  deployment: string;
  service: string;
  environment: string;
  version: string;
  ticket: string | null;
  /** The asking token's name. */
  asked_by: string;
  allow: number;
  enforced: number;
  overridden: number;
  override_by: string | null;
  override_justification: string | null;
  /** JSON array of `{code, message}`. */
  reasons: string;
  created_ms: number;
  /** The deployment kind the decision was made for: it allows only that kind. */
  kind: string;
  /** The decision's ledger entry (set in the same transaction; 012-reports). */
  ledger_index?: number | null;
}

/** One admission review of the Kubernetes webhook that shiplog decided (docs/governance.md). */
export interface AdmissionDecisionsTable {
  id: string;
  /** The AdmissionReview's `request.uid`. */
  uid: string;
  operation: string;
  namespace: string;
  environment: string;
  workload_kind: string;
  workload_name: string;
  allow: number;
  /** JSON array: each image with the service, version and deployment that accounted for it, or why none. */
  images: string;
  /** The deny message; null when admitted. */
  message: string | null;
  /** The reviewing token's name (the API server's). */
  asked_by: string;
  created_ms: number;
}

/** One webhook delivery as received (kept 7 days, for debugging mappings). */
export interface WebhookDeliveriesTable {
  id: string;
  source: string;
  /** The tool's delivery id (X-GitHub-Delivery, Idempotency-Key, ce-id), when it sends one. */
  delivery_id: string | null;
  /** JSON object of the headers, secrets and signatures removed. */
  headers: string;
  /** The raw body, cut at 64 KiB: UTF-8 text, or base64 (`body_encoding`). */
  body: string;
  body_encoding: string;
  body_bytes: number;
  truncated: number;
  status: number;
  outcome: string;
  summary: string;
  created_ms: number;
}

/** A payload kept for later correlation, not a deployment event (CDEvents incident.*, ...). */
export interface WebhookRecordsTable {
  /** Stable id: retries of one delivery give the same id. */
  id: string;
  /** The webhook source (`cdevents`). */
  source: string;
  record_type: string;
  /** The tool's own source (CDEvents context.source). */
  event_source: string;
  time_ms: number;
  data: string;
  created_ms: number;
}

/** How far outbound CDEvents went to each sink: the last `events.seq` handled. */
export interface OutboundSinksTable {
  sink: string;
  last_seq: number;
  updated_ms: number;
}

/** A CloudEvent a sink did not accept after every retry. */
export interface OutboundDeadLettersTable {
  id: string;
  sink: string;
  event_id: string;
  ce_type: string;
  /** JSON object of the ce-* headers. */
  headers: string;
  body: string;
  attempts: number;
  last_error: string;
  created_ms: number;
}

/** One incident or alert (DESIGN.md §9). */
export interface IncidentsTable {
  key: string;
  kind: string;
  title: string;
  service: string | null;
  environment: string | null;
  region: string | null;
  severity: string | null;
  status: string;
  started_ms: number;
  acknowledged_ms: number | null;
  resolved_ms: number | null;
  url: string | null;
  ticket: string | null;
  caused_by: string | null;
  /** JSON object. */
  labels: string | null;
  source: string;
  created_ms: number;
  updated_ms: number;
}

/** One change of an incident (created or updated), with its ledger entry. */
export interface IncidentChangesTable {
  id: string;
  incident_key: string;
  at_ms: number;
  /** The token name or `webhook:<tool>` that reported it. */
  actor: string;
  outcome: string;
  status: string;
  severity: string | null;
  /** JSON array of the changed field names. */
  changed: string;
  ledger_index: number | null;
}

/** A stored webhook record (CDEvents incident.*) that has been turned into an incident. */
export interface IncidentRecordLinksTable {
  record_id: string;
  incident_key: string;
  created_ms: number;
}

/** A service of the catalog: from `services:` of the config or `POST /v1/catalog`. */
export interface CatalogServicesTable {
  name: string;
  team: string | null;
  repository: string | null;
  /** JSON array of service names. */
  depends_on: string;
  source: string;
  updated_ms: number;
}

/** An Alertmanager silence shiplog holds while a service deploys to an environment. */
export interface AlertSilencesTable {
  service: string;
  environment: string;
  /** The deployment that last started or finished holding it. */
  deployment: string;
  /** `active` while shiplog keeps it; `ended` once expired at Alertmanager. */
  state: string;
  /** Alertmanager's id (changes when Alertmanager replaces a silence instead of updating it). */
  silence_id: string | null;
  starts_ms: number | null;
  /** The `endsAt` last set at Alertmanager. */
  ends_ms: number | null;
  /** When it must end: null while a deployment runs, else the final state + grace. */
  hold_until_ms: number | null;
  last_error: string | null;
  created_ms: number;
  updated_ms: number;
}

/** One verification of a deployment: after it succeeded, or after it was rolled back. */
export interface VerificationRunsTable {
  id: string;
  deployment: string;
  /** `succeeded` or `rolled_back`. */
  trigger: string;
  service: string;
  environment: string;
  /** '' when the deployment names no region. */
  region: string;
  /** The version that must be answering (for a rollback: the one rolled back to). */
  version: string | null;
  /** `running`, `passed`, `failed` or `canceled` (superseded by a rollback). */
  status: string;
  /** JSON array of each check's progress (src/verification/run-state.ts). */
  checks: string;
  /** When the next measurement is due; null when none is. */
  next_ms: number | null;
  started_ms: number;
  finished_ms: number | null;
  updated_ms: number;
}

/** One measurement of one check of a verification run, with its ledger entry. */
export interface VerificationMeasurementsTable {
  run_id: string;
  check_name: string;
  seq: number;
  at_ms: number;
  /** `successful`, `failed` or `error`. */
  phase: string;
  /** JSON of the measured value (a number, or a list of numbers, or an HTTP status). */
  value: string | null;
  message: string | null;
  ledger_index: number | null;
}

/** Who leads the background work of a lease, and until when (src/server/leader.ts). */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_ms: number;
}

/** One monthly archive segment (src/retention, docs/retention.md). */
export interface ArchiveSegmentsTable {
  /** `YYYY-MM` (UTC) of the entries' receipt. */
  month: string;
  /** The ledger entries [first_idx, end_idx) the segment holds. */
  first_idx: number;
  end_idx: number;
  /** The size of the signed checkpoint the manifest proves the entries against. */
  checkpoint_size: number;
  /** Where the segment was written (a folder or an `s3://bucket/prefix`), for messages. */
  location: string;
  entries: number;
  deployments: number;
  /** Size and SHA-256 (hex) of the gzip JSONL. */
  bytes: number;
  sha256: string;
  created_ms: number;
  /** When the written segment was read back and proved against the database's leaves. */
  verified_ms: number | null;
  /** When the database's copies of its payloads were retired (past `retention.archive`). */
  purged_ms: number | null;
  /** When `shiplog archive restore` last brought its payloads back. */
  restored_ms: number | null;
}

/** A deployment whose records left the database with the month's segment. */
export interface ArchivedDeploymentsTable {
  deployment: string;
  month: string;
}

export interface Database {
  events: EventsTable;
  deployments: DeploymentsTable;
  environments: EnvironmentsTable;
  tokens: TokensTable;
  sources: SourcesTable;
  ledger_entries: LedgerEntriesTable;
  ledger_nodes: LedgerNodesTable;
  ledger_head: LedgerHeadTable;
  checkpoints: CheckpointsTable;
  approvals: ApprovalsTable;
  gate_decisions: GateDecisionsTable;
  admission_decisions: AdmissionDecisionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_records: WebhookRecordsTable;
  outbound_sinks: OutboundSinksTable;
  outbound_dead_letters: OutboundDeadLettersTable;
  incidents: IncidentsTable;
  incident_changes: IncidentChangesTable;
  catalog_services: CatalogServicesTable;
  incident_record_links: IncidentRecordLinksTable;
  token_usage: TokenUsageTable;
  alert_silences: AlertSilencesTable;
  verification_runs: VerificationRunsTable;
  verification_measurements: VerificationMeasurementsTable;
  leases: LeasesTable;
  alerts: AlertsTable;
  alert_groups: AlertGroupsTable;
  alert_group_members: AlertGroupMembersTable;
  alert_escalations: AlertEscalationsTable;
  alert_deliveries: AlertDeliveriesTable;
  archive_segments: ArchiveSegmentsTable;
  archived_deployments: ArchivedDeploymentsTable;
}

/** One alert (DESIGN.md §11): firing → acknowledged → resolved. */
export interface AlertsTable {
  id: string;
  /** Rule name and subject: one alert at a time per fingerprint is not resolved. */
  fingerprint: string;
  rule: string;
  kind: string;
  severity: string;
  status: string;
  summary: string;
  /** JSON object of label → value. */
  labels: string;
  deployment: string | null;
  service: string | null;
  environment: string | null;
  starts_ms: number;
  acked_ms: number | null;
  acked_by: string | null;
  resolved_ms: number | null;
  /** Notifications wait until then (the service was deploying: suppression). */
  held_until_ms: number | null;
  updated_ms: number;
}

/** An aggregation group: one per route and values of its `group_by` labels. */
export interface AlertGroupsTable {
  key: string;
  route_id: string;
  receiver: string;
  labels: string;
  /** When the group is next flushed; null while it has nothing to send. */
  next_ms: number | null;
  last_sent_ms: number | null;
  created_ms: number;
}

export interface AlertGroupMembersTable {
  group_key: string;
  alert_id: string;
  /** What the receiver was last told of the alert: `''`, `firing` or `resolved`. */
  notified: string;
}

/** An escalation in progress: the next level of `policy` for one alert. */
export interface AlertEscalationsTable {
  alert_id: string;
  /** The escalated receiver's name. */
  policy: string;
  /** When the current pass over the levels began. */
  cycle_ms: number;
  cycle: number;
  /** The next level to notify. */
  level: number;
  /** null once stopped or finished. */
  next_ms: number | null;
  /** JSON list of receivers notified, each told when the alert resolves. */
  reached: string;
  stopped_ms: number | null;
}

/** The notification outbox: one delivery to one receiver, retried until sent or dead. */
export interface AlertDeliveriesTable {
  id: string;
  receiver: string;
  /** `trigger`, `acknowledge`, `resolve` (per alert for PagerDuty and Opsgenie) or `notify` (a group). */
  action: string;
  alert_ids: string;
  group_key: string | null;
  status: string;
  attempts: number;
  next_ms: number;
  last_error: string | null;
  created_ms: number;
  updated_ms: number;
}
