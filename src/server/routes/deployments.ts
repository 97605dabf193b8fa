/** Deployments, their timelines, the environments summary, past state and event sources. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { KINDS } from '../../domain/event.js';
import { STATUSES } from '../../domain/lifecycle.js';
import { ShiplogError } from '../../errors.js';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit, Name, Time, page, timeParam } from './shared.js';
import { MAX_TIMELINE_PAGE } from '../../store/deployments-repository.js';
import { archivedDeployment, archivedInstant } from '../../retention/tiers.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const NStr = Nullable(Type.String());

const Deployment = Type.Object({
  deployment: Type.String(),
  service: Type.String(),
  environment: Type.String(),
  region: NStr,
  instance: NStr,
  cohort: NStr,
  traffic: Nullable(Type.Number()),
  kind: Type.String(),
  version: NStr,
  commit: NStr,
  actor: Type.String(),
  ticket: NStr,
  build: Nullable(
    Type.Object({
      id: Type.Optional(Type.String()),
      url: Type.Optional(Type.String()),
      provider: Type.Optional(Type.String()),
    }),
  ),
  labels: Nullable(Type.Record(Type.String(), Type.String())),
  status: Type.Enum(STATUSES),
  requestedAt: NStr,
  startedAt: NStr,
  finishedAt: NStr,
  rolledBackAt: NStr,
  durationMs: Nullable(Type.Integer()),
  updatedAt: Type.String(),
});

const ListQuery = Type.Object(
  {
    service: Type.Optional(Name),
    environment: Type.Optional(Name),
    region: Type.Optional(Name),
    status: Type.Optional(Type.Enum(STATUSES)),
    kind: Type.Optional(Type.Enum(KINDS)),
    actor: Type.Optional(Type.String({ maxLength: 128 })),
    since: Type.Optional(Time),
    until: Type.Optional(Time),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

const Summary = Type.Object({
  deployment: Type.String(),
  version: NStr,
  since: NStr,
  deployedBy: NStr,
});

const EnvironmentItem = Type.Object({
  service: Type.String(),
  environment: Type.String(),
  region: NStr,
  current: Nullable(Summary),
  inProgress: Nullable(Type.Object({ ...Summary.properties, count: Type.Integer() })),
});

export function registerDeploymentRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { deployments } = ctx.store;

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/deployments',
    {
      config: { access: 'read' },
      schema: {
        summary: 'List deployments, newest first',
        tags: ['deployments'],
        querystring: ListQuery,
        response: { 200: page(Deployment), '4xx': ErrorResponse },
      },
    },
    async function list(request) {
      const q = request.query;
      return deployments.list({
        ...q,
        limit: q.limit ?? 50,
        sinceMs: timeParam(q.since, 'since'),
        untilMs: timeParam(q.until, 'until'),
      });
    },
  );

  const TimelineQuery = Type.Object(
    {
      eventsLimit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: MAX_TIMELINE_PAGE, description: `default ${MAX_TIMELINE_PAGE}` }),
      ),
      eventsCursor: Type.Optional(Cursor),
    },
    { additionalProperties: false },
  );
  app.get<{ Params: { deployment: string }; Querystring: Static<typeof TimelineQuery> }>(
    '/v1/deployments/:deployment',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One deployment with its event timeline (paged: eventsNextCursor)',
        tags: ['deployments'],
        params: Type.Object({ deployment: Type.String({ maxLength: 256 }) }),
        querystring: TimelineQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function show(request) {
      const archived = await archivedDeployment(ctx.store, request.params.deployment);
      if (archived) throw archived;
      const found = await deployments.get(request.params.deployment, {
        limit: request.query.eventsLimit ?? MAX_TIMELINE_PAGE,
        cursor: request.query.eventsCursor,
      });
      if (!found) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No deployment "${request.params.deployment}"`);
      return {
        ...found,
        incidents: await ctx.incidents.ofDeployment(found.deployment),
        verification: await ctx.verifier.ofDeployment(found.deployment),
      };
    },
  );

  const EnvQuery = Type.Object(
    {
      service: Type.Optional(Name),
      environment: Type.Optional(Name),
      limit: Type.Optional(Limit),
      cursor: Type.Optional(Cursor),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof EnvQuery> }>(
    '/v1/environments',
    {
      config: { access: 'read' },
      schema: {
        summary: 'For each service × environment × region: the version running now and what is in progress',
        tags: ['deployments'],
        querystring: EnvQuery,
        response: { 200: page(EnvironmentItem), '4xx': ErrorResponse },
      },
    },
    async function environments(request) {
      return ctx.store.environments.list({ ...request.query, limit: request.query.limit ?? 100 });
    },
  );

  const StateQuery = Type.Object(
    { environment: Name, at: Time, limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof StateQuery> }>(
    '/v1/state',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Which version of each service ran in an environment at a past instant',
        tags: ['deployments'],
        querystring: StateQuery,
        response: {
          200: page(
            Type.Object({
              service: Type.String(),
              region: NStr,
              deployment: Type.String(),
              version: NStr,
              since: NStr,
              deployedBy: Type.String(),
            }),
          ),
          '4xx': ErrorResponse,
        },
      },
    },
    async function state(request) {
      const q = request.query;
      const atMs = timeParam(q.at, 'at') as number;
      const archived = await archivedInstant(ctx.store, atMs);
      if (archived) throw archived;
      return deployments.stateAt({
        environment: q.environment,
        atMs,
        limit: q.limit ?? 100,
        cursor: q.cursor,
      });
    },
  );

  const Side = Nullable(Type.Object({ deployment: Type.String(), version: NStr }));
  const DiffQuery = Type.Object(
    { environment: Name, from: Time, to: Time, limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof DiffQuery> }>(
    '/v1/state/diff',
    {
      config: { access: 'read' },
      schema: {
        summary: 'What changed in an environment between two instants, per service and region',
        tags: ['deployments'],
        querystring: DiffQuery,
        response: {
          200: page(
            Type.Object({
              service: Type.String(),
              region: NStr,
              change: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed')]),
              from: Side,
              to: Side,
              changedBy: Type.Object({
                deployment: Type.String(),
                actor: Type.String(),
                finishedAt: NStr,
                rolledBackAt: NStr,
              }),
            }),
          ),
          '4xx': ErrorResponse,
        },
      },
    },
    async function stateDiff(request) {
      const q = request.query;
      const fromMs = timeParam(q.from, 'from') as number;
      const toMs = timeParam(q.to, 'to') as number;
      if (fromMs > toMs) {
        throw new ShiplogError('SHIPLOG_INVALID_REQUEST', undefined, [
          { path: 'from', message: 'is after to' },
        ]);
      }
      return deployments.stateDiff({
        environment: q.environment,
        fromMs,
        toMs,
        limit: q.limit ?? 100,
        cursor: q.cursor,
      });
    },
  );

  const CompareSide = Nullable(
    Type.Object({ deployment: Type.String(), version: NStr, since: NStr, deployedBy: NStr }),
  );
  const CompareQuery = Type.Object(
    { a: Name, b: Name, limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof CompareQuery> }>(
    '/v1/state/compare',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Version drift between two environments: what runs now in each, per service and region',
        tags: ['deployments'],
        querystring: CompareQuery,
        response: {
          200: page(
            Type.Object({
              service: Type.String(),
              region: NStr,
              a: CompareSide,
              b: CompareSide,
              differs: Type.Boolean(),
            }),
          ),
          '4xx': ErrorResponse,
        },
      },
    },
    async function stateCompare(request) {
      const q = request.query;
      return ctx.store.environments.compare({ a: q.a, b: q.b, limit: q.limit ?? 100, cursor: q.cursor });
    },
  );

  const SourceQuery = Type.Object(
    { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof SourceQuery> }>(
    '/v1/sources',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Event sources and their clock skew (receipt time minus event time)',
        tags: ['events'],
        querystring: SourceQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function sources(request) {
      return ctx.store.sources.list({ limit: request.query.limit ?? 100, cursor: request.query.cursor });
    },
  );
}
