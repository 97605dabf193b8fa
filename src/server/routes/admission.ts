/**
 * `POST /v1/admission/kubernetes`: a validating admission webhook (AdmissionReview
 * admission.k8s.io/v1 in and out). Well-formed reviews always get 200 with the verdict in
 * `response.allowed`; the API server authenticates with a bearer token from its kubeconfig.
 */
import type { FastifyInstance } from 'fastify';
import { ShiplogError } from '../../errors.js';
import { reviewAdmission } from '../../governance/admission.js';
import type { GovernanceDeps } from '../../governance/deps.js';
import type { AppContext } from '../context.js';
import { ErrorResponse } from './shared.js';

const REVIEWERS = ['deployer', 'admin', 'viewer'];

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
      return reviewAdmission(gov, request.body);
    },
  );
}
