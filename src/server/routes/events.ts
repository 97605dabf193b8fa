/** `POST /v1/events`: one event, or `{"events": [...]}` with up to 1000, stored atomically. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { reservedSourceOf } from '../../domain/sources.js';
import { EventSchema, normalizeEvent, type EventInput } from '../../domain/event.js';
import { acceptEvent, eventSchemaVersions } from '../../domain/event-versions.js';
import { ShiplogError, type ErrorDetail } from '../../errors.js';
import { callerOf } from '../access.js';
import { requireScope } from '../auth.js';
import type { AppContext } from '../context.js';
import { ErrorResponse } from './shared.js';

export const MAX_BATCH = 1000;

/**
 * An event as a client sends it, for the OpenAPI document: the current event schema's members
 * and the optional `schemaVersion` (DESIGN.md §14); an earlier version's event is upcast.
 */
const EventBody = Type.Object(
  {
    ...EventSchema.properties,
    schemaVersion: Type.Optional(
      Type.Enum([...eventSchemaVersions()], {
        description:
          'The event schema version this event follows (default "1"); GET /v1/schema/event.json?version= serves each',
      }),
    ),
  },
  { additionalProperties: false },
);

const ResultsResponse = Type.Object({
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.Enum(['stored', 'duplicate']),
      ledgerIndex: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
});

/** Splits a request body into events with their JSON pointers, or throws a 400. */
function eventsOf(body: unknown): { items: unknown[]; pointers: string[] } {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'events' in body) {
    const { events, ...rest } = body as { events: unknown };
    const details: ErrorDetail[] = Object.keys(rest).map((k) => ({
      path: `/${k}`,
      message: 'is not a known field of a batch',
    }));
    if (!Array.isArray(events) || events.length === 0 || events.length > MAX_BATCH) {
      details.push({ path: '/events', message: `must be an array of 1 to ${MAX_BATCH} events` });
    }
    if (details.length > 0)
      throw new ShiplogError('SHIPLOG_INVALID_EVENT', 'The batch is invalid; nothing was stored', details);
    const items = events as unknown[];
    return { items, pointers: items.map((_, i) => `/events/${i}`) };
  }
  return { items: [body], pointers: [''] };
}

/** Keys and ids with a webhook source's prefix are that source's (and admins', for `shiplog sync`). */
function refuseReservedNames(inputs: readonly EventInput[], pointers: readonly string[]): void {
  const details: ErrorDetail[] = [];
  inputs.forEach((input, i) => {
    for (const [field, value] of [
      ['deployment', input.deployment],
      ['id', input.id],
    ] as const) {
      const owner = value === undefined ? undefined : reservedSourceOf(value);
      if (owner) {
        details.push({
          path: `${pointers[i] ?? ''}/${field}`,
          message: `"${owner}:" is reserved for the ${owner} webhook (and admins running shiplog sync)`,
        });
      }
    }
  });
  if (details.length > 0) {
    throw new ShiplogError(
      'SHIPLOG_FORBIDDEN',
      'The request uses names reserved for a webhook source',
      details,
    );
  }
}

/**
 * The `source` label of what arrives here in /metrics: the kind of source, never the token's
 * name, which /metrics (unauthenticated, for scrapers) would otherwise list to anyone.
 */
const METRICS_SOURCE = 'api';

export function registerEventRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post(
    '/v1/events',
    {
      config: { access: 'events:write' },
      schema: {
        summary: 'Record deployment events',
        description: `One event, or {"events": [...]} with up to ${MAX_BATCH}. A batch is atomic; the same id is stored once.`,
        tags: ['events'],
        body: Type.Union([
          EventBody,
          Type.Object({ events: Type.Array(EventBody, { maxItems: MAX_BATCH }) }),
        ]),
        response: { 201: ResultsResponse, '4xx': ErrorResponse },
      },
      // The body is validated below, so every bad field is named by its pointer within the batch.
      validatorCompiler: () => (value) => ({ value }),
    },
    async function recordEvents(request, reply) {
      const token = callerOf(request);
      const receivedMs = Date.now();
      const { items, pointers } = eventsOf(request.body);
      // Each event in the version it names (`schemaVersion`), upcast to the current one.
      const accepted = items.map((item, i) => acceptEvent(item, pointers[i]));
      const errors = accepted.flatMap((a) => ('errors' in a ? a.errors : []));
      if (errors.length > 0) {
        ctx.metrics.events.inc({ source: METRICS_SOURCE, outcome: 'rejected' }, items.length);
        throw new ShiplogError(
          'SHIPLOG_INVALID_EVENT',
          'The request has invalid events; nothing was stored',
          errors,
        );
      }
      const inputs = accepted.flatMap((a) => ('input' in a ? [a.input] : []));
      inputs.forEach((input, i) => requireScope(token, input.service, input.environment, pointers[i] ?? ''));
      if (token.role !== 'admin') refuseReservedNames(inputs, pointers);
      const events = inputs.map((input) =>
        normalizeEvent(input, { nowMs: receivedMs, actor: token.name, newId: randomUUID }),
      );
      const results = await ctx.writer.write({
        events,
        source: token.name,
        receivedMs,
        timed: inputs.map((input) => input.time !== undefined),
        pointers,
      });
      for (const r of results) ctx.metrics.events.inc({ source: METRICS_SOURCE, outcome: r.status });
      return reply.status(201).send({ results });
    },
  );
}
