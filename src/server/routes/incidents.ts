/**
 * Incidents (DESIGN.md §9): `POST /v1/incidents` (admin, or a deployer within its services),
 * `GET /v1/incidents` and `GET /v1/incidents/{key}` with its ranked suspects (any role).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import {
  INCIDENT_STATUSES,
  IncidentInputSchema,
  validateIncidentInput,
  type IncidentInputBody,
  type IncidentReport,
} from '../../domain/incident.js';
import { ShiplogError } from '../../errors.js';
import { INCIDENT_SOURCES } from '../../ingest/incident-source.js';
import type { Incidents } from '../../correlate/incidents.js';
import { buildTimeline, timelineMarkdown } from '../../correlate/postmortem.js';
import { dependencyClosure } from '../../domain/correlation.js';
import { toIncidentView } from '../../store/incidents-repository.js';
import type { Token } from '../../store/tokens-repository.js';
import { callerOf } from '../access.js';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit, Name, Time, timeParam } from './shared.js';

const ListQuery = Type.Object(
  {
    service: Type.Optional(Name),
    environment: Type.Optional(Name),
    status: Type.Optional(Type.Enum(INCIDENT_STATUSES)),
    since: Type.Optional(Time),
    until: Type.Optional(Time),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

/** Incident keys the receivers write: only they (and admins) may use these prefixes. */
const RESERVED_PREFIXES = new Set([...INCIDENT_SOURCES, 'cdevents']);

const KeyParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }) });

/** A report from a validated `POST /v1/incidents` body. */
export function reportOfBody(body: IncidentInputBody, source: string, newKey: () => string): IncidentReport {
  return {
    key: body.key ?? newKey(),
    kind: body.kind,
    title: body.title,
    service: body.service,
    environment: body.environment,
    region: body.region,
    severity: body.severity,
    status: body.status,
    startedMs: body.startedAt === undefined ? undefined : Date.parse(body.startedAt),
    resolvedMs: body.resolvedAt === undefined ? undefined : Date.parse(body.resolvedAt),
    url: body.url,
    ticket: body.ticket,
    causedBy: body.causedBy,
    labels: body.labels,
    source,
  };
}

/** A deployer token may report incidents only of its services (and environments). */
function requireIncidentScope(token: Token, body: IncidentInputBody): void {
  const scopes = token.scopes;
  if (!scopes) return;
  if (scopes.services && !scopes.services.includes(body.service)) {
    throw new ShiplogError(
      'SHIPLOG_FORBIDDEN',
      `Token "${token.name}" may not report incidents of "${body.service}"`,
      [{ path: '/service', message: `is outside the token's services (${scopes.services.join(', ')})` }],
    );
  }
  if (scopes.environments) {
    const environment = body.environment;
    if (environment === undefined || !scopes.environments.includes(environment)) {
      throw new ShiplogError('SHIPLOG_FORBIDDEN', `Token "${token.name}" may not report this incident`, [
        {
          path: '/environment',
          message:
            environment === undefined
              ? `is required for a token limited to environments (${scopes.environments.join(', ')})`
              : `is outside the token's environments (${scopes.environments.join(', ')})`,
        },
      ]);
    }
  }
}

function dependencyServices(service: string, map: Map<string, string[]>, depth: number): string[] {
  return [...dependencyClosure(service, (s) => map.get(s) ?? [], depth)];
}

