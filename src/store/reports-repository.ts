/**
 * The reads behind the audit, access and coverage reports (src/reports/, DESIGN.md §13), and
 * the batched writes of token use. Every read of the audit report is bounded by a ledger size
 * (its checkpoint), so a report cites only entries that checkpoint covers, and pages: the
 * report never holds more than one page of deployments.
 */
import { sql, type Kysely } from 'kysely';
import type { NodeKey } from '../ledger/merkle.js';
import { fetchNodes } from './ledger-repository.js';
import type { Database } from './schema.js';

/** A ledger entry: its index and its bytes. */
export interface EntryBytes {
  readonly index: number;
  readonly data: string;
}

export interface MonthDeploymentsFilter {
  readonly environment: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** The last (sort_ms, deployment) of the previous page. */
  readonly after?: readonly [number, string] | undefined;
  readonly limit: number;
}

/** Where the bundle's run of leaves starts (docs/audit.md, Completeness). */
export interface RangeStart {
  /** First index of the run. */
  readonly start: number;
  /** The last event entry before `start` (received before the window), null when start is 0. */
  readonly boundary: number | null;
}

export interface TokenUse {
  readonly tokenId: string;
  /** UTC day, days since the epoch. */
  readonly day: number;
  readonly uses: number;
  readonly lastMs: number;
}

export interface TokenUsageRow {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly scopes: string | null;
  readonly createdBy: string;
  readonly createdMs: number;
  readonly revokedMs: number | null;
  readonly lastUsedMs: number | null;
  readonly uses: number;
}

export interface ApproverCount {
  readonly approver: string;
  readonly approvals: number;
  readonly rejections: number;
  readonly lastMs: number;
}

export interface TaggedDeployment {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly kind: string;
  readonly actor: string;
  readonly ticket: string | null;
  readonly commit: string | null;
  readonly labels: string | null;
  readonly sortMs: number;
}

export interface EnvironmentSighting {
  readonly environment: string;
  /** `admission`, or the event source (`webhook:github`, a token name). */
  readonly seenBy: string;
  readonly count: number;
  readonly lastMs: number;
}

export interface ReportsRepository {
  /** Deployments of the environment whose first event time is in [fromMs, toMs), ascending. */
  monthDeployments(f: MonthDeploymentsFilter): Promise<{ deployment: string; sortMs: number }[]>;
  /**
   * The ledger entries of these deployments below `size`: their events, approval decisions and
   * gate decisions, each deployment's ascending by index. Retired payloads are left out.
   */
  evidence(deployments: readonly string[], size: number): Promise<Map<string, EntryBytes[]>>;
  /**
   * The lowest ledger index of an approval or gate decision, of a deployment of `environment`
   * whose first event time is in [fromMs, toMs), whose payload retention retired; none when
   * every such entry still has its bytes.
   */
  retiredEvidence(f: { environment: string; fromMs: number; toMs: number }): Promise<number | undefined>;
  /**
   * The earliest month records of a deployment of `environment` whose first event time is in
   * [fromMs, toMs) left the database with (`archived_deployments`); none when none did.
   */
  archivedMonth(f: { environment: string; fromMs: number; toMs: number }): Promise<string | undefined>;
  /** The run of leaves that holds every event received at or after `receivedFromMs`. */
  rangeStart(receivedFromMs: number, size: number): Promise<RangeStart>;
  /**
   * For deployments of `environment` that have an event in [start, size) timed in
   * [fromMs, toMs) but whose first event is older than `fromMs`: that first event's entry (it
   * shows they belong to an earlier month).
   */
  earlierStarts(f: {
    environment: string;
    fromMs: number;
    toMs: number;
    start: number;
    size: number;
  }): Promise<EntryBytes[]>;
  /** Stored tree nodes (see ledger-repository's fetchNodes). */
  nodes(keys: readonly NodeKey[]): Promise<Map<string, Uint8Array>>;

  /** Adds a batch of counted uses; last use only moves forward. */
  recordTokenUse(uses: readonly TokenUse[]): Promise<void>;
  /** Every token (revoked ones too) with its uses since `sinceDay`. */
  tokenUsage(sinceDay: number): Promise<TokenUsageRow[]>;
  /** Every approver and their decisions. */
  approverCounts(): Promise<ApproverCount[]>;

