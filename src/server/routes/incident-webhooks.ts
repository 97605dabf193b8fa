/**
 * The incident receivers (DESIGN.md §9): `POST /v1/webhooks/{pagerduty|opsgenie|alertmanager|
 * grafana|jira}`, each authenticated by the tool's own mechanism, never by a shiplog token:
 *
 * - pagerduty: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the body>` (any of several);
 * - grafana: `X-Grafana-Alerting-Signature` (HMAC, optionally over `<timestamp>:<body>`) or
 *   the token as bearer / basic password;
 * - jira: `X-Hub-Signature: sha256=<hex HMAC-SHA256>` (admin webhooks with a secret) or the token;
 * - opsgenie, alertmanager, incident (the generic receiver, `mappings.incident`): the token as
 *   `Authorization: Bearer` or the basic auth password.
 *
 * The secret is `SHIPLOG_<TOOL>_WEBHOOK_SECRET` (or `_TOKEN`). A wrong or missing signature is
 * a 401 with nothing stored; a malformed payload a 400 naming the field; a valid payload that
 * is not an incident a 202 `{"ignored": reason}`; the incidents of one delivery are recorded
 * in one transaction (201). Every delivery goes to the delivery log, secrets removed.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShiplogError, isShiplogError } from '../../errors.js';
import { adaptAlertGroup } from '../../ingest/alert-group.js';
import {
  INCIDENT_SOURCES,
  type IncidentAdapterResult,
  type IncidentSource,
} from '../../ingest/incident-source.js';
import { adaptGenericIncident } from '../../ingest/generic-incident.js';
import { adaptJira } from '../../ingest/jira.js';
import type { AdapterOptions } from '../../ingest/mapping.js';
import { adaptOpsgenie } from '../../ingest/opsgenie.js';
import { adaptPagerduty } from '../../ingest/pagerduty.js';
import { header } from '../../ingest/payload.js';
import {
  verifyGithubSignature,
  verifyGrafanaSignature,
  verifyPagerDutySignature,
  verifySharedToken,
} from '../../ingest/signature.js';
import { SECRET_HEADERS, presentedToken, type IngestMappings } from '../../ingest/sources.js';
import type { WebhookRequest } from '../../ingest/types.js';
import type { DeliveriesRepository, DeliveryOutcome } from '../../store/webhook-deliveries-repository.js';
import type { AppContext } from '../context.js';
import { logRejection } from './webhooks.js';

/** Headers that carry the incident tools' signatures: never logged. */
const INCIDENT_SECRET_HEADERS = new Set(['x-grafana-alerting-signature']);
const DELIVERY_HEADERS = ['x-webhook-id', 'x-atlassian-webhook-identifier', 'idempotency-key'];

export interface IncidentWebhookOptions {
  readonly secrets?: Readonly<Record<string, string>> | undefined;
  readonly mappings?: IngestMappings | undefined;
}

/** The environment variable of a tool's secret. */
export function incidentSecretVariable(source: IncidentSource): string {
  return source === 'pagerduty' || source === 'jira'
    ? `SHIPLOG_${source.toUpperCase()}_WEBHOOK_SECRET`
    : `SHIPLOG_${source.toUpperCase()}_WEBHOOK_TOKEN`;
}

/** Whether the delivery carries the tool's signature or token (constant-time checks). */
export function authenticateIncidentWebhook(
  source: IncidentSource,
  req: WebhookRequest,
  secret: string,
): boolean {
  const token = () => verifySharedToken(presentedToken(req), secret);
  switch (source) {
    case 'pagerduty':
      return verifyPagerDutySignature(req.rawBody, header(req, 'x-pagerduty-signature'), secret);
    case 'grafana': {
      const signature = header(req, 'x-grafana-alerting-signature');
      if (signature === undefined) return token();
      return verifyGrafanaSignature(
        req.rawBody,
        signature,
        header(req, 'x-grafana-alerting-timestamp'),
        secret,
      );
    }
    case 'jira': {
      const signature = header(req, 'x-hub-signature');
      return signature === undefined ? token() : verifyGithubSignature(req.rawBody, signature, secret);
    }
    case 'opsgenie':
    case 'alertmanager':
    case 'incident':
      return token();
  }
}

/** Runs the tool's adapter (pure) with its mapping rules. */
export function adaptIncidentWebhook(
  source: IncidentSource,
  req: WebhookRequest,
  mappings: IngestMappings = {},
): IncidentAdapterResult {
  const rules = mappings.rules?.[source];
  const options: AdapterOptions = rules === undefined ? {} : { rules };
  switch (source) {
    case 'pagerduty':
      return adaptPagerduty(req, options);
    case 'opsgenie':
      return adaptOpsgenie(req, options);
    case 'alertmanager':
    case 'grafana':
      return adaptAlertGroup(source, req, options);
    case 'jira':
      return adaptJira(req, options);
    case 'incident':
      if (mappings.incident === undefined)
        return {
          kind: 'ignored',
          reason: 'no incident mapping is configured: add mappings.incident to shiplog.yaml',
        };
      return adaptGenericIncident(req, mappings.incident, options);
  }
}

