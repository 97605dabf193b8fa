/**
 * `POST /v1/admission/kubernetes`: a validating admission webhook (AdmissionReview
 * admission.k8s.io/v1 in and out). Well-formed reviews always get 200 with the verdict in
 * `response.allowed`; the API server authenticates with a bearer token from its kubeconfig.
 * `GET /v1/admission/decisions` lists the recorded reviews.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ShiplogError } from '../../errors.js';
import { reviewAdmission } from '../../governance/admission.js';
import type { GovernanceDeps } from '../../governance/deps.js';
import { requireRole } from '../auth.js';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit, Name } from './shared.js';

const REVIEWERS = ['deployer', 'admin', 'viewer'];

const DecisionsQuery = Type.Object(
  {
    environment: Type.Optional(Name),
    allow: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export function registerAdmissionRoutes(app: FastifyInstance, ctx: AppContext, gov: GovernanceDeps): void {
  app.post(
    '/v1/admission/kubernetes',
    {
      schema: {
        summary: 'Kubernetes validating admission webhook (AdmissionReview v1)',
        tags: ['governance'],
        response: { '4xx': ErrorResponse },
      },
    },
    async function admission(request) {
      const token = await ctx.auth.authenticate(request);
      if (!REVIEWERS.includes(token.role)) {
        throw new ShiplogError('SHIPLOG_FORBIDDEN', `The ${token.role} role may not review admissions`);
      }
      return reviewAdmission(gov, request.body, token.name);
    },
  );

  app.get<{ Querystring: Static<typeof DecisionsQuery> }>(
    '/v1/admission/decisions',
    {
      schema: {
        summary:
          'Recorded admission reviews of protected namespaces, newest first, each image with what accounted for it',
        tags: ['governance'],
        querystring: DecisionsQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function decisions(request) {
      requireRole(await ctx.auth.authenticate(request), 'read');
      return gov.store.gateDecisions.listAdmissions({ ...request.query, limit: request.query.limit ?? 50 });
    },
  );
}
