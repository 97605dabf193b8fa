/**
 * `POST /v1/webhooks/{source}` (DESIGN.md §7) and the admin view of the delivery log.
 *
 * The routes live in their own plugin scope with one content-type parser that keeps the raw
 * bytes: GitHub's HMAC is computed over exactly what was sent, and tools send JSON under many
 * content types (or none: Argo CD sends only the headers it is configured with). Tools disable
 * hooks that keep failing, so a payload shiplog does not use is answered 202, never 5xx.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { normalizeEvent } from '../../domain/event.js';
import { ShiplogError, isShiplogError } from '../../errors.js';
import {
  SECRET_HEADERS,
  WEBHOOK_SOURCES,
  adaptWebhook,
  authenticateWebhook,
  secretVariable,
  type IngestMappings,
  type WebhookSource,
} from '../../ingest/sources.js';
import { INCIDENT_SOURCES } from '../../ingest/incident-source.js';
import type { AdapterResult, WebhookRequest } from '../../ingest/types.js';
import type { DeliveriesRepository, DeliveryOutcome } from '../../store/webhook-deliveries-repository.js';
import {
  createCdeventsForwarder,
  type OutboundSink,
  type ForwarderOptions,
} from '../../outbound/cdevents-forwarder.js';
import type { AppContext } from '../context.js';
import { observeForwarder } from '../metrics.js';
import { ErrorResponse } from './shared.js';

/** What `buildApp` needs for webhooks: secrets by source, and the config's mappings. */
export interface WebhookOptions {
  /** Secret or token per source (RuntimeConfig.webhookSecrets). A source without one refuses everything. */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly mappings?: IngestMappings;
  /** CDEvents sinks to forward stored events to (`webhooks.outbound:` of shiplog.yaml). */
  readonly outbound?: { readonly sinks: readonly OutboundSink[] } & Omit<ForwarderOptions, 'logger'>;
  /**
   * Told of each newly stored record (CDEvents incident.*, ...); what it answers is added to
   * the 202 answer. Incidents use it to turn CDEvents incident records into incidents.
   */
  readonly onRecord?: (record: StoredRecord) => Promise<Record<string, unknown> | undefined>;
}

/** A record a webhook delivery stored. */
export interface StoredRecord {
  readonly id: string;
  readonly source: string;
  readonly recordType: string;
  readonly timeMs: number;
  readonly data: unknown;
}

/** Header names carrying the tool's delivery id, in order of preference. */
const DELIVERY_HEADERS = ['x-github-delivery', 'idempotency-key', 'x-gitlab-event-uuid', 'ce-id'];

export function registerWebhookRoutes(
  app: FastifyInstance,
  ctx: AppContext,
  options: WebhookOptions = {},
): void {
  const deliveries = ctx.store.webhookDeliveries;
  void app.register(async function webhooks(scope) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, function keepRawBody(_request, body, done) {
      done(null, body);
    });
    for (const source of WEBHOOK_SOURCES) {
      scope.post(
        `/v1/webhooks/${source}`,
        {
          // Authenticated by the tool's own signature or token (below), not by a bearer token.
          config: { access: 'public' },
          schema: {
            summary: `Receive a ${source} webhook`,
            description: `Authenticated by ${secretVariable(source)} (DESIGN.md §7), not by a bearer token of shiplog.`,
            tags: ['webhooks'],
            security: [],
          },
          onRequest: async function refuseUnauthenticated(request, reply) {
            await refuseBeforeBody(source, request, reply, { ctx, deliveries, options });
          },
        },
        async function receiveWebhook(request, reply) {
          return receive(source, request, reply, { ctx, deliveries, options });
        },
      );
    }
    registerDeliveryRoutes(scope, ctx, deliveries);
    registerDeadLetterRoutes(scope, ctx);
  });
  const sinks = options.outbound?.sinks ?? [];
  if (sinks.length > 0) {
    const forwarder = createCdeventsForwarder(ctx.store, sinks, { ...options.outbound, logger: app.log });
    observeForwarder(ctx.metrics.registry, () => forwarder.status());
    ctx.leader.every('cdevents-forwarder', options.outbound?.intervalMs ?? 1000, async () => {
      await forwarder.tick();
    });
    // Before the leader waits for its tasks: stopping cuts the forwarder's retries short.
    app.addHook('preClose', async () => forwarder.stop());
  }
}

interface Deps {
  readonly ctx: AppContext;
  readonly deliveries: DeliveriesRepository;
  readonly options: WebhookOptions;
}

/**
 * Refuses, before a byte of the body is read, a delivery that cannot be authentic: no secret is
 * configured for its source, or (every source but GitHub, whose HMAC covers the body) its token
 * header is missing or wrong. An attacker then costs neither memory nor disk; the connection is
 * closed so the unread body is not drained either.
 */
