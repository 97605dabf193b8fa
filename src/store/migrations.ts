/**
 * Versioned schema migrations, applied in order at start-up (Kysely's migrator keeps the
 * applied list in `kysely_migration`). Never edit a released migration: add a new one.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { ShiplogError } from '../errors.js';
import type { Dialect } from './database.js';

type AnyDb = Kysely<unknown>;

function migrations(dialect: Dialect): Record<string, Migration> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    '001-core': {
      async up(db: AnyDb) {
        let events = db.schema.createTable('events');
        events =
          dialect === 'postgres'
            ? events.addColumn('seq', 'bigserial', (c) => c.primaryKey())
            : events.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
        await events
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('time_ms', bigint, (c) => c.notNull())
          .addColumn('received_ms', bigint, (c) => c.notNull())
          .addColumn('hlc', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('ledger_index', bigint)
          .execute();
        await db.schema
          .createIndex('events_by_deployment')
          .on('events')
          .columns(['deployment', 'seq'])
          .execute();

        await db.schema
          .createTable('deployments')
          .addColumn('deployment', 'text', (c) => c.primaryKey())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('region', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('instance', 'text')
          .addColumn('cohort', 'text')
          .addColumn('traffic', 'real')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('version', 'text')
          .addColumn('commit_sha', 'text')
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('ticket', 'text')
          .addColumn('build_id', 'text')
          .addColumn('build_url', 'text')
          .addColumn('build_provider', 'text')
          .addColumn('labels', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('head_type', 'text', (c) => c.notNull())
          .addColumn('head_ms', bigint, (c) => c.notNull())
          .addColumn('head_hlc', 'text', (c) => c.notNull())
          .addColumn('terminal_type', 'text')
          .addColumn('terminal_ms', bigint)
          .addColumn('terminal_hlc', 'text')
          .addColumn('desc_type', 'text', (c) => c.notNull())
          .addColumn('desc_ms', bigint, (c) => c.notNull())
          .addColumn('desc_hlc', 'text', (c) => c.notNull())
          .addColumn('requested_ms', bigint)
          .addColumn('started_ms', bigint)
          .addColumn('finished_ms', bigint)
          .addColumn('rolled_back_ms', bigint)
          .addColumn('duration_ms', bigint)
          .addColumn('approved', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('sort_ms', bigint, (c) => c.notNull())
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .execute();
        for (const [name, columns] of [
          ['deployments_newest', ['sort_ms', 'deployment']],
          ['deployments_by_service', ['service', 'sort_ms']],
          ['deployments_by_environment', ['environment', 'sort_ms']],
          ['deployments_by_status', ['status', 'sort_ms']],
          ['deployments_current', ['service', 'environment', 'region', 'status', 'finished_ms']],
          ['deployments_at', ['environment', 'finished_ms']],
        ] as const) {
          await db.schema
            .createIndex(name)
            .on('deployments')
            .columns([...columns])
            .execute();
        }

        await db.schema
          .createTable('environments')
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('region', 'text', (c) => c.notNull())
          .addColumn('current_deployment', 'text')
          .addColumn('current_version', 'text')
          .addColumn('current_since_ms', bigint)
          .addColumn('current_actor', 'text')
          .addColumn('progress_deployment', 'text')
          .addColumn('progress_version', 'text')
          .addColumn('progress_since_ms', bigint)
          .addColumn('progress_actor', 'text')
          .addColumn('progress_count', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('environments_pk', ['service', 'environment', 'region'])
          .execute();

        await db.schema
          .createTable('tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('scopes', 'text')
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('revoked_ms', bigint)
          .execute();

        await db.schema
          .createTable('sources')
          .addColumn('source', 'text', (c) => c.primaryKey())
          .addColumn('events', bigint, (c) => c.notNull())
          .addColumn('skew_count', bigint, (c) => c.notNull())
          .addColumn('skew_sum_ms', bigint, (c) => c.notNull())
          .addColumn('skew_min_ms', bigint)
          .addColumn('skew_max_ms', bigint)
          .addColumn('skew_last_ms', bigint)
          .addColumn('last_seen_ms', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '002-ledger': {
      // The RFC 9162 tree (docs/ledger.md): leaves with their entry bytes, the hash of every
      // complete subtree above them, one sequencer row, and the signed checkpoints.
      async up(db: AnyDb) {
        const blob = dialect === 'postgres' ? 'bytea' : 'blob';
        await db.schema
          .createTable('ledger_entries')
          .addColumn('idx', bigint, (c) => c.primaryKey())
          .addColumn('leaf_hash', blob, (c) => c.notNull())
          // Null once retention drops the payload; the leaf hash stays.
          .addColumn('data', 'text')
          .addColumn('record_type', 'text', (c) => c.notNull())
          .execute();
        // Level >= 1 only: the level-0 hashes are ledger_entries.leaf_hash.
        await db.schema
          .createTable('ledger_nodes')
          .addColumn('level', 'integer', (c) => c.notNull())
          .addColumn('idx', bigint, (c) => c.notNull())
          .addColumn('hash', blob, (c) => c.notNull())
          .addPrimaryKeyConstraint('ledger_nodes_pk', ['level', 'idx'])
          .execute();
        await db.schema
          .createTable('ledger_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('size', bigint, (c) => c.notNull())
          .execute();
        await sql`insert into ledger_head (id, size) values (1, 0)`.execute(db);
        // `shiplog verify` compares each entry with the event stored for it, page by page.
        await db.schema.createIndex('events_by_ledger_index').on('events').column('ledger_index').execute();
        await db.schema
          .createTable('checkpoints')
          .addColumn('size', bigint, (c) => c.primaryKey())
          .addColumn('root_hash', blob, (c) => c.notNull())
          .addColumn('note', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '003-governance': {
      // Approval decisions and recorded gate decisions (docs/governance.md). Both are
      // append-only: a later decision by the same approver is a new row, never an update.
      async up(db: AnyDb) {
        await db.schema
          .createTable('approvals')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('approver', 'text', (c) => c.notNull())
          .addColumn('approver_role', 'text', (c) => c.notNull())
          .addColumn('decision', 'text', (c) => c.notNull())
          .addColumn('comment', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .addColumn('expires_ms', bigint)
          .execute();
        await db.schema
          .createIndex('approvals_by_deployment')
          .on('approvals')
          .columns(['deployment', 'created_ms'])
          .execute();
        await db.schema
          .createIndex('approvals_newest')
          .on('approvals')
          .columns(['created_ms', 'id'])
          .execute();
        await db.schema
          .createTable('gate_decisions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('ticket', 'text')
          .addColumn('asked_by', 'text', (c) => c.notNull())
          .addColumn('allow', 'integer', (c) => c.notNull())
          .addColumn('enforced', 'integer', (c) => c.notNull())
          .addColumn('overridden', 'integer', (c) => c.notNull())
          .addColumn('override_by', 'text')
          .addColumn('override_justification', 'text')
          .addColumn('reasons', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('gate_decisions_by_deployment')
          .on('gate_decisions')
          .columns(['deployment', 'allow'])
          .execute();
        await db.schema
          .createIndex('gate_decisions_newest')
          .on('gate_decisions')
          .columns(['created_ms', 'id'])
          .execute();
      },
    },
    '004-webhooks': {
      // The webhook delivery log (7 days, docs/integrations) and records kept for correlation.
      async up(db: AnyDb) {
        await db.schema
          .createTable('webhook_deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('delivery_id', 'text')
          .addColumn('headers', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('body_encoding', 'text', (c) => c.notNull())
          .addColumn('body_bytes', 'integer', (c) => c.notNull())
          .addColumn('truncated', 'integer', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('webhook_deliveries_newest')
          .on('webhook_deliveries')
          .columns(['created_ms', 'id'])
          .execute();
        await db.schema
          .createIndex('webhook_deliveries_by_source')
          .on('webhook_deliveries')
          .columns(['source', 'created_ms', 'id'])
          .execute();
        await db.schema
          .createTable('webhook_records')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('record_type', 'text', (c) => c.notNull())
          .addColumn('event_source', 'text', (c) => c.notNull())
          .addColumn('time_ms', bigint, (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('webhook_records_by_type')
          .on('webhook_records')
          .columns(['record_type', 'time_ms'])
          .execute();
        // Outbound CDEvents: how far each sink has been sent, and what it never accepted.
        await db.schema
          .createTable('outbound_sinks')
          .addColumn('sink', 'text', (c) => c.primaryKey())
          .addColumn('last_seq', bigint, (c) => c.notNull())
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('outbound_dead_letters')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('sink', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('ce_type', 'text', (c) => c.notNull())
          .addColumn('headers', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '005-deployments-by-service-environment': {
      // Listing one service in one environment (the common dashboard filter) walked the whole
      // environment's index at 1M deployments; this index answers it directly.
      async up(db: AnyDb) {
        await db.schema
          .createIndex('deployments_by_service_environment')
          .on('deployments')
          .columns(['service', 'environment', 'sort_ms', 'deployment'])
          .execute();
      },
    },
    '006-payload-once-scoped-ids': {
      // Issue 8 §4 and issue 9 findings 2 and 9:
      // - an event's entry bytes are stored once, in events.body: its ledger row keeps the leaf
      //   hash only (data null), and retention can retire a payload (retired_ms) and keep the hash;
      // - event ids are unique within a scope (the webhook source for its reserved prefix, else
      //   the sending token's name), so one sender cannot squat another's ids;
      // - each deployment counts its events, so one key cannot grow without bound.
      async up(db: AnyDb) {
        // Frozen here (a migration never changes): the webhook sources of release 0.1.
        const scope =
          'case ' +
          ['github', 'gitlab', 'jenkins', 'argocd', 'cdevents', 'generic']
            .map((s) => `when id like '${s}:%' then '${s}'`)
            .join(' ') +
          ' else source end';
        if (dialect === 'postgres') {
          await sql`alter table events add column scope text`.execute(db);
          await sql.raw(`update events set scope = ${scope}`).execute(db);
          await sql`alter table events alter column scope set not null`.execute(db);
          await sql`alter table events drop constraint events_id_key`.execute(db);
        } else {
          // SQLite cannot drop a column's UNIQUE constraint: rebuild the table.
          await sql`create table events_new (
            seq integer primary key autoincrement, id text not null, scope text not null,
            deployment text not null, type text not null, time_ms integer not null,
            received_ms integer not null, hlc text not null, source text not null,
            body text not null, ledger_index integer)`.execute(db);
          await sql
            .raw(
              `insert into events_new (seq, id, scope, deployment, type, time_ms, received_ms, hlc, source, body, ledger_index)
               select seq, id, ${scope}, deployment, type, time_ms, received_ms, hlc, source, body, ledger_index from events`,
            )
            .execute(db);
          await sql`drop table events`.execute(db);
          await sql`alter table events_new rename to events`.execute(db);
          await db.schema
            .createIndex('events_by_deployment')
            .on('events')
            .columns(['deployment', 'seq'])
            .execute();
          await db.schema.createIndex('events_by_ledger_index').on('events').column('ledger_index').execute();
        }
        await db.schema.createIndex('events_by_id').on('events').columns(['id', 'scope']).unique().execute();

        await db.schema.alterTable('ledger_entries').addColumn('retired_ms', bigint).execute();
        await sql`update ledger_entries set data = null
          where record_type = 'event' and exists (
            select 1 from events e where e.ledger_index = ledger_entries.idx and e.body = ledger_entries.data)`.execute(
          db,
        );
        // An entry with neither its own data nor an event holding it had its payload dropped.
        await sql`update ledger_entries set retired_ms = 0 where data is null and not exists (
            select 1 from events e where e.ledger_index = ledger_entries.idx)`.execute(db);

        await db.schema
          .alterTable('deployments')
          .addColumn('event_count', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await sql`update deployments set event_count =
          (select count(*) from events e where e.deployment = deployments.deployment)`.execute(db);
      },
    },
    '007-incidents': {
      // Incidents and alerts (DESIGN.md §9), each change of one (for the post-mortem timeline,
      // with its ledger index), and the service catalog (`services:` and `POST /v1/catalog`).
      async up(db: AnyDb) {
        await db.schema
          .createTable('incidents')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('service', 'text')
          .addColumn('environment', 'text')
          .addColumn('region', 'text')
          .addColumn('severity', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('started_ms', bigint, (c) => c.notNull())
          .addColumn('acknowledged_ms', bigint)
          .addColumn('resolved_ms', bigint)
          .addColumn('url', 'text')
          .addColumn('ticket', 'text')
          .addColumn('caused_by', 'text')
          .addColumn('labels', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .execute();
        for (const [name, columns] of [
          ['incidents_newest', ['started_ms', 'key']],
          ['incidents_by_service', ['service', 'started_ms']],
          ['incidents_by_status', ['status', 'service']],
          ['incidents_by_caused_by', ['caused_by']],
          ['incidents_by_ticket', ['ticket']],
        ] as const) {
          await db.schema
            .createIndex(name)
            .on('incidents')
            .columns([...columns])
            .execute();
        }
        await db.schema
          .createTable('incident_changes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('incident_key', 'text', (c) => c.notNull())
          .addColumn('at_ms', bigint, (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('severity', 'text')
          .addColumn('changed', 'text', (c) => c.notNull())
          .addColumn('ledger_index', bigint)
          .execute();
        await db.schema
          .createIndex('incident_changes_by_incident')
          .on('incident_changes')
          .columns(['incident_key', 'at_ms'])
          .execute();
        // Records (CDEvents incident.*) already turned into incidents, so each is turned once.
        await db.schema
          .createTable('incident_record_links')
          .addColumn('record_id', 'text', (c) => c.primaryKey())
          .addColumn('incident_key', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
        // Correlation reads deployments carrying the incident's ticket.
        await db.schema.createIndex('deployments_by_ticket').on('deployments').columns(['ticket']).execute();
        await db.schema
          .createTable('catalog_services')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('team', 'text')
          .addColumn('repository', 'text')
          .addColumn('depends_on', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '008-decision-kind-and-admissions': {
      // A gate decision allows exactly the (service, environment, version, kind) it was made for,
      // so it records its kind; decisions recorded before took the deployment's kind (or
      // `release`, the default, when shiplog did not know the deployment). Admission reviews of
      // the Kubernetes webhook are recorded like gate decisions.
      async up(db: AnyDb) {
        await db.schema
          .alterTable('gate_decisions')
          .addColumn('kind', 'text', (c) => c.notNull().defaultTo('release'))
          .execute();
        await sql`update gate_decisions set kind = (select d.kind from deployments d where d.deployment = gate_decisions.deployment)
                  where exists (select 1 from deployments d where d.deployment = gate_decisions.deployment)`.execute(
          db,
        );
        await db.schema
          .createTable('admission_decisions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('uid', 'text', (c) => c.notNull())
          .addColumn('operation', 'text', (c) => c.notNull())
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('workload_kind', 'text', (c) => c.notNull())
          .addColumn('workload_name', 'text', (c) => c.notNull())
          .addColumn('allow', 'integer', (c) => c.notNull())
          .addColumn('images', 'text', (c) => c.notNull())
          .addColumn('message', 'text')
          .addColumn('asked_by', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('admission_decisions_newest')
          .on('admission_decisions')
          .columns(['created_ms', 'id'])
          .execute();
      },
    },
    '015-verification-and-silences': {
      // Alertmanager silences shiplog holds while services deploy (one per service and
      // environment), and post-deployment verification runs with their measurements: in the
      // database, so a restarted (or newly elected) shiplog renews and measures where the
      // last one stopped.
      async up(db: AnyDb) {
        await db.schema
          .createTable('alert_silences')
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('silence_id', 'text')
          .addColumn('starts_ms', bigint)
          .addColumn('ends_ms', bigint)
          .addColumn('hold_until_ms', bigint)
          .addColumn('last_error', 'text')
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('alert_silences_pk', ['service', 'environment'])
          .execute();
        await db.schema
          .createIndex('alert_silences_by_state')
          .on('alert_silences')
          .columns(['state'])
          .execute();
        await db.schema
          .createTable('verification_runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('trigger', 'text', (c) => c.notNull())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('region', 'text', (c) => c.notNull())
          .addColumn('version', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('checks', 'text', (c) => c.notNull())
          .addColumn('next_ms', bigint)
          .addColumn('started_ms', bigint, (c) => c.notNull())
          .addColumn('finished_ms', bigint)
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .addUniqueConstraint('verification_runs_once', ['deployment', 'trigger'])
          .execute();
        await db.schema
          .createIndex('verification_runs_due')
          .on('verification_runs')
          .columns(['status', 'next_ms'])
          .execute();
        await db.schema
          .createTable('verification_measurements')
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('check_name', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('at_ms', bigint, (c) => c.notNull())
          .addColumn('phase', 'text', (c) => c.notNull())
          .addColumn('value', 'text')
          .addColumn('message', 'text')
          .addColumn('ledger_index', bigint)
          .addPrimaryKeyConstraint('verification_measurements_pk', ['run_id', 'check_name', 'seq'])
          .execute();
      },
    },
    '009-leases': {
      // Background work runs once per deployment of shiplog: the replica whose row this is,
      // until `expires_ms`, is the leader for the lease `name` (src/server/leader.ts).
      async up(db: AnyDb) {
        await db.schema
          .createTable('leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('expires_ms', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '010-dora-fields': {
      // DORA metrics (DESIGN.md §10): the typed columns the metrics read, folded from the event
      // fields of schema version 2 (src/domain/deployment-row.ts). Events stored before carry
      // none of these fields, so there is nothing to backfill. The metrics read the changes of
      // one environment by finish time, and the deployments that declare they remediate one.
      async up(db: AnyDb) {
        await db.schema.alterTable('deployments').addColumn('first_commit_ms', bigint).execute();
        await db.schema.alterTable('deployments').addColumn('commit_count', 'integer').execute();
        await db.schema.alterTable('deployments').addColumn('intent', 'text').execute();
        await db.schema.alterTable('deployments').addColumn('remediates', 'text').execute();
        await db.schema
          .createIndex('deployments_by_environment_finished')
          .on('deployments')
          .columns(['environment', 'finished_ms'])
          .execute();
        await db.schema
          .createIndex('deployments_by_remediates')
          .on('deployments')
          .columns(['remediates', 'sort_ms'])
          .execute();
        await db.schema
          .createIndex('deployments_by_kind')
          .on('deployments')
          .columns(['kind', 'environment', 'sort_ms'])
          .execute();
      },
    },
    '012-reports': {
      // Audit reports cite the ledger entry of every approval and gate decision of a
      // deployment, so those rows learn their ledger index (backfilled from the entries, whose
      // ids name them). Token use is counted per token and UTC day, in batches
      // (src/reports/token-usage.ts), for the access review.
      async up(db: AnyDb) {
        await db.schema.alterTable('approvals').addColumn('ledger_index', bigint).execute();
        await db.schema.alterTable('gate_decisions').addColumn('ledger_index', bigint).execute();
        await db.schema.alterTable('tokens').addColumn('last_used_ms', bigint).execute();
        await db.schema
          .createTable('token_usage')
          .addColumn('token_id', 'text', (c) => c.notNull())
          .addColumn('day', 'integer', (c) => c.notNull())
          .addColumn('uses', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('token_usage_pk', ['token_id', 'day'])
          .execute();
        const refs = await sql<{ idx: number; data: string; record_type: string }>`
          select idx, data, record_type from ledger_entries
          where record_type in ('approval', 'gate_decision') and data is not null`.execute(db);
        for (const row of refs.rows) {
          const record = JSON.parse(row.data) as { id?: unknown; decisionId?: unknown };
          if (row.record_type === 'approval' && typeof record.id === 'string') {
            await sql`update approvals set ledger_index = ${Number(row.idx)} where id = ${record.id}`.execute(
              db,
            );
          } else if (row.record_type === 'gate_decision' && typeof record.decisionId === 'string') {
            await sql`update gate_decisions set ledger_index = ${Number(row.idx)} where id = ${record.decisionId}`.execute(
              db,
            );
          }
        }
      },
    },
    '011-alerts': {
      // Alerts as records (DESIGN.md §11): the alerts, their notification groups (Alertmanager's
      // aggregation groups: one per route and group labels), the alerts of each group, the
      // escalations in progress and the notification outbox. Every timer is a `next_ms` column,
      // so a restart resumes grouping, escalation and retries where they stood.
      async up(db: AnyDb) {
        await db.schema
          .createTable('alerts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('rule', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('labels', 'text', (c) => c.notNull())
          .addColumn('deployment', 'text')
          .addColumn('service', 'text')
          .addColumn('environment', 'text')
          .addColumn('starts_ms', bigint, (c) => c.notNull())
          .addColumn('acked_ms', bigint)
          .addColumn('acked_by', 'text')
          .addColumn('resolved_ms', bigint)
          .addColumn('held_until_ms', bigint)
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('alerts_by_fingerprint')
          .on('alerts')
          .columns(['fingerprint', 'status'])
          .execute();
        await db.schema.createIndex('alerts_newest').on('alerts').columns(['starts_ms', 'id']).execute();
        await db.schema
          .createIndex('alerts_by_status')
          .on('alerts')
          .columns(['status', 'starts_ms', 'id'])
          .execute();
        await db.schema
          .createTable('alert_groups')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('route_id', 'text', (c) => c.notNull())
          .addColumn('receiver', 'text', (c) => c.notNull())
          .addColumn('labels', 'text', (c) => c.notNull())
          .addColumn('next_ms', bigint)
          .addColumn('last_sent_ms', bigint)
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('alert_groups_due').on('alert_groups').column('next_ms').execute();
        await db.schema
          .createTable('alert_group_members')
          .addColumn('group_key', 'text', (c) => c.notNull())
          .addColumn('alert_id', 'text', (c) => c.notNull())
          .addColumn('notified', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('alert_group_members_pk', ['group_key', 'alert_id'])
          .execute();
        await db.schema
          .createIndex('alert_group_members_by_alert')
          .on('alert_group_members')
          .column('alert_id')
          .execute();
        await db.schema
          .createTable('alert_escalations')
          .addColumn('alert_id', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('cycle_ms', bigint, (c) => c.notNull())
          .addColumn('cycle', 'integer', (c) => c.notNull())
          .addColumn('level', 'integer', (c) => c.notNull())
          .addColumn('next_ms', bigint)
          .addColumn('reached', 'text', (c) => c.notNull())
          .addColumn('stopped_ms', bigint)
          .addPrimaryKeyConstraint('alert_escalations_pk', ['alert_id', 'policy'])
          .execute();
        await db.schema
          .createIndex('alert_escalations_due')
          .on('alert_escalations')
          .column('next_ms')
          .execute();
        await db.schema
          .createTable('alert_deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('receiver', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('alert_ids', 'text', (c) => c.notNull())
          .addColumn('group_key', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_ms', bigint, (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('alert_deliveries_due')
          .on('alert_deliveries')
          .columns(['status', 'next_ms'])
          .execute();
      },
    },
    '013-retention': {
      // Retention tiers (DESIGN.md §14, docs/retention.md): one row per monthly archive segment
      // (its ledger index range, where it was written, when it was verified and when the
      // database's copies of its payloads were retired), the deployments whose records left the
      // database (so a read names the month to restore), and events by time of receipt, the
      // order months are cut in.
      async up(db: AnyDb) {
        await db.schema
          .createTable('archive_segments')
          .addColumn('month', 'text', (c) => c.primaryKey())
          .addColumn('first_idx', bigint, (c) => c.notNull())
          .addColumn('end_idx', bigint, (c) => c.notNull())
          .addColumn('checkpoint_size', bigint, (c) => c.notNull())
          .addColumn('location', 'text', (c) => c.notNull())
          .addColumn('entries', bigint, (c) => c.notNull())
          .addColumn('deployments', bigint, (c) => c.notNull())
          .addColumn('bytes', bigint, (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .addColumn('verified_ms', bigint)
          .addColumn('purged_ms', bigint)
          .addColumn('restored_ms', bigint)
          .execute();
        await db.schema
          .createTable('archived_deployments')
          .addColumn('deployment', 'text', (c) => c.primaryKey())
          .addColumn('month', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('events_by_received').on('events').column('received_ms').execute();
      },
    },
    '016-dora-covering-indexes': {
      // DORA metrics read every change of a window (a hundred thousand rows a month for a large
      // organisation) and every deployment that declares a remediation. Looking each row up in
      // the table from a narrow index cost more than reading it: these indexes hold the columns
      // those reads take (src/store/dora-repository.ts), only for the rows they read, so the
      // reads walk one index and never touch the table. They replace the narrow indexes of 010.
      async up(db: AnyDb) {
        await db.schema
          .createIndex('deployments_dora_changes')
          .on('deployments')
          .columns([
            'environment',
            'finished_ms',
            'service',
            'region',
            'version',
            'ticket',
            'kind',
            'intent',
            'remediates',
            'sort_ms',
            'started_ms',
            'rolled_back_ms',
            'first_commit_ms',
            'deployment',
          ])
          .where(sql.ref('terminal_type'), '=', 'deployment.succeeded')
          .execute();
        await db.schema
          .createIndex('deployments_dora_remediations')
          .on('deployments')
          .columns(['sort_ms', 'remediates', 'deployment', 'service', 'environment', 'region', 'kind'])
          .where(sql.ref('remediates'), 'is not', null)
          .execute();
        await db.schema.dropIndex('deployments_by_environment_finished').execute();
        await db.schema.dropIndex('deployments_by_remediates').execute();
      },
    },
    '017-events-by-received-ledger': {
      // The archiver finds the next month to cut as the earliest receipt among the events at or
      // after a ledger index. With the index on receipt time alone that walked every archived
      // event from the oldest, reading each one's row for its ledger index (0.4 s at 1M); with
      // the ledger index in the index it reads no row. It replaces the index of 013.
      async up(db: AnyDb) {
        await db.schema.dropIndex('events_by_received').execute();
        await db.schema
          .createIndex('events_by_received')
          .on('events')
          .columns(['received_ms', 'ledger_index'])
          .execute();
      },
    },
    '018-events-covering-deployment-ledger': {
      // An archive segment picks each deployment once, by its first event of the segment: the
      // deployments of the events in a window of ledger indexes, less those with an earlier
      // event in the segment. Both steps read each event's row for the one column the index
      // lacked (the deployment of an index, the ledger index of a deployment's event): about
      // 0.6 s of a 1M-event month's CPU. With that column in the index they read no row. Each
      // replaces the index of the same name, whose queries it still answers.
      async up(db: AnyDb) {
        await db.schema.dropIndex('events_by_ledger_index').execute();
        await db.schema
          .createIndex('events_by_ledger_index')
          .on('events')
          .columns(['ledger_index', 'deployment'])
          .execute();
        await db.schema.dropIndex('events_by_deployment').execute();
        await db.schema
          .createIndex('events_by_deployment')
          .on('events')
          .columns(['deployment', 'seq', 'ledger_index'])
          .execute();
      },
    },
  };
}

export async function migrateToLatest<T>(db: Kysely<T>, dialect: Dialect): Promise<void> {
  await migrate(db, dialect, (migrator) => migrator.migrateToLatest());
}

/**
 * Applies the migrations up to and including `name` only: the schema of an earlier release
 * (`008-decision-kind-and-admissions` is release 0.1's), for the tests that upgrade one.
 */
export async function migrateUpTo<T>(db: Kysely<T>, dialect: Dialect, name: string): Promise<void> {
  await migrate(db, dialect, (migrator) => migrator.migrateTo(name));
}

async function migrate<T>(
  db: Kysely<T>,
  dialect: Dialect,
  run: (migrator: Migrator) => ReturnType<Migrator['migrateToLatest']>,
): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db: db as unknown as AnyDb, provider });
  const { error, results } = await run(migrator);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ShiplogError(
      'SHIPLOG_CONFIG',
      `database migration ${failed} failed: ${String((error as Error).message ?? error)}`,
    );
  }
}
