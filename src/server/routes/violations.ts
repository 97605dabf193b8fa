/**
 * `GET /v1/violations`: unapproved changes, i.e. deployments started in a protected environment
 * without an allowed gate decision (computed by query from deployments and gate decisions).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { protectedEnvironments, type GovernanceDeps } from '../../governance/deps.js';
import { Cursor, ErrorResponse, Limit, Name } from './shared.js';

const Query = Type.Object(
  { environment: Type.Optional(Name), limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export function registerViolationRoutes(app: FastifyInstance, gov: GovernanceDeps): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/v1/violations',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Deployments started in protected environments without an allowed gate decision',
        tags: ['governance'],
        querystring: Query,
        response: { '4xx': ErrorResponse },
      },
    },
    async function violations(request) {
      const q = request.query;
      return gov.store.gateDecisions.listViolations({
        protectedEnvironments: protectedEnvironments(gov),
        environment: q.environment,
        limit: q.limit ?? 50,
        cursor: q.cursor,
      });
    },
  );
}
