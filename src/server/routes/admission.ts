/**
 * `POST /v1/admission/kubernetes`: a validating admission webhook (AdmissionReview
 * admission.k8s.io/v1 in and out). Well-formed reviews always get 200 with the verdict in
 * `response.allowed`; the API server authenticates with a bearer token from its kubeconfig.
 * `GET /v1/admission/decisions` lists the recorded reviews.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { reviewAdmission } from '../../governance/admission.js';
import type { GovernanceDeps } from '../../governance/deps.js';
import { callerOf } from '../access.js';
import { Cursor, ErrorResponse, Limit, Name } from './shared.js';

const DecisionsQuery = Type.Object(
  {
    environment: Type.Optional(Name),
    allow: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export function registerAdmissionRoutes(app: FastifyInstance, gov: GovernanceDeps): void {
  app.post(
    '/v1/admission/kubernetes',
    {
      config: { access: 'admission:review' },
      schema: {
        summary: 'Kubernetes validating admission webhook (AdmissionReview v1)',
        tags: ['governance'],
        response: { '4xx': ErrorResponse },
      },
    },
    async function admission(request) {
      return reviewAdmission(gov, request.body, callerOf(request).name);
    },
  );

  app.get<{ Querystring: Static<typeof DecisionsQuery> }>(
    '/v1/admission/decisions',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Recorded admission reviews of protected namespaces, newest first, each image with what accounted for it',
        tags: ['governance'],
        querystring: DecisionsQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function decisions(request) {
      return gov.store.gateDecisions.listAdmissions({ ...request.query, limit: request.query.limit ?? 50 });
    },
  );
}
