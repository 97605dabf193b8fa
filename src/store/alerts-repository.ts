/**
 * Alerts (DESIGN.md §11): the records, their notification groups, escalations and outbox, and
 * the few indexed reads of deployments and gate decisions the alert rules need. Every read of
 * deployments here is bounded by an index (status, service and environment, or time).
 */
import { sql, type Kysely } from 'kysely';
import { keysetPage, type Page } from './cursor.js';
import type {
  AlertDeliveriesTable,
  AlertEscalationsTable,
  AlertGroupMembersTable,
  AlertGroupsTable,
  AlertsTable,
  Database,
} from './schema.js';
import type { WriteTransaction } from './database.js';

/** A deployment as the time-based rules see it. */
export interface RunningDeployment {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly region: string;
  readonly kind: string;
  readonly version: string | null;
  readonly status: string;
  readonly startedMs: number | null;
  readonly requestedMs: number | null;
  readonly finishedMs: number | null;
}

/** Deployments counted per scope (service and environment, or environment alone). */
export interface ScopeCount {
  readonly service: string | null;
  readonly environment: string;
  /** Deployments that began inside the window. */
  readonly count: number;
}

export interface AlertsRepository {
  /** Alerts not resolved, by fingerprint. */
  active(fingerprints: readonly string[], db?: WriteTransaction): Promise<Map<string, AlertsTable>>;
  insert(row: AlertsTable, trx: WriteTransaction): Promise<void>;
  update(id: string, patch: Partial<AlertsTable>, trx: WriteTransaction): Promise<void>;
  get(id: string, trx?: WriteTransaction): Promise<AlertsTable | undefined>;
  getMany(ids: readonly string[], trx?: WriteTransaction): Promise<AlertsTable[]>;
  /** Newest first. */
  list(f: {
    status?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<AlertsTable>>;
  /** Alerts not resolved whose kind is one of `kinds`. */
  openOfKinds(kinds: readonly string[]): Promise<AlertsTable[]>;
  /** Alerts whose notifications are held past `nowMs`... or are due to be released. */
  heldUntil(nowMs: number): Promise<AlertsTable[]>;

  groups(keys: readonly string[], trx: WriteTransaction): Promise<Map<string, AlertGroupsTable>>;
  putGroup(row: AlertGroupsTable, trx: WriteTransaction): Promise<void>;
  deleteGroup(key: string, trx: WriteTransaction): Promise<void>;
  dueGroups(nowMs: number, limit: number): Promise<AlertGroupsTable[]>;
  members(groupKey: string, trx?: WriteTransaction): Promise<AlertGroupMembersTable[]>;
  groupsOfAlert(alertId: string, trx: WriteTransaction): Promise<string[]>;
  putMember(row: AlertGroupMembersTable, trx: WriteTransaction): Promise<void>;
  deleteMembers(groupKey: string, alertIds: readonly string[], trx: WriteTransaction): Promise<void>;

  escalations(alertId: string, trx?: WriteTransaction): Promise<AlertEscalationsTable[]>;
  putEscalation(row: AlertEscalationsTable, trx: WriteTransaction): Promise<void>;
  dueEscalations(nowMs: number, limit: number): Promise<AlertEscalationsTable[]>;

  enqueue(rows: readonly AlertDeliveriesTable[], trx: WriteTransaction): Promise<void>;
  dueDeliveries(nowMs: number, limit: number): Promise<AlertDeliveriesTable[]>;
  updateDelivery(id: string, patch: Partial<AlertDeliveriesTable>, trx?: WriteTransaction): Promise<void>;
  /** The earliest `next_ms` of a pending delivery, group or escalation; null when none. */
  nextDue(): Promise<number | null>;

  /** Deployments running (in_progress) or awaiting approval (requested). */
  pendingDeployments(): Promise<RunningDeployment[]>;
  /** Durations of the last `limit` succeeded deployments of a service in an environment. */
  recentDurations(service: string, environment: string, limit: number): Promise<number[]>;
  /** Deployments that began in [fromMs, toMs] in one scope (`service` null: the whole environment). */
  countBegun(
    scope: { service: string | null; environment: string },
    fromMs: number,
    toMs: number,
  ): Promise<number>;
  /** Succeeded deployments that finished in [fromMs, toMs] in one scope (changes, DORA §10). */
  countChanges(
    scope: { service: string | null; environment: string },
    fromMs: number,
    toMs: number,
  ): Promise<number>;
  /**
   * Deployments that began (or, with `changes`, changes that finished) in [fromMs, toMs], for
   * several scopes in one query: the key is `service|environment` (`*` for the environment).
   */
  countMany(
    scopes: readonly { service: string | null; environment: string }[],
    fromMs: number,
    toMs: number,
    changes: boolean,
  ): Promise<Map<string, number>>;
  /** Per scope seen since `lookbackMs`: the deployments that began since `windowMs`. */
  scopeCounts(by: 'service' | 'environment', lookbackMs: number, windowMs: number): Promise<ScopeCount[]>;
  /** Deployments of `service` in `environment` running or finished since `sinceMs`. */
  deployingSince(service: string, environment: string, sinceMs: number): Promise<RunningDeployment[]>;
  /** True when the gate allowed `deployment` at least once. */
  hasAllowingDecision(deployment: string): Promise<boolean>;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function alertRow(r: AlertsTable): AlertsTable {
  return {
    ...r,
    starts_ms: Number(r.starts_ms),
    acked_ms: num(r.acked_ms),
    resolved_ms: num(r.resolved_ms),
    held_until_ms: num(r.held_until_ms),
    updated_ms: Number(r.updated_ms),
  };
}

function deploymentOf(r: {
  deployment: string;
  service: string;
  environment: string;
  region: string;
  kind: string;
  version: string | null;
  status: string;
  started_ms: number | null;
  requested_ms: number | null;
  finished_ms: number | null;
}): RunningDeployment {
  return {
    deployment: r.deployment,
    service: r.service,
    environment: r.environment,
    region: r.region,
    kind: r.kind,
    version: r.version,
    status: r.status,
    startedMs: num(r.started_ms),
    requestedMs: num(r.requested_ms),
    finishedMs: num(r.finished_ms),
  };
}

const DEPLOYMENT_COLUMNS = [
  'deployment',
  'service',
  'environment',
  'region',
  'kind',
  'version',
  'status',
  'started_ms',
  'requested_ms',
  'finished_ms',
] as const;

export function createAlertsRepository(db: Kysely<Database>): AlertsRepository {
  return Object.freeze({
    async active(fingerprints: readonly string[], trx?: WriteTransaction) {
      const map = new Map<string, AlertsTable>();
      if (fingerprints.length === 0) return map;
      const rows = await (trx ?? db)
        .selectFrom('alerts')
        .selectAll()
        .where('fingerprint', 'in', [...fingerprints])
        .where('status', '!=', 'resolved')
        .execute();
      for (const r of rows) map.set(r.fingerprint, alertRow(r));
      return map;
    },
    async insert(row: AlertsTable, trx: WriteTransaction) {
      await trx.insertInto('alerts').values(row).execute();
    },
    async update(id: string, patch: Partial<AlertsTable>, trx: WriteTransaction) {
      await trx.updateTable('alerts').set(patch).where('id', '=', id).execute();
    },
    async get(id: string, trx?: WriteTransaction) {
      const row = await (trx ?? db).selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? alertRow(row) : undefined;
    },
    async getMany(ids: readonly string[], trx?: WriteTransaction) {
      if (ids.length === 0) return [];
      const rows = await (trx ?? db)
        .selectFrom('alerts')
        .selectAll()
        .where('id', 'in', [...ids])
        .execute();
      return rows.map(alertRow);
    },
    async list(f: { status?: string | undefined; limit: number; cursor?: string | undefined }) {
      let query = db.selectFrom('alerts').selectAll();
      if (f.status !== undefined) query = query.where('status', '=', f.status);
      return keysetPage(
        query,
        { columns: ['starts_ms', 'id'], shape: ['n', 's'], direction: 'desc' },
        { limit: f.limit, cursor: f.cursor },
        alertRow,
        (last) => [Number(last.starts_ms), last.id],
      );
    },
    async openOfKinds(kinds: readonly string[]) {
      if (kinds.length === 0) return [];
      const rows = await db
        .selectFrom('alerts')
        .selectAll()
        .where('status', 'in', ['firing', 'acknowledged'])
        .where('kind', 'in', [...kinds])
        .execute();
      return rows.map(alertRow);
    },
    async heldUntil(nowMs: number) {
      const rows = await db
        .selectFrom('alerts')
        .selectAll()
        .where('held_until_ms', 'is not', null)
        .where('held_until_ms', '<=', nowMs)
        .execute();
      return rows.map(alertRow);
    },

    async groups(keys: readonly string[], trx: WriteTransaction) {
      const map = new Map<string, AlertGroupsTable>();
      if (keys.length === 0) return map;
      const rows = await trx
        .selectFrom('alert_groups')
        .selectAll()
        .where('key', 'in', [...keys])
        .execute();
      for (const r of rows)
        map.set(r.key, {
          ...r,
          next_ms: num(r.next_ms),
          last_sent_ms: num(r.last_sent_ms),
          created_ms: Number(r.created_ms),
        });
      return map;
    },
    async putGroup(row: AlertGroupsTable, trx: WriteTransaction) {
      await trx
        .insertInto('alert_groups')
        .values(row)
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({ next_ms: row.next_ms, last_sent_ms: row.last_sent_ms }),
        )
        .execute();
    },
    async deleteGroup(key: string, trx: WriteTransaction) {
      await trx.deleteFrom('alert_groups').where('key', '=', key).execute();
    },
    async dueGroups(nowMs: number, limit: number) {
      const rows = await db
        .selectFrom('alert_groups')
        .selectAll()
        .where('next_ms', 'is not', null)
        .where('next_ms', '<=', nowMs)
        .orderBy('next_ms')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        ...r,
        next_ms: num(r.next_ms),
        last_sent_ms: num(r.last_sent_ms),
        created_ms: Number(r.created_ms),
      }));
    },
    async members(groupKey: string, trx?: WriteTransaction) {
      return (trx ?? db)
        .selectFrom('alert_group_members')
        .selectAll()
        .where('group_key', '=', groupKey)
        .execute();
    },
    async groupsOfAlert(alertId: string, trx: WriteTransaction) {
      const rows = await trx
        .selectFrom('alert_group_members')
        .select('group_key')
        .where('alert_id', '=', alertId)
        .execute();
      return rows.map((r) => r.group_key);
    },
    async putMember(row: AlertGroupMembersTable, trx: WriteTransaction) {
      await trx
        .insertInto('alert_group_members')
        .values(row)
        .onConflict((oc) => oc.columns(['group_key', 'alert_id']).doUpdateSet({ notified: row.notified }))
        .execute();
    },
    async deleteMembers(groupKey: string, alertIds: readonly string[], trx: WriteTransaction) {
      if (alertIds.length === 0) return;
      await trx
        .deleteFrom('alert_group_members')
        .where('group_key', '=', groupKey)
        .where('alert_id', 'in', [...alertIds])
        .execute();
    },

    async escalations(alertId: string, trx?: WriteTransaction) {
      const rows = await (trx ?? db)
        .selectFrom('alert_escalations')
        .selectAll()
        .where('alert_id', '=', alertId)
        .execute();
      return rows.map(escalationRow);
    },
    async putEscalation(row: AlertEscalationsTable, trx: WriteTransaction) {
      await trx
        .insertInto('alert_escalations')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['alert_id', 'policy']).doUpdateSet({
            cycle_ms: row.cycle_ms,
            cycle: row.cycle,
            level: row.level,
            next_ms: row.next_ms,
            reached: row.reached,
            stopped_ms: row.stopped_ms,
          }),
        )
        .execute();
    },
    async dueEscalations(nowMs: number, limit: number) {
      const rows = await db
        .selectFrom('alert_escalations')
        .selectAll()
        .where('next_ms', 'is not', null)
        .where('next_ms', '<=', nowMs)
        .orderBy('next_ms')
        .limit(limit)
        .execute();
      return rows.map(escalationRow);
    },

    async enqueue(rows: readonly AlertDeliveriesTable[], trx: WriteTransaction) {
      if (rows.length === 0) return;
      await trx
        .insertInto('alert_deliveries')
        .values([...rows])
        .execute();
    },
    async dueDeliveries(nowMs: number, limit: number) {
      const rows = await db
        .selectFrom('alert_deliveries')
        .selectAll()
        .where('status', '=', 'pending')
        .where('next_ms', '<=', nowMs)
        .orderBy('next_ms')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        ...r,
        attempts: Number(r.attempts),
        next_ms: Number(r.next_ms),
        created_ms: Number(r.created_ms),
        updated_ms: Number(r.updated_ms),
      }));
    },
    async updateDelivery(id: string, patch: Partial<AlertDeliveriesTable>, trx?: WriteTransaction) {
      await (trx ?? db).updateTable('alert_deliveries').set(patch).where('id', '=', id).execute();
    },
    async nextDue() {
      const row = await sql<{ next: number | string | null }>`select min(n) as next from (
          select min(next_ms) as n from alert_deliveries where status = 'pending'
          union all select min(next_ms) as n from alert_groups
          union all select min(next_ms) as n from alert_escalations) t`.execute(db);
      return num(row.rows[0]?.next ?? null);
    },

    async pendingDeployments() {
      const rows = await db
        .selectFrom('deployments')
        .select(DEPLOYMENT_COLUMNS)
        .where('status', 'in', ['in_progress', 'requested'])
        .execute();
      return rows.map(deploymentOf);
    },
    async recentDurations(service: string, environment: string, limit: number) {
      const rows = await db
        .selectFrom('deployments')
        .select('duration_ms')
        .where('service', '=', service)
        .where('environment', '=', environment)
        .where('status', '=', 'succeeded')
        .where('duration_ms', 'is not', null)
        .orderBy('sort_ms', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => Number(r.duration_ms));
    },
    async countBegun(scope: { service: string | null; environment: string }, fromMs: number, toMs: number) {
      let query = db
        .selectFrom('deployments')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('environment', '=', scope.environment)
        .where('sort_ms', '>=', fromMs)
        .where('sort_ms', '<=', toMs);
      if (scope.service !== null) query = query.where('service', '=', scope.service);
      const row = await query.executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async countChanges(scope: { service: string | null; environment: string }, fromMs: number, toMs: number) {
      let query = db
        .selectFrom('deployments')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('environment', '=', scope.environment)
        .where('status', '=', 'succeeded')
        .where('finished_ms', '>=', fromMs)
        .where('finished_ms', '<=', toMs);
      if (scope.service !== null) query = query.where('service', '=', scope.service);
      const row = await query.executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async countMany(
      scopes: readonly { service: string | null; environment: string }[],
      fromMs: number,
      toMs: number,
      changes: boolean,
    ) {
      const out = new Map<string, number>();
      if (scopes.length === 0) return out;
      const environments = [...new Set(scopes.map((s) => s.environment))];
      const services = [...new Set(scopes.flatMap((s) => (s.service === null ? [] : [s.service])))];
      const time = changes ? 'finished_ms' : 'sort_ms';
      let base = db
        .selectFrom('deployments')
        .where('environment', 'in', environments)
        .where(time, '>=', fromMs)
        .where(time, '<=', toMs);
      if (changes) base = base.where('status', '=', 'succeeded');
      if (services.length > 0) {
        const rows = await base
          .select(['service', 'environment', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('service', 'in', services)
          .groupBy(['service', 'environment'])
          .execute();
        for (const r of rows) out.set(`${r.service}|${r.environment}`, Number(r.n));
      }
      if (scopes.some((s) => s.service === null)) {
        const rows = await base
          .select(['environment', (eb) => eb.fn.countAll<number | string>().as('n')])
          .groupBy('environment')
          .execute();
        for (const r of rows) out.set(`*|${r.environment}`, Number(r.n));
      }
      return out;
    },
    async scopeCounts(by: 'service' | 'environment', lookbackMs: number, windowMs: number) {
      const inWindow = sql<number | string>`sum(case when sort_ms >= ${windowMs} then 1 else 0 end)`;
      if (by === 'environment') {
        const rows = await db
          .selectFrom('deployments')
          .select(['environment', inWindow.as('n')])
          .where('sort_ms', '>=', lookbackMs)
          .groupBy('environment')
          .execute();
        return rows.map((r) => ({ service: null, environment: r.environment, count: Number(r.n) }));
      }
      const rows = await db
        .selectFrom('deployments')
        .select(['service', 'environment', inWindow.as('n')])
        .where('sort_ms', '>=', lookbackMs)
        .groupBy(['service', 'environment'])
        .execute();
      return rows.map((r) => ({ service: r.service, environment: r.environment, count: Number(r.n) }));
    },
    async deployingSince(service: string, environment: string, sinceMs: number) {
      const rows = await db
        .selectFrom('deployments')
        .select(DEPLOYMENT_COLUMNS)
        .where('service', '=', service)
        .where('environment', '=', environment)
        .where((eb) => eb.or([eb('status', '=', 'in_progress'), eb('finished_ms', '>=', sinceMs)]))
        .where('sort_ms', '>=', sinceMs - 7 * 24 * 3600_000)
        .execute();
      return rows.map(deploymentOf);
    },
    async hasAllowingDecision(deployment: string) {
      const row = await db
        .selectFrom('gate_decisions')
        .select('id')
        .where('deployment', '=', deployment)
        .where('allow', '=', 1)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  });
}

function escalationRow(r: AlertEscalationsTable): AlertEscalationsTable {
  return {
    ...r,
    cycle_ms: Number(r.cycle_ms),
    cycle: Number(r.cycle),
    level: Number(r.level),
    next_ms: num(r.next_ms),
    stopped_ms: num(r.stopped_ms),
  };
}
