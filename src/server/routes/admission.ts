/**
 * `POST /v1/admission/kubernetes`: a validating admission webhook (AdmissionReview
 * admission.k8s.io/v1 in and out). Well-formed reviews always get 200 with the verdict in
 * `response.allowed`; the API server authenticates with a bearer token from its kubeconfig.
 */
import type { FastifyInstance } from 'fastify';
import { reviewAdmission } from '../../governance/admission.js';
import type { GovernanceDeps } from '../../governance/deps.js';
import { ErrorResponse } from './shared.js';

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
      return reviewAdmission(gov, request.body);
    },
  );
}
