/** `GET /v1/policies`: the governance policy loaded from `shiplog.yaml` (docs/governance.md). */
import type { FastifyInstance } from 'fastify';
import type { GovernanceDeps } from '../../governance/deps.js';
import { ErrorResponse } from './shared.js';

export function registerPolicyRoutes(app: FastifyInstance, gov: GovernanceDeps): void {
  app.get(
    '/v1/policies',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The policy of each configured environment',
        tags: ['governance'],
        response: { '4xx': ErrorResponse },
      },
    },
    async function policies() {
      return {
        environments: gov.policy.environments,
        kubernetes: { namespaces: gov.kubernetes.namespaces },
      };
    },
  );
}
