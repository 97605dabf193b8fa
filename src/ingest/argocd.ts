/**
 * Argo CD notifications → deployment events. Argo CD has no fixed webhook payload: the body is
 * whatever a Go template in `argocd-notifications-cm` renders, so shiplog defines its own
 * ({@link ARGOCD_WEBHOOK_TEMPLATE}) and reads only that shape. Argo retries on 5xx and network
 * errors (retryMax 3), so every id here is derived from the sync operation itself and retried
 * duplicates are stored once.
 */
import type { EventInput, EventType } from '../domain/event.js';
import {
  type AdapterOptions,
  isCommit,
  resolveEnvironment,
  resolveRegion,
  resolveService,
  resolveVersion,
} from './mapping.js';
import { PayloadReader, cleanText, deploymentKey, eventId, finalizeEvent, jsonBody } from './payload.js';
import { toRfc3339 } from './time.js';
import type { AdapterResult, WebhookRequest } from './types.js';

/** The marker field the template writes, so a body from another template is recognised. */
export const ARGOCD_TEMPLATE_MARKER = 'shiplog.argocd/v1';

/**
 * The webhook body template shiplog ships for Argo CD. Install it as
 * `template.shiplog-deployment` in `argocd-notifications-cm`:
 *
 * ```yaml
 * service.webhook.shiplog: |
 *   url: https://shiplog.example.com/v1/webhooks/argocd
 *   headers:
 *   - name: Content-Type
 *     value: application/json
 *   - name: Authorization
 *     value: Bearer $shiplog-token
 * template.shiplog-deployment: |
 *   webhook:
 *     shiplog:
 *       method: POST          # the default is GET
 *       body: |
 *         <ARGOCD_WEBHOOK_TEMPLATE>
 * ```
 *
 * and subscribe it to `on-sync-running`, `on-sync-succeeded`, `on-sync-failed` and
 * `on-health-degraded`. The body is rendered with Go `text/template` (notifications-engine
 * `pkg/services/webhook.go`): every value goes through `toJson`, so names with quotes stay
 * valid JSON and absent values become `null`, and every object that may be missing
 * (`operationState` before the first sync, `syncResult` while Running) is entered with
 * `{{with}}`, because a field of a missing object is a template error in Go.
 */
export const ARGOCD_WEBHOOK_TEMPLATE = `{
  "shiplog": "${ARGOCD_TEMPLATE_MARKER}",
  "app": {{toJson .app.metadata.name}},
  "project": {{toJson .app.spec.project}},
  "destination": {
    "namespace": {{toJson .app.spec.destination.namespace}},
    "server": {{toJson .app.spec.destination.server}},
    "name": {{toJson .app.spec.destination.name}}
  },
  "operation": {{with .app.status.operationState}}{
    "phase": {{toJson .phase}},
    "startedAt": {{toJson .startedAt}},
    "finishedAt": {{toJson .finishedAt}},
    "revision": {{with .syncResult}}{{toJson .revision}}{{else}}null{{end}},
    "initiatedBy": {{with .operation}}{{with .initiatedBy}}{{toJson .username}}{{else}}null{{end}}{{else}}null{{end}},
    "automated": {{with .operation}}{{with .initiatedBy}}{{toJson .automated}}{{else}}null{{end}}{{else}}null{{end}},
    "message": {{toJson .message}}
  }{{else}}null{{end}},
  "health": {{with .app.status.health}}{{toJson .status}}{{else}}null{{end}},
  "syncStatus": {{with .app.status.sync}}{{toJson .status}}{{else}}null{{end}},
  "syncRevision": {{with .app.status.sync}}{{toJson .revision}}{{else}}null{{end}},
  "reconciledAt": {{toJson .app.status.reconciledAt}}
}`;

const PHASE_TYPES: Readonly<Record<string, EventType>> = {
  Running: 'deployment.started',
  Succeeded: 'deployment.succeeded',
  Failed: 'deployment.failed',
  Error: 'deployment.failed',
};

