/**
 * `GET /v1/violations`: unapproved changes, i.e. deployments started in a protected environment
 * without an allowed gate decision (computed by query from deployments and gate decisions).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { protectedEnvironments, type GovernanceDeps } from '../../governance/deps.js';
import { requireRole } from '../auth.js';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit, Name } from './shared.js';

const Query = Type.Object(
  { environment: Type.Optional(Name), limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export function registerViolationRoutes(app: FastifyInstance, ctx: AppContext, gov: GovernanceDeps): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/v1/violations',
    {
      schema: {
        summary: 'Deployments started in protected environments without an allowed gate decision',
        tags: ['governance'],
        querystring: Query,
        response: { '4xx': ErrorResponse },
      },
    },
    async function violations(request) {
      requireRole(await ctx.auth.authenticate(request), 'read');
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
