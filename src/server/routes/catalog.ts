/**
 * The service catalog (DESIGN.md §9): `POST /v1/catalog` (admin; what `shiplog catalog import`
 * sends from Backstage descriptors) and `GET /v1/services`: every known service (from
 * `services:` of the config, the imported catalog and the deployments) with its team,
 * dependencies, dependants and the deployment running per environment.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { NAME_PATTERN } from '../../domain/event.js';
import type { ServiceConfig } from '../../correlate/incidents.js';
import { canonicalJson } from '../../ledger/jcs.js';
import { callerOf } from '../access.js';
import type { AppContext } from '../context.js';
import { ErrorResponse } from './shared.js';

const Name = Type.String({ pattern: NAME_PATTERN, maxLength: 63 });
const CatalogBody = Type.Object(
  {
    entities: Type.Array(
      Type.Object(
        {
          name: Name,
          team: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          dependsOn: Type.Optional(Type.Array(Name, { maxItems: 200 })),
          repository: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 5000 },
    ),
  },
  { additionalProperties: false },
);

export function registerCatalogRoutes(
  app: FastifyInstance,
  ctx: AppContext,
  configured: Readonly<Record<string, ServiceConfig>> = {},
): void {
  app.post<{ Body: Static<typeof CatalogBody> }>(
    '/v1/catalog',
    {
      config: { access: 'catalog:write' },
      schema: {
        summary: 'Add or replace services of the catalog (admin): team, dependencies, repository',
        tags: ['incidents'],
        body: CatalogBody,
        response: { '4xx': ErrorResponse },
      },
    },
    async function importCatalog(request, reply) {
      const token = callerOf(request);
      const nowMs = Date.now();
      const rows = request.body.entities.map((e) => ({
        name: e.name,
        team: e.team ?? null,
        repository: e.repository ?? null,
        depends_on: JSON.stringify([...new Set(e.dependsOn ?? [])].sort()),
        source: 'catalog',
        updated_ms: nowMs,
      }));
      const ledgerIndex = await ctx.store.writeTransaction(async (trx) => {
        await ctx.store.incidents.upsertCatalog(rows, trx);
        const entry = canonicalJson({
          recordType: 'catalog',
          importedBy: token.name,
          at: new Date(nowMs).toISOString(),
          entities: request.body.entities,
        });
        return ctx.ledger.append(trx, [entry], 'catalog');
      });
      return reply.status(201).send({ imported: rows.length, ledgerIndex });
    },
  );

  app.get(
    '/v1/services',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Every known service with its team, dependencies, dependants and current deployments',
        tags: ['incidents'],
        response: { '4xx': ErrorResponse },
      },
    },
    async function listServices() {
      const [catalog, current] = await Promise.all([
        ctx.store.incidents.catalog(),
        ctx.store.incidents.currentDeployments(),
      ]);
      const services = new Map<
        string,
        { team: string | null; repository: string | null; dependsOn: Set<string> }
      >();
      const entry = (name: string) => {
        let s = services.get(name);
        if (!s) {
          s = { team: null, repository: null, dependsOn: new Set() };
          services.set(name, s);
        }
        return s;
      };
      for (const [name, config] of Object.entries(configured)) {
        const s = entry(name);
        s.team = config.team ?? s.team;
        s.repository = config.repository ?? s.repository;
        for (const d of config.dependsOn ?? []) s.dependsOn.add(d);
      }
      for (const row of catalog) {
        const s = entry(row.name);
        s.team = row.team ?? s.team;
        s.repository = row.repository ?? s.repository;
        for (const d of JSON.parse(row.depends_on) as string[]) s.dependsOn.add(d);
      }
      for (const row of current) entry(row.service);
      for (const s of [...services.values()]) for (const d of s.dependsOn) entry(d);
      const dependants = new Map<string, string[]>();
      for (const [name, s] of services) {
        for (const d of s.dependsOn) dependants.set(d, [...(dependants.get(d) ?? []), name]);
      }
      const deployed = new Map<string, Record<string, unknown>[]>();
      for (const row of current) {
        if (row.deployment === null) continue;
        deployed.set(row.service, [
          ...(deployed.get(row.service) ?? []),
          {
            environment: row.environment,
            region: row.region === '' ? null : row.region,
            deployment: row.deployment,
            version: row.version,
            since: row.since_ms === null ? null : new Date(row.since_ms).toISOString(),
          },
        ]);
      }
      const items = [...services.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, s]) => ({
          service: name,
          team: s.team,
          repository: s.repository,
          dependsOn: [...s.dependsOn].sort(),
          dependants: (dependants.get(name) ?? []).sort(),
          lastDeployments: deployed.get(name) ?? [],
        }));
      return { items, nextCursor: null };
    },
  );
}