/**
 * Maps one body rendered from {@link ARGOCD_WEBHOOK_TEMPLATE} to events.
 *
 * - operation phase Running → started, Succeeded → succeeded, Failed/Error → failed;
 *   Terminating is ignored (Argo reports the end as Failed).
 * - Succeeded with health Degraded → failed: the sync applied but the app did not come up
 *   (the `on-health-degraded` trigger); its time is `reconciledAt`, later than the success, so
 *   the deployment's state ends failed.
 * - service = application name; environment = destination namespace, else destination cluster
 *   name; region = destination cluster name; mapping rules override all three.
 * - deployment key = `argocd:<app>:<revision>:<operation startedAt>`: one per sync operation.
 */
export function adaptArgocd(req: WebhookRequest, options: AdapterOptions = {}): AdapterResult {
  const body = jsonBody(req);
  if (body.shiplog !== ARGOCD_TEMPLATE_MARKER) {
    return {
      kind: 'ignored',
      reason: `not rendered from the shiplog Argo CD webhook template (no "shiplog": "${ARGOCD_TEMPLATE_MARKER}" member); use that template as the webhook body`,
    };
  }
  if (body.operation === null || body.operation === undefined) {
    return { kind: 'ignored', reason: 'no sync operation in this notification (operationState is null)' };
  }
  const p = new PayloadReader(body);
  const app = p.requireText(['app']);
  const phase = p.requireText(['operation', 'phase']);
  const startedAtRaw = p.requireText(['operation', 'startedAt']);
  const startedAt = toRfc3339(startedAtRaw);
  if (startedAtRaw !== '' && startedAt === undefined)
    p.fail(['operation', 'startedAt'], 'must be an RFC 3339 time');
  p.check();

  const health = p.text(['health']);
  let type = PHASE_TYPES[phase];
  if (type === undefined)
    return {
      kind: 'ignored',
      reason: `Argo CD operation phase "${cleanText(phase, 40)}" is not a lifecycle transition`,
    };
  let timeRaw: string | undefined =
    type === 'deployment.started' ? startedAtRaw : (p.text(['operation', 'finishedAt']) ?? startedAtRaw);
  let transition: string = type;
  if (type === 'deployment.succeeded' && health === 'Degraded') {
    type = 'deployment.failed';
    transition = 'degraded';
    timeRaw = p.text(['reconciledAt']) ?? timeRaw;
  }
  const time = toRfc3339(timeRaw);

  const namespace = p.text(['destination', 'namespace']);
  const cluster = p.text(['destination', 'name']);
  const server = p.text(['destination', 'server']);
  const project = p.text(['project']);
  const service = resolveService(options.rules, [app, project], app);
  const environment = resolveEnvironment(
    options.rules,
    [namespace, cluster, server, app],
    namespace ?? cluster,
  );
  if (service === undefined || environment === undefined || startedAt === undefined) {
    if (service === undefined) p.fail(['app'], 'does not give a usable service name');
    if (environment === undefined) {
      p.fail(
        ['destination', 'namespace'],
        'does not give a usable environment name; set it or add an environments mapping rule',
      );
    }
    return p.raise();
  }

  const revision = p.text(['operation', 'revision']) ?? p.text(['syncRevision']);
  const key = deploymentKey('argocd', app, revision ?? 'unknown', startedAt);
  const out: EventInput = {
    id: eventId(`${key}:${transition}`),
    type,
    deployment: key,
    service,
    environment,
    version: cleanText(resolveVersion([revision], revision) ?? revision),
    commit: isCommit(revision) ? revision : undefined,
    actor: cleanText(
      p.text(['operation', 'initiatedBy']) ??
        (p.value(['operation', 'automated']) === true ? 'argocd' : undefined),
    ),
    region: resolveRegion(options.rules, [cluster, server], cluster),
    ...(time !== undefined && { time }),
  };
  return { kind: 'events', events: [finalizeEvent(out)] };
}
