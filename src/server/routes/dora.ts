/**
 * DORA metrics (DESIGN.md §10): `GET /v1/metrics/dora` (one window) and
 * `GET /v1/metrics/dora/series?interval=day|week` (the same per interval), any role.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { DoraMetrics } from '../../metrics/dora.js';
import { ErrorResponse, Name, Time, timeParam } from './shared.js';

const filters = {
  environment: Type.Optional({ ...Name, description: 'Default: production' }),
  service: Type.Optional(Name),
  team: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'From the service catalog' })),
  since: Type.Optional({ ...Time, description: 'Default: 30 days (on the local clock of tz) before until' }),
  until: Type.Optional({ ...Time, description: 'Default: now' }),
  tz: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'IANA zone for day and week boundaries; default UTC',
    }),
  ),
  explain: Type.Optional(
    Type.Boolean({ description: 'Add, for each metric, the deployment and incident keys it counted' }),
  ),
};
const SummaryQuery = Type.Object(filters, { additionalProperties: false });
const SeriesQuery = Type.Object(
  { ...filters, interval: Type.Optional(Type.Enum(['day', 'week'], { default: 'day' })) },
  { additionalProperties: false },
);

function request(q: Static<typeof SummaryQuery>) {
  return {
    environment: q.environment,
    service: q.service,
    team: q.team,
    sinceMs: timeParam(q.since, 'since'),
    untilMs: timeParam(q.until, 'until'),
    tz: q.tz,
    explain: q.explain,
  };
}

export function registerDoraRoutes(app: FastifyInstance, dora: DoraMetrics): void {
  app.get<{ Querystring: Static<typeof SummaryQuery> }>(
    '/v1/metrics/dora',
    {
      schema: {
        summary:
          'DORA metrics of one environment over a window: frequency, lead time, failure rate, recovery, rework',
        tags: ['metrics'],
        querystring: SummaryQuery,
        response: { '4xx': ErrorResponse },
      },
      config: { access: 'read' },
    },
    async function doraSummary(req) {
      return dora.summary(request(req.query));
    },
  );
  app.get<{ Querystring: Static<typeof SeriesQuery> }>(
    '/v1/metrics/dora/series',
    {
      schema: {
        summary: 'DORA metrics per day or ISO week (local to tz), for charts',
        tags: ['metrics'],
        querystring: SeriesQuery,
        response: { '4xx': ErrorResponse },
      },
      config: { access: 'read' },
    },
    async function doraSeries(req) {
      return dora.series(request(req.query), req.query.interval ?? 'day');
    },
  );
}