export function registerIncidentRoutes(app: FastifyInstance, ctx: AppContext, incidents: Incidents): void {
  app.post(
    '/v1/incidents',
    {
      schema: {
        summary: 'Record an incident, or update the one with the same key',
        tags: ['incidents'],
        body: IncidentInputSchema,
        response: { '4xx': ErrorResponse },
      },
      config: { access: 'incidents:write' },
      // Validated below, so every bad field is named by its pointer.
      validatorCompiler: () => (value) => ({ value }),
    },
    async function recordIncident(request, reply) {
      const token = callerOf(request);
      const errors = validateIncidentInput(request.body);
      if (errors.length > 0) {
        throw new ShiplogError(
          'SHIPLOG_INVALID_REQUEST',
          'The incident is invalid; nothing was stored',
          errors,
        );
      }
      const body = request.body as IncidentInputBody;
      requireIncidentScope(token, body);
      const reserved = body.key?.split(':')[0];
      if (
        token.role !== 'admin' &&
        reserved !== undefined &&
        RESERVED_PREFIXES.has(reserved) &&
        body.key?.includes(':')
      ) {
        throw new ShiplogError(
          'SHIPLOG_FORBIDDEN',
          `Keys starting with "${reserved}:" belong to the ${reserved} receiver`,
          [{ path: '/key', message: `is reserved for /v1/webhooks/${reserved} (or an admin token)` }],
        );
      }
      const report = reportOfBody(body, token.name, () => `inc-${randomBytes(9).toString('base64url')}`);
      const [result] = await incidents.record([report], token.name, undefined, (stored) => {
        // Updating an incident of another service is writing that service.
        if (stored?.service != null && stored.service !== body.service) {
          requireIncidentScope(token, { ...body, service: stored.service });
        }
      });
      if (!result) throw new ShiplogError('SHIPLOG_INTERNAL');
      return reply
        .status(201)
        .send({ incident: result.incident, status: result.status, ledgerIndex: result.ledgerIndex });
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/incidents',
    {
      config: { access: 'read' },
      schema: {
        summary: 'List incidents, newest start first',
        tags: ['incidents'],
        querystring: ListQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function list(request) {
      const q = request.query;
      return ctx.store.incidents.list({
        service: q.service,
        environment: q.environment,
        status: q.status,
        sinceMs: timeParam(q.since, 'since'),
        untilMs: timeParam(q.until, 'until'),
        limit: q.limit ?? 50,
        cursor: q.cursor,
      });
    },
  );

  app.get<{ Params: Static<typeof KeyParams> }>(
    '/v1/incidents/:key',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One incident with its suspect deployments, most likely first',
        tags: ['incidents'],
        params: KeyParams,
        response: { '4xx': ErrorResponse },
      },
    },
    async function show(request) {
      const incident = await incidents.get(request.params.key);
      if (!incident) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No incident "${request.params.key}"`);
      return { ...toIncidentView(incident), suspects: await incidents.suspects(incident) };
    },
  );

  const TimelineQuery = Type.Object(
    { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('md')])) },
    { additionalProperties: false },
  );
  app.get<{ Params: Static<typeof KeyParams>; Querystring: Static<typeof TimelineQuery> }>(
    '/v1/incidents/:key/timeline',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The post-mortem timeline of an incident (format=json, or md for a post-mortem document)',
        tags: ['incidents'],
        params: KeyParams,
        querystring: TimelineQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function timeline(request, reply) {
      const incident = await incidents.get(request.params.key);
      if (!incident) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No incident "${request.params.key}"`);
      const map = await incidents.dependencies();
      const services =
        incident.service === null
          ? []
          : [
              incident.service,
              ...dependencyServices(incident.service, map, incidents.settings.dependencyDepth),
            ];
      const fromMs = incident.startedMs - incidents.settings.lookbackHours * 3_600_000;
      const toMs = incident.resolvedMs ?? Date.now();
      const [suspects, rows, changes] = await Promise.all([
        incidents.suspects(incident),
        ctx.store.incidents.timeline(services, fromMs, toMs),
        ctx.store.incidents.changes(incident.key),
      ]);
      const all = [
        ...rows,
        ...changes.map((c) => ({
          atMs: Number(c.at_ms),
          kind: 'incident_change' as const,
          what: `incident ${incident.key} ${c.outcome}: ${c.status}${c.severity === null ? '' : ` ${c.severity}`}`,
          who: c.actor,
          ledgerIndex: c.ledger_index === null ? null : Number(c.ledger_index),
        })),
      ];
      const result = buildTimeline(incident, services, { fromMs, toMs }, suspects, all);
      if (request.query.format === 'md') {
        return reply.type('text/markdown; charset=utf-8').send(timelineMarkdown(result, incident));
      }
      return result;
    },
  );
}