function signatureHelp(source: IncidentSource): string {
  const variable = incidentSecretVariable(source);
  switch (source) {
    case 'pagerduty':
      return `X-PagerDuty-Signature is missing or has no v1= HMAC-SHA256 of the body with ${variable}`;
    case 'grafana':
      return `Send ${variable} as "Authorization: Bearer <token>" or sign with X-Grafana-Alerting-Signature`;
    case 'jira':
      return `X-Hub-Signature is missing or is not sha256=<HMAC-SHA256 of the body with ${variable}>`;
    default:
      return `Send ${variable} as "Authorization: Bearer <token>" (or as the Basic auth password)`;
  }
}

export function registerIncidentWebhookRoutes(
  app: FastifyInstance,
  ctx: AppContext,
  options: IncidentWebhookOptions = {},
): void {
  const deliveries = ctx.store.webhookDeliveries;
  void app.register(async function incidentWebhooks(scope) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, function keepRawBody(_request, body, done) {
      done(null, body);
    });
    for (const source of INCIDENT_SOURCES) {
      scope.post(
        `/v1/webhooks/${source}`,
        {
          config: { access: 'public' },
          schema: {
            summary: `Receive a ${source} incident webhook`,
            description: `Authenticated by ${incidentSecretVariable(source)} (docs/incidents.md), not by a bearer token of shiplog.`,
            tags: ['webhooks', 'incidents'],
            security: [],
          },
          // A source with no secret configured is refused before a byte of the body is read.
          onRequest: async function refuseUnconfigured(request, reply) {
            const secret = options.secrets?.[source];
            if (secret !== undefined && secret !== '') return;
            void reply.header('connection', 'close');
            const error = new ShiplogError(
              'SHIPLOG_BAD_SIGNATURE',
              `No secret is configured for ${source} webhooks: set ${incidentSecretVariable(source)} in the server's environment`,
            );
            await logRejection(source, request, error, { ctx, deliveries });
            throw error;
          },
        },
        async function receiveIncidentWebhook(request, reply) {
          return receive(source, request, reply, ctx, deliveries, options);
        },
      );
    }
  });
}

async function receive(
  source: IncidentSource,
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: AppContext,
  deliveries: DeliveriesRepository,
  options: IncidentWebhookOptions,
): Promise<FastifyReply> {
  const receivedMs = Date.now();
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const req: WebhookRequest = { headers, rawBody, body: undefined };
  const log = async (status: number, outcome: DeliveryOutcome, summary: string) => {
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!SECRET_HEADERS.has(name) && !INCIDENT_SECRET_HEADERS.has(name)) kept[name] = value;
    }
    try {
      await deliveries.insert({
        id: randomUUID(),
        source,
        deliveryId: DELIVERY_HEADERS.map((h) => headers[h]).find((v) => v !== undefined),
        headers: kept,
        rawBody,
        status,
        outcome,
        summary,
        createdMs: receivedMs,
      });
    } catch (error) {
      request.log.warn({ err: error }, 'could not record the webhook delivery');
    }
  };
  const rejected = async (error: ShiplogError, outcome: DeliveryOutcome): Promise<never> => {
    // Anyone can send an unauthenticated delivery: keep only a small record, never its body.
    if (outcome === 'unauthorized') {
      await logRejection(source, request, error, { ctx, deliveries });
    } else {
      ctx.metrics.events.inc({ source: `webhook:${source}`, outcome: 'rejected' });
      await log(error.status, outcome, error.message);
    }
    throw error;
  };

  const secret = options.secrets?.[source];
  if (secret === undefined || secret === '') {
    return rejected(
      new ShiplogError(
        'SHIPLOG_BAD_SIGNATURE',
        `No secret is configured for ${source} webhooks: set ${incidentSecretVariable(source)} in the server's environment`,
      ),
      'unauthorized',
    );
  }
  if (!authenticateIncidentWebhook(source, req, secret)) {
    return rejected(new ShiplogError('SHIPLOG_BAD_SIGNATURE', signatureHelp(source)), 'unauthorized');
  }

  let result: IncidentAdapterResult;
  try {
    result = adaptIncidentWebhook(source, req, options.mappings);
  } catch (error) {
    if (isShiplogError(error) && error.status < 500) return rejected(error, 'invalid');
    request.log.error({ err: error }, 'incident webhook adapter failed');
    return rejected(
      new ShiplogError('SHIPLOG_INVALID_REQUEST', 'The webhook payload could not be read'),
      'invalid',
    );
  }
  if (result.kind === 'ignored') {
    await log(202, 'ignored', result.reason);
    return reply.status(202).send({ ignored: result.reason });
  }
  const recorded = await ctx.incidents.record(result.incidents, `webhook:${source}`);
  const outcome = recorded.every((r) => r.status === 'unchanged') ? 'duplicate' : 'stored';
  await log(201, outcome, recorded.map((r) => `${r.incident.key} ${r.status}`).join('; '));
  return reply.status(201).send({
    incidents: recorded.map((r) => ({
      key: r.incident.key,
      status: r.status,
      incidentStatus: r.incident.status,
      ledgerIndex: r.ledgerIndex,
    })),
  });
}
