/**
 * Health, readiness, Prometheus metrics and the event's JSON Schema: public. Probes are never
 * rate limited (DESIGN.md §5): an orchestrator that gets 429 from a probe restarts a healthy process.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { eventSchemaDocument, eventSchemaVersions } from '../../domain/event-versions.js';
import { ShiplogError } from '../../errors.js';
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

  const SchemaQuery = Type.Object(
    { version: Type.Optional(Type.String({ maxLength: 16, description: 'default: the current version' })) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof SchemaQuery> }>(
    '/v1/schema/event.json',
    {
      config: { access: 'public' },
      schema: {
        summary: 'The deployment event as JSON Schema, in any version (x-schema-version)',
        tags: ['events'],
        querystring: SchemaQuery,
      },
    },
    async function eventSchema(request, reply) {
      const document = eventSchemaDocument(request.query.version);
      if (!document) {
        const known = eventSchemaVersions().join(', ');
        throw new ShiplogError(
          'SHIPLOG_NOT_FOUND',
          `No event schema version "${request.query.version ?? ''}" (known: ${known})`,
          [{ path: 'version', message: `must be one of ${known}` }],
        );
      }
      return reply.type('application/schema+json').send(document);
    },
  );
}
