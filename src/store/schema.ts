/** Table types of the shiplog database (both dialects). Times are epoch milliseconds. */
import type { Generated } from 'kysely';

export interface EventsTable {
  seq: Generated<number>;
  id: string;
  deployment: string;
  type: string;
  time_ms: number;
  received_ms: number;
  hlc: string;
  source: string;
  /** The stored record as canonical JSON (the ledger entry bytes). */
  body: string;
  ledger_index: number | null;
}

export interface DeploymentsTable {
  deployment: string;
  service: string;
  environment: string;
  /** '' when the deployment names no region. */
  region: string;
  instance: string | null;
  cohort: string | null;
  traffic: number | null;
  kind: string;
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
  approved: number;
  /** Newest-first list order: the earliest event time of the deployment. */
  sort_ms: number;
  updated_ms: number;
}

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

export interface Database {
  events: EventsTable;
  deployments: DeploymentsTable;
  environments: EnvironmentsTable;
  tokens: TokensTable;
  sources: SourcesTable;
}
