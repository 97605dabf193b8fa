/**
 * Approvals (DESIGN.md §8): `POST /v1/deployments/{deployment}/approvals` by an approver or an
 * admin, never the deployment's own actor; `GET /v1/approvals?state=pending|decided`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { decideApproval, environmentsNeedingApproval } from '../../governance/approvals.js';
import type { GovernanceDeps } from '../../governance/deps.js';
import { callerOf } from '../access.js';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit, Name } from './shared.js';

const DecideBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    comment: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('decided')])),
    environment: Type.Optional(Name),
    deployment: Type.Optional(Type.String({ maxLength: 256, description: 'state=decided: one deployment' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export function registerApprovalRoutes(app: FastifyInstance, ctx: AppContext, gov: GovernanceDeps): void {
  app.post<{ Params: { deployment: string }; Body: Static<typeof DecideBody> }>(
    '/v1/deployments/:deployment/approvals',
    {
      config: { access: 'approve' },
      schema: {
        summary: 'Approve or reject a deployment (not your own)',
        tags: ['governance'],
        params: Type.Object({ deployment: Type.String({ maxLength: 256 }) }),
        body: DecideBody,
        response: { '4xx': ErrorResponse },
      },
    },
    async function decide(request, reply) {
      const token = callerOf(request);
      const result = await decideApproval(gov, {
        deployment: request.params.deployment,
        decision: request.body.decision,
        comment: request.body.comment ?? '',
        token,
      });
      void ctx.alerts.evaluate({
        kind: 'approval',
        deployment: request.params.deployment,
        approved: result.approved,
      });
      return reply.status(201).send(result);
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/approvals',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Deployments waiting for approval (state=pending, default) or decisions given (state=decided)',
        tags: ['governance'],
        querystring: ListQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function list(request) {
      const q = request.query;
      const limit = q.limit ?? 50;
      if (q.state === 'decided') {
        return gov.store.approvals.listDecided({
          environment: q.environment,
          deployment: q.deployment,
          limit,
          cursor: q.cursor,
        });
      }
      return gov.store.approvals.listPending({
        environments: environmentsNeedingApproval(gov),
        environment: q.environment,
        limit,
        cursor: q.cursor,
      });
    },
  );
}
