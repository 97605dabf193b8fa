/**
 * `GET /v1/stream`: Server-Sent Events of every deployment event, approval, gate decision,
 * incident change and alert as it commits (DESIGN.md §12), `id:` the ledger index, so
 * `Last-Event-ID` resumes without loss. The fan-out is src/stream/hub.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ShiplogError } from '../../errors.js';
import { acceptsDeflate } from '../../stream/deflate.js';
import { STREAM_EVENTS, type StreamEvent, type StreamHub } from '../../stream/hub.js';
import { ErrorResponse, Name } from './shared.js';

const StreamQuery = Type.Object(
  {
    events: Type.Optional(
      Type.String({ maxLength: 200, description: `comma-separated subset of ${STREAM_EVENTS.join(', ')}` }),
    ),
    service: Type.Optional(Name),
    environment: Type.Optional(Name),
    lastEventId: Type.Optional(
      Type.Integer({ minimum: -1, description: 'as the Last-Event-ID header (which wins)' }),
    ),
  },
  { additionalProperties: false },
);

function eventsOf(text: string | undefined): Set<StreamEvent> {
  if (text === undefined || text === '') return new Set(STREAM_EVENTS);
  const names = text.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(STREAM_EVENTS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', `Unknown stream events: ${unknown.join(', ')}`, [
      { path: 'events', message: `must be a comma-separated subset of ${STREAM_EVENTS.join(', ')}` },
    ]);
  }
  return new Set(names as StreamEvent[]);
}

function lastEventIdOf(header: string | string[] | undefined, query: number | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return query;
  if (!/^-?[0-9]{1,16}$/.test(value.trim())) {
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', 'Last-Event-ID is not a ledger index', [
      { path: 'last-event-id', message: 'must be an integer (an id this stream sent)' },
    ]);
  }
  return Number(value.trim());
}

export function registerStreamRoutes(app: FastifyInstance, hub: StreamHub): void {
  app.get<{ Querystring: Static<typeof StreamQuery> }>(
    '/v1/stream',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Live updates as Server-Sent Events (event: deployment|approval|gate|incident|alert; id: ledger index; Last-Event-ID resumes)',
        tags: ['stream'],
        querystring: StreamQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function stream(request, reply) {
      const filter = {
        events: eventsOf(request.query.events),
        service: request.query.service,
        environment: request.query.environment,
      };
      const lastEventId = lastEventIdOf(request.headers['last-event-id'], request.query.lastEventId);
      const deflate = acceptsDeflate(request.headers['accept-encoding']);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        vary: 'accept-encoding',
        ...(deflate ? { 'content-encoding': 'deflate' } : {}),
      });
      try {
        await hub.attach(res, filter, lastEventId, deflate ? 'deflate' : 'identity');
      } catch (error) {
        request.log.warn({ err: error }, 'stream failed');
        res.end();
      }
    },
  );
}
