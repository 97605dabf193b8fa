/** The environments summary: per service, environment and region, what runs and what is in progress. */
import type { Kysely } from 'kysely';
import { keysetPage, type Page } from './cursor.js';
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

export interface EnvironmentsRepository {
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

    async inProgressCount() {
      const row = await db
        .selectFrom('environments')
        .select((eb) => eb.fn.sum<number>('progress_count').as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  });
}
