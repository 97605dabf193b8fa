/**
 * Health, readiness, Prometheus metrics and the event's JSON Schema: public. Probes are never
 * rate limited (DESIGN.md §5): an orchestrator that gets 429 from a probe restarts a healthy process.
 */
import type { FastifyInstance } from 'fastify';
import { eventJsonSchema } from '../../domain/event.js';
import type { AppContext } from '../context.js';

export function registerOpsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const probe = { access: 'public', rateLimit: false } as const;
  app.get(
    '/healthz',
    { config: probe, schema: { summary: 'The process is up', tags: ['operations'] } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    { config: probe, schema: { summary: 'The database answers', tags: ['operations'] } },
    async function ready(request, reply) {
      try {
        await ctx.store.ping();
        return { status: 'ready', database: ctx.store.dialect };
      } catch (error) {
        request.log.warn({ err: error }, 'database not reachable');
        return reply.status(503).send({
          error: { code: 'SHIPLOG_UNAVAILABLE', message: 'The database does not answer', details: [] },
        });
      }
    },
  );

  app.get(
    '/metrics',
    { config: { access: 'public' }, schema: { summary: 'Prometheus metrics', tags: ['operations'] } },
    async function metrics(_request, reply) {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );

  const schema = eventJsonSchema();
  app.get(
    '/v1/schema/event.json',
    {
      config: { access: 'public' },
      schema: { summary: 'The deployment event as JSON Schema', tags: ['events'] },
    },
    async (_r, reply) => reply.type('application/schema+json').send(schema),
  );
}