async function refuseBeforeBody(
  source: WebhookSource,
  request: FastifyRequest,
  reply: FastifyReply,
  { ctx, deliveries, options }: Deps,
): Promise<void> {
  const secret = options.secrets?.[source];
  let error: ShiplogError | undefined;
  if (secret === undefined || secret === '') {
    error = new ShiplogError(
      'SHIPLOG_BAD_SIGNATURE',
      `No secret is configured for ${source} webhooks: set ${secretVariable(source)} in the server's environment`,
    );
  } else if (source !== 'github') {
    const req: WebhookRequest = { headers: headersOf(request), rawBody: Buffer.alloc(0), body: undefined };
    if (!authenticateWebhook(source, req, secret)) {
      error = new ShiplogError('SHIPLOG_BAD_SIGNATURE', signatureHelp(source));
    }
  }
  if (error === undefined) return;
  void reply.header('connection', 'close');
  await logRejection(source, request, error, { ctx, deliveries });
  throw error;
}

/**
 * Counts a delivery that failed authentication and keeps a small record of it (no body, no
 * headers: anyone can send these, so they must not fill the disk). The repository keeps only
 * the newest few per source.
 */
export async function logRejection(
  source: string,
  request: FastifyRequest,
  error: ShiplogError,
  { ctx, deliveries }: Pick<Deps, 'ctx' | 'deliveries'>,
): Promise<void> {
  ctx.metrics.events.inc({ source: `webhook:${source}`, outcome: 'rejected' });
  const headers = headersOf(request);
  const declared = Number(headers['content-length']);
  try {
    await deliveries.insertRejected({
      id: randomUUID(),
      source,
      deliveryId: DELIVERY_HEADERS.map((h) => headers[h]).find((v) => v !== undefined),
      status: error.status,
      summary: error.message,
      bodyBytes: Buffer.isBuffer(request.body)
        ? request.body.length
        : Number.isSafeInteger(declared)
          ? declared
          : 0,
      createdMs: Date.now(),
    });
  } catch (failure) {
    request.log.warn({ err: failure }, 'could not record the rejected webhook delivery');
  }
}