  /** Catalog services and their latest deployment (null: never). */
  catalogLastDeployments(): Promise<{ service: string; team: string | null; lastMs: number | null }[]>;
  /** Event sources and when each was last heard from. */
  sourcesLastSeen(): Promise<{ source: string; lastMs: number; events: number }[]>;
  /** Who saw each environment: admission reviews and event sources. */
  environmentSightings(): Promise<EnvironmentSighting[]>;
  /** Deployments into `environment` since `sinceMs`, ascending, one page after `after`. */
  deploymentsSince(f: {
    environment: string;
    sinceMs: number;
    after?: readonly [number, string] | undefined;
    limit: number;
  }): Promise<TaggedDeployment[]>;
}

export function createReportsRepository(db: Kysely<Database>): ReportsRepository {
  const repository: ReportsRepository = {
    async monthDeployments(f: MonthDeploymentsFilter) {
      let q = db
        .selectFrom('deployments')
        .select(['deployment', 'sort_ms'])
        .where('environment', '=', f.environment)
        .where('sort_ms', '>=', f.fromMs)
        .where('sort_ms', '<', f.toMs);
      if (f.after) {
        const [ms, key] = f.after;
        q = q.where((eb) =>
          eb.or([eb('sort_ms', '>', ms), eb.and([eb('sort_ms', '=', ms), eb('deployment', '>', key)])]),
        );
      }
      const rows = await q.orderBy('sort_ms').orderBy('deployment').limit(f.limit).execute();
      return rows.map((r) => ({ deployment: r.deployment, sortMs: Number(r.sort_ms) }));
    },

    async evidence(deployments: readonly string[], size: number) {
      const byDeployment = new Map<string, EntryBytes[]>(deployments.map((d) => [d, []]));
      if (deployments.length === 0) return byDeployment;
      const keys = [...deployments];
      const events = db
        .selectFrom('events')
        .select(['deployment', 'ledger_index as idx', 'body as data'])
        .where('deployment', 'in', keys)
        .where('ledger_index', 'is not', null)
        .where('ledger_index', '<', size);
      const approvals = db
        .selectFrom('approvals as a')
        .innerJoin('ledger_entries as l', 'l.idx', 'a.ledger_index')
        .select(['a.deployment', 'l.idx', 'l.data'])
        .where('a.deployment', 'in', keys)
        .where('a.ledger_index', '<', size)
        .where('l.data', 'is not', null);
      const gates = db
        .selectFrom('gate_decisions as g')
        .innerJoin('ledger_entries as l', 'l.idx', 'g.ledger_index')
        .select(['g.deployment', 'l.idx', 'l.data'])
        .where('g.deployment', 'in', keys)
        .where('g.ledger_index', '<', size)
        .where('l.data', 'is not', null);
      const rows = [...(await events.execute()), ...(await approvals.execute()), ...(await gates.execute())];
      for (const row of rows) {
        if (row.data === null || row.idx === null) continue;
        byDeployment.get(row.deployment)?.push({ index: Number(row.idx), data: row.data });
      }
      for (const list of byDeployment.values()) list.sort((a, b) => a.index - b.index);
      return byDeployment;
    },

    async retiredEvidence(f: { environment: string; fromMs: number; toMs: number }) {
      // The first retired ledger entry of an approval or a gate decision of the window's deployments.
      const firstRetired = (table: 'approvals' | 'gate_decisions') =>
        db
          .selectFrom(table)
          .innerJoin('deployments as d', 'd.deployment', `${table}.deployment`)
          .innerJoin('ledger_entries as l', 'l.idx', `${table}.ledger_index`)
          .select((eb) => eb.fn.min('l.idx').as('idx'))
          .where('d.environment', '=', f.environment)
          .where('d.sort_ms', '>=', f.fromMs)
          .where('d.sort_ms', '<', f.toMs)
          .where('l.retired_ms', 'is not', null)
          .executeTakeFirst();
      const found = [(await firstRetired('approvals'))?.idx, (await firstRetired('gate_decisions'))?.idx]
        .filter((i) => i !== null && i !== undefined)
        .map(Number);
      return found.length > 0 ? Math.min(...found) : undefined;
    },

    async archivedMonth(f: { environment: string; fromMs: number; toMs: number }) {
      const row = await db
        .selectFrom('archived_deployments as a')
        .innerJoin('deployments as d', 'd.deployment', 'a.deployment')
        .select((eb) => eb.fn.min('a.month').as('month'))
        .where('d.environment', '=', f.environment)
        .where('d.sort_ms', '>=', f.fromMs)
        .where('d.sort_ms', '<', f.toMs)
        .executeTakeFirst();
      return row?.month ?? undefined;
    },

    async rangeStart(receivedFromMs: number, size: number) {
      // Event entries are appended in receipt order, give or take the commits in flight: a
      // binary search on the index finds the first one received at or after the instant.
      const eventAtOrAfter = (index: number) =>
        db
          .selectFrom('events')
          .select(['ledger_index', 'received_ms'])
          .where('ledger_index', '>=', index)
          .where('ledger_index', '<', size)
          .orderBy('ledger_index')
          .limit(1)
          .executeTakeFirst();
      let lo = 0;
      let hi = size;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const found = await eventAtOrAfter(mid);
        if (found === undefined || Number(found.received_ms) >= receivedFromMs) hi = mid;
        else lo = Number(found.ledger_index) + 1;
      }
      // The boundary is the last event entry before lo that was received before the instant.
      let below = lo;
      for (;;) {
        const previous = await db
          .selectFrom('events')
          .select(['ledger_index', 'received_ms'])
          .where('ledger_index', '<', below)
          .orderBy('ledger_index', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (previous === undefined || previous.ledger_index === null) return { start: 0, boundary: null };
        const index = Number(previous.ledger_index);
        if (Number(previous.received_ms) < receivedFromMs) return { start: index + 1, boundary: index };
        below = index;
      }
    },

    async earlierStarts(f) {
      const late = db
        .selectFrom('events as e')
        .innerJoin('deployments as d', 'd.deployment', 'e.deployment')
        .select('e.deployment')
        .distinct()
        .where('d.environment', '=', f.environment)
        .where('d.sort_ms', '<', f.fromMs)
        .where('e.ledger_index', '>=', f.start)
        .where('e.ledger_index', '<', f.size)
        .where('e.time_ms', '>=', f.fromMs)
        .where('e.time_ms', '<', f.toMs);
      const rows = await db
        .selectFrom('events as e')
        .select(['e.deployment', 'e.ledger_index', 'e.body', 'e.time_ms'])
        .where('e.deployment', 'in', late)
        .where('e.ledger_index', 'is not', null)
        .where('e.ledger_index', '<', f.size)
        .orderBy('e.deployment')
        .orderBy('e.time_ms')
        .orderBy('e.ledger_index')
        .execute();
      const firsts = new Map<string, EntryBytes>();
      for (const row of rows) {
        if (!firsts.has(row.deployment) && row.ledger_index !== null) {
          firsts.set(row.deployment, { index: Number(row.ledger_index), data: row.body });
        }
      }
      return [...firsts.values()].sort((a, b) => a.index - b.index);
    },

    nodes: (keys: readonly NodeKey[]) => fetchNodes(db, keys),

    async recordTokenUse(uses: readonly TokenUse[]) {
      if (uses.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const use of uses) {
          await trx
            .insertInto('token_usage')
            .values({ token_id: use.tokenId, day: use.day, uses: use.uses })
            .onConflict((oc) =>
              oc.columns(['token_id', 'day']).doUpdateSet({ uses: sql`token_usage.uses + ${use.uses}` }),
            )
            .execute();
          await trx
            .updateTable('tokens')
            .set({ last_used_ms: use.lastMs })
            .where('id', '=', use.tokenId)
            .where((eb) => eb.or([eb('last_used_ms', 'is', null), eb('last_used_ms', '<', use.lastMs)]))
            .execute();
        }
      });
    },

    async tokenUsage(sinceDay: number) {
      const usage = db
        .selectFrom('token_usage')
        .select(['token_id', (eb) => eb.fn.sum<number>('uses').as('uses')])
        .where('day', '>=', sinceDay)
        .groupBy('token_id')
        .as('u');
      const rows = await db
        .selectFrom('tokens as t')
        .leftJoin(usage, 'u.token_id', 't.id')
        .select([
          't.id',
          't.name',
          't.role',
          't.scopes',
          't.created_by',
          't.created_ms',
          't.revoked_ms',
          't.last_used_ms',
          'u.uses',
        ])
        .orderBy('t.created_ms')
        .orderBy('t.id')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        role: r.role,
        scopes: r.scopes,
        createdBy: r.created_by,
        createdMs: Number(r.created_ms),
        revokedMs: r.revoked_ms === null ? null : Number(r.revoked_ms),
        lastUsedMs: r.last_used_ms === null || r.last_used_ms === undefined ? null : Number(r.last_used_ms),
        uses: r.uses === null ? 0 : Number(r.uses),
      }));
    },

    async approverCounts() {
      const rows = await db
        .selectFrom('approvals')
        .select([
          'approver',
          'decision',
          (eb) => eb.fn.countAll<number>().as('n'),
          (eb) => eb.fn.max('created_ms').as('last_ms'),
        ])
        .groupBy(['approver', 'decision'])
        .execute();
      const byName = new Map<
        string,
        { approver: string; approvals: number; rejections: number; lastMs: number }
      >();
      for (const row of rows) {
        const entry = byName.get(row.approver) ?? {
          approver: row.approver,
          approvals: 0,
          rejections: 0,
          lastMs: 0,
        };
        if (row.decision === 'approve') entry.approvals += Number(row.n);
        else entry.rejections += Number(row.n);
        entry.lastMs = Math.max(entry.lastMs, Number(row.last_ms));
        byName.set(row.approver, entry);
      }
      return [...byName.values()].sort((a, b) => (a.approver < b.approver ? -1 : 1));
    },

    async catalogLastDeployments() {
      const last = db
        .selectFrom('deployments')
        .select(['service', (eb) => eb.fn.max('sort_ms').as('last_ms')])
        .groupBy('service')
        .as('d');
      const rows = await db
        .selectFrom('catalog_services as c')
        .leftJoin(last, 'd.service', 'c.name')
        .select(['c.name', 'c.team', 'd.last_ms'])
        .orderBy('c.name')
        .execute();
      return rows.map((r) => ({
        service: r.name,
        team: r.team,
        lastMs: r.last_ms === null ? null : Number(r.last_ms),
      }));
    },

    async sourcesLastSeen() {
      const rows = await db
        .selectFrom('sources')
        .select(['source', 'last_seen_ms', 'events'])
        .orderBy('source')
        .execute();
      return rows.map((r) => ({
        source: r.source,
        lastMs: Number(r.last_seen_ms),
        events: Number(r.events),
      }));
    },

    async environmentSightings() {
      const admissions = await db
        .selectFrom('admission_decisions')
        .select([
          'environment',
          (eb) => eb.fn.countAll<number>().as('n'),
          (eb) => eb.fn.max('created_ms').as('last_ms'),
        ])
        .groupBy('environment')
        .execute();
      const events = await db
        .selectFrom('events as e')
        .innerJoin('deployments as d', 'd.deployment', 'e.deployment')
        .select([
          'd.environment',
          'e.source',
          (eb) => eb.fn.countAll<number>().as('n'),
          (eb) => eb.fn.max('e.received_ms').as('last_ms'),
        ])
        .groupBy(['d.environment', 'e.source'])
        .execute();
      return [
        ...admissions.map((r) => ({
          environment: r.environment,
          seenBy: 'admission',
          count: Number(r.n),
          lastMs: Number(r.last_ms),
        })),
        ...events.map((r) => ({
          environment: r.environment,
          seenBy: r.source,
          count: Number(r.n),
          lastMs: Number(r.last_ms),
        })),
      ];
    },

    async deploymentsSince(f) {
      let q = db
        .selectFrom('deployments')
        .select([
          'deployment',
          'service',
          'environment',
          'kind',
          'actor',
          'ticket',
          'commit_sha',
          'labels',
          'sort_ms',
        ])
        .where('environment', '=', f.environment)
        .where('sort_ms', '>=', f.sinceMs);
      if (f.after) {
        const [ms, key] = f.after;
        q = q.where((eb) =>
          eb.or([eb('sort_ms', '>', ms), eb.and([eb('sort_ms', '=', ms), eb('deployment', '>', key)])]),
        );
      }
      const rows = await q.orderBy('sort_ms').orderBy('deployment').limit(f.limit).execute();
      return rows.map((r) => ({
        deployment: r.deployment,
        service: r.service,
        environment: r.environment,
        kind: r.kind,
        actor: r.actor,
        ticket: r.ticket,
        commit: r.commit_sha,
        labels: r.labels,
        sortMs: Number(r.sort_ms),
      }));
    },
  };
  return Object.freeze(repository);
}
