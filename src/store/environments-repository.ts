/** The environments summary: per service, environment and region, what runs and what is in progress. */
import type { Kysely } from 'kysely';
import { decodeCursor, keysetPage, pageOf, type Page } from './cursor.js';
import type { Database, EnvironmentsTable } from './schema.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface EnvironmentView {
  service: string;
  environment: string;
  region: string | null;
  current: {
    deployment: string;
    version: string | null;
    since: string | null;
    deployedBy: string | null;
  } | null;
  inProgress: {
    deployment: string;
    version: string | null;
    since: string | null;
    deployedBy: string | null;
    count: number;
  } | null;
}

function toEnvironmentView(row: EnvironmentsTable): EnvironmentView {
  return {
    service: row.service,
    environment: row.environment,
    region: row.region || null,
    current: row.current_deployment
      ? {
          deployment: row.current_deployment,
          version: row.current_version,
          since: iso(row.current_since_ms),
          deployedBy: row.current_actor,
        }
      : null,
    inProgress: row.progress_deployment
      ? {
          deployment: row.progress_deployment,
          version: row.progress_version,
          since: iso(row.progress_since_ms),
          deployedBy: row.progress_actor,
          count: row.progress_count,
        }
      : null,
  };
}

/** One environment's side of a comparison: what runs now in a service and region. */
export interface CompareSideView {
  deployment: string;
  version: string | null;
  since: string | null;
  deployedBy: string | null;
}

/** Version drift of one service and region between two environments. */
export interface CompareView {
  service: string;
  region: string | null;
  a: CompareSideView | null;
  b: CompareSideView | null;
  differs: boolean;
}

export interface EnvironmentsRepository {
  /**
   * What runs now in environments `a` and `b`, per service and region present in either, by
   * service then region; `differs` when the versions differ (or one side runs nothing).
   */
  compare(f: {
    a: string;
    b: string;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<CompareView>>;
  /** Rows of the summary, by service, environment and region. */
  list(f: {
    service?: string | undefined;
    environment?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<EnvironmentView>>;
  /** Deployments started and not yet finished, over every environment. */
  inProgressCount(): Promise<number>;
}

export function createEnvironmentsRepository(db: Kysely<Database>): EnvironmentsRepository {
  return Object.freeze({
    async list(f: {
      service?: string | undefined;
      environment?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      let q = db.selectFrom('environments').selectAll();
      if (f.service) q = q.where('service', '=', f.service);
      if (f.environment) q = q.where('environment', '=', f.environment);
      return keysetPage(
        q,
        { columns: ['service', 'environment', 'region'], shape: ['s', 's', 's'], direction: 'asc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        toEnvironmentView,
        (last) => [last.service, last.environment, last.region],
      );
    },

    async compare(f: { a: string; b: string; limit: number; cursor?: string | undefined }) {
      const after = f.cursor ? (decodeCursor(f.cursor, ['s', 's']) as [string, string]) : undefined;
      let q = db
        .selectFrom('environments')
        .selectAll()
        .where('environment', 'in', [f.a, f.b])
        .where('current_deployment', 'is not', null);
      if (after) {
        q = q.where((eb) =>
          eb.or([
            eb('service', '>', after[0]),
            eb.and([eb('service', '=', after[0]), eb('region', '>', after[1])]),
          ]),
        );
      }
      // At most two rows a pair: enough rows for limit + 1 pairs.
      const rows = await q
        .orderBy('service')
        .orderBy('region')
        .limit(2 * (f.limit + 1))
        .execute();
      const side = (row: EnvironmentsTable | undefined): CompareSideView | null =>
        row?.current_deployment
          ? {
              deployment: row.current_deployment,
              version: row.current_version,
              since: iso(row.current_since_ms),
              deployedBy: row.current_actor,
            }
          : null;
      const pairs: (CompareView & { key: [string, string] })[] = [];
      for (let i = 0; i < rows.length && pairs.length <= f.limit;) {
        const first = rows[i] as EnvironmentsTable;
        const group = [first];
        const next = rows[i + 1];
        if (next && next.service === first.service && next.region === first.region) group.push(next);
        i += group.length;
        const a = side(group.find((r) => r.environment === f.a));
        const b = side(group.find((r) => r.environment === f.b));
        pairs.push({
          key: [first.service, first.region],
          service: first.service,
          region: first.region || null,
          a,
          b,
          differs: !a || !b || a.version !== b.version,
        });
      }
      return pageOf(
        pairs,
        f.limit,
        ({ key: _key, ...view }) => view,
        (p) => p.key,
      );
    },

    async inProgressCount() {
      const row = await db
        .selectFrom('environments')
        .select((eb) => eb.fn.sum<number>('progress_count').as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  });
}