function headersOf(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

async function receive(
  source: WebhookSource,
  request: FastifyRequest,
  reply: FastifyReply,
  { ctx, deliveries, options }: Deps,
): Promise<FastifyReply> {
  const receivedMs = Date.now();
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const headers = headersOf(request);
  const req: WebhookRequest = { headers, rawBody, body: formPayload(headers, rawBody) };
  const log = async (status: number, outcome: DeliveryOutcome, summary: string, deliveryId?: string) => {
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (!SECRET_HEADERS.has(name)) kept[name] = value;
    try {
      await deliveries.insert({
        id: randomUUID(),
        source,
        deliveryId: deliveryId ?? DELIVERY_HEADERS.map((h) => headers[h]).find((v) => v !== undefined),
        headers: kept,
        rawBody,
        status,
        outcome,
        summary,
        createdMs: receivedMs,
      });
    } catch (error) {
      // The log is for debugging: losing one entry must not fail the delivery.
      request.log.warn({ err: error }, 'could not record the webhook delivery');
    }
  };
  const rejected = async (error: ShiplogError, outcome: DeliveryOutcome): Promise<never> => {
    ctx.metrics.events.inc({ source: `webhook:${source}`, outcome: 'rejected' });
    await log(error.status, outcome, error.message);
    throw error;
  };

  // refuseBeforeBody has checked that a secret exists; GitHub's HMAC needs the body.
  const secret = options.secrets?.[source] ?? '';
  if (!authenticateWebhook(source, req, secret)) {
    const error = new ShiplogError('SHIPLOG_BAD_SIGNATURE', signatureHelp(source));
    await logRejection(source, request, error, { ctx, deliveries });
    throw error;
  }

  let result: AdapterResult;
  try {
    result = adaptWebhook(source, req, options.mappings);
  } catch (error) {
    if (isShiplogError(error) && error.status < 500) return rejected(error, 'invalid');
    // An adapter bug must not turn a tool's payload into a 5xx the tool would retry forever.
    request.log.error({ err: error }, 'webhook adapter failed');
    return rejected(
      new ShiplogError('SHIPLOG_INVALID_REQUEST', 'The webhook payload could not be read'),
      'invalid',
    );
  }

  if (result.kind === 'ignored') {
    await log(202, 'ignored', result.reason);
    return reply.status(202).send({ ignored: result.reason });
  }
  if (result.kind === 'record') {
    const timeMs = Date.parse(result.time);
    const inserted = await ctx.store.webhookRecords.insert({
      id: result.id,
      source,
      recordType: result.recordType,
      eventSource: result.source,
      timeMs: Number.isFinite(timeMs) ? timeMs : receivedMs,
      data: result.data,
      createdMs: receivedMs,
    });
    const status = inserted ? 'stored' : 'duplicate';
    const extra = options.onRecord
      ? await options.onRecord({
          id: result.id,
          source,
          recordType: result.recordType,
          timeMs: Number.isFinite(timeMs) ? timeMs : receivedMs,
          data: result.data,
        })
      : undefined;
    await log(202, 'record', `${result.recordType} ${result.id} ${status}`);
    return reply.status(202).send({ recorded: { id: result.id, type: result.recordType, status }, ...extra });
  }

  const name = `webhook:${source}`;
  const events = result.events.map((input) =>
    normalizeEvent(input, { nowMs: receivedMs, actor: name, newId: randomUUID }),
  );
  let results;
  try {
    results = await ctx.writer.write({
      events,
      source: name,
      receivedMs,
      timed: result.events.map((input) => input.time !== undefined),
      pointers: result.events.map((_, i) => `/events/${i}`),
    });
  } catch (error) {
    if (isShiplogError(error) && error.status < 500) return rejected(error, 'invalid');
    throw error;
  }
  for (const r of results) ctx.metrics.events.inc({ source: name, outcome: r.status });
  const outcome = results.every((r) => r.status === 'duplicate') ? 'duplicate' : 'stored';
  await log(201, outcome, results.map((r) => `${r.id} ${r.status}`).join('; '), result.deliveryId);
  return reply.status(201).send({ results });
}

/**
 * GitHub sends `application/x-www-form-urlencoded` with the JSON in `payload` when the hook is
 * set to that content type; everything else is read by the adapters from the raw bytes.
 */
function formPayload(headers: Readonly<Record<string, string>>, rawBody: Buffer): unknown {
  if (!headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    return undefined;
  const payload = new URLSearchParams(rawBody.toString('utf8')).get('payload');
  if (payload === null) return undefined;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return payload; // not an object: the adapter answers 400
  }
}

function signatureHelp(source: WebhookSource): string {
  switch (source) {
    case 'github':
      return 'X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the body with SHIPLOG_GITHUB_WEBHOOK_SECRET';
    case 'gitlab':
      return 'X-Gitlab-Token is missing or does not equal SHIPLOG_GITLAB_WEBHOOK_TOKEN';
    default:
      return `Send ${secretVariable(source)} as "Authorization: Bearer <token>" (or as the Basic auth password)`;
  }
}

const DeliveryView = Type.Object({
  id: Type.String(),
  source: Type.String(),
  deliveryId: Type.Union([Type.String(), Type.Null()]),
  status: Type.Integer(),
  outcome: Type.String(),
  summary: Type.String(),
  createdAt: Type.String(),
  bodyBytes: Type.Integer(),
  truncated: Type.Boolean(),
});

function registerDeliveryRoutes(
  scope: FastifyInstance,
  ctx: AppContext,
  deliveries: DeliveriesRepository,
): void {
  scope.get(
    '/v1/webhooks/deliveries',
    {
      config: { access: 'webhooks:inspect' },
      schema: {
        summary: 'List webhook deliveries of the last 7 days (admin)',
        tags: ['webhooks'],
        querystring: Type.Object(
          {
            source: Type.Optional(Type.Enum([...WEBHOOK_SOURCES, ...INCIDENT_SOURCES])),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(DeliveryView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          '4xx': ErrorResponse,
        },
      },
    },
    async function listDeliveries(request) {
      const query = request.query as { source?: string; limit: number; cursor?: string };
      return deliveries.list(query);
    },
  );
  scope.get(
    '/v1/webhooks/deliveries/:id',
    {
      config: { access: 'webhooks:inspect' },
      schema: {
        summary: 'One webhook delivery with its headers (secrets removed) and body (admin)',
        tags: ['webhooks'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: {
          200: Type.Intersect([
            DeliveryView,
            Type.Object({
              headers: Type.Record(Type.String(), Type.String()),
              body: Type.String(),
              bodyEncoding: Type.Enum(['utf8', 'base64']),
            }),
          ]),
          '4xx': ErrorResponse,
        },
      },
    },
    async function getDelivery(request) {
      const { id } = request.params as { id: string };
      const delivery = await deliveries.get(id);
      if (!delivery) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No webhook delivery ${id} (kept 7 days)`);
      return delivery;
    },
  );
}

function registerDeadLetterRoutes(scope: FastifyInstance, ctx: AppContext): void {
  scope.get(
    '/v1/webhooks/outbound/dead-letters',
    {
      config: { access: 'webhooks:inspect' },
      schema: {
        summary: 'CDEvents a sink did not accept after every retry (admin)',
        tags: ['webhooks'],
        querystring: Type.Object(
          {
            sink: Type.Optional(Type.String({ maxLength: 63 })),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async function listDeadLetters(request) {
      const { sink, limit, cursor } = request.query as { sink?: string; limit: number; cursor?: string };
      return ctx.store.deadLetters.list({ sink, limit, cursor });
    },
  );
}
