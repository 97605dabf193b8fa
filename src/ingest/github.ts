/**
 * GitHub webhooks → deployment events. Deployments are read from the `deployment` and
 * `deployment_status` events (the only ones with a deployment id and an environment);
 * `workflow_run` / `workflow_job` describe CI runs, which GitHub already reports as
 * deployment statuses when a job targets an environment, so they are acknowledged and
 * ignored rather than double-counted.
 * Headers: https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers
 */
import type { EventInput, EventType } from '../domain/event.js';
import {
  type AdapterOptions,
  pickActor,
  resolveEnvironment,
  resolveService,
  resolveVersion,
} from './mapping.js';
import {
  PayloadReader,
  buildOf,
  cleanText,
  deploymentKey,
  eventId,
  finalizeEvent,
  header,
  jsonBody,
} from './payload.js';
import { toRfc3339 } from './time.js';
import { AdapterInputError, type AdapterResult, type WebhookRequest } from './types.js';

const STATUS_TYPES: Readonly<Record<string, EventType | null>> = {
  queued: 'deployment.requested',
  pending: 'deployment.requested',
  waiting: 'deployment.requested',
  in_progress: 'deployment.started',
  success: 'deployment.succeeded',
  failure: 'deployment.failed',
  error: 'deployment.failed',
  inactive: null, // a newer deployment superseded this one: not a transition of its own
};

const CONTEXT_ONLY: Readonly<Record<string, string>> = {
  ping: 'ping',
  push: 'push events are not deployments; shiplog reads GitHub deployments from deployment and deployment_status events',
  workflow_run:
    'workflow_run is CI context; jobs that deploy to an environment arrive as deployment_status events, which shiplog records',
  workflow_job:
    'workflow_job is CI context; jobs that deploy to an environment arrive as deployment_status events, which shiplog records',
  deployment_review:
    'deployment_review is an approval on GitHub; shiplog records the deployment_status events around it',
  deployment_protection_rule: 'deployment_protection_rule is not a deployment transition',
};

/** Maps one GitHub delivery (`X-GitHub-Event`, `X-GitHub-Delivery`, JSON body) to events. */
export function adaptGithub(req: WebhookRequest, options: AdapterOptions = {}): AdapterResult {
  const event = header(req, 'x-github-event');
  if (event === undefined) throw new AdapterInputError([{ path: 'x-github-event', message: 'is required' }]);
  const delivery = header(req, 'x-github-delivery');
  if (event === 'deployment' || event === 'deployment_status') {
    const body = jsonBody(req);
    requireShapeOf(event, body);
    return adaptDeployment(event, body, delivery, options);
  }
  const reason = CONTEXT_ONLY[event] ?? `GitHub event "${event}" is not used by shiplog`;
  return { kind: 'ignored', reason: cleanText(reason, 500) ?? 'unsupported GitHub event' };
}

/**
 * X-GitHub-Event is not covered by the signature: a captured deployment_status delivery
 * replayed as `deployment` would store a new event. The payload must be the named event's.
 * (A deployment payload replayed as deployment_status already lacks `deployment_status`.)
 */
function requireShapeOf(event: 'deployment' | 'deployment_status', body: Record<string, unknown>): void {
  if (event === 'deployment' && Object.hasOwn(body, 'deployment_status')) {
    throw new AdapterInputError(
      [
        {
          path: 'x-github-event',
          message: 'is "deployment" but the payload is a deployment_status event',
        },
      ],
      'The X-GitHub-Event header does not name the event the payload is',
    );
  }
}

function adaptDeployment(
  event: 'deployment' | 'deployment_status',
  body: Record<string, unknown>,
  delivery: string | undefined,
  options: AdapterOptions,
): AdapterResult {
  const p = new PayloadReader(body);
  const isStatus = event === 'deployment_status';
  const repo = p.requireText(['repository', 'full_name']);
  p.requireObject(['deployment']);
  const deploymentId = p.requireText(['deployment', 'id']);
  const state = isStatus ? p.requireText(['deployment_status', 'state']) : undefined;
  const rawTime = isStatus
    ? (p.value(['deployment_status', 'created_at']) ?? p.value(['deployment_status', 'updated_at']))
    : p.value(['deployment', 'created_at']);
  const timePath = isStatus ? ['deployment_status', 'created_at'] : ['deployment', 'created_at'];
  const time = toRfc3339(rawTime);
  if (rawTime !== undefined && rawTime !== null && time === undefined)
    p.fail(timePath, 'must be an RFC 3339 time');
  const toolEnvironment =
    (isStatus ? p.text(['deployment_status', 'environment']) : undefined) ??
    p.text(['deployment', 'environment']);
  if (toolEnvironment === undefined) p.fail(['deployment', 'environment'], 'is required');
  p.check();

  let type: EventType | null = 'deployment.requested';
  if (state !== undefined) {
    const mapped = STATUS_TYPES[state.toLowerCase()];
    if (mapped === undefined)
      return {
        kind: 'ignored',
        reason: `deployment_status state "${cleanText(state, 40)}" is not a lifecycle transition`,
      };
    if (mapped === null)
      return { kind: 'ignored', reason: 'deployment_status "inactive": a newer deployment superseded it' };
    type = mapped;
  }

  const ref = p.text(['deployment', 'ref']);
  const sha = p.text(['deployment', 'sha']);
  const repoName = p.text(['repository', 'name']);
  const service = resolveService(options.rules, [repo, repoName], repo);
  const environment = resolveEnvironment(
    options.rules,
    [toolEnvironment, ref, p.text(['deployment', 'task'])],
    toolEnvironment,
  );
  if (service === undefined || environment === undefined) {
    if (service === undefined) p.fail(['repository', 'full_name'], 'does not give a usable service name');
    if (environment === undefined)
      p.fail(['deployment', 'environment'], 'does not give a usable environment name');
    return p.raise();
  }

  const key = deploymentKey('github', repo, deploymentId);
  const transition = isStatus ? `status-${p.text(['deployment_status', 'id']) ?? state ?? ''}` : 'created';
  const runId = p.text(['workflow_run', 'id']);
  const runUrl = p.text(['workflow_run', 'html_url']);
  // A deployment made by Actions may carry its run's head commit: with its time, lead time
  // (DESIGN.md §10) can start there. The sha alone goes to `commit`.
  const headTime = toRfc3339(p.value(['workflow_run', 'head_commit', 'timestamp']));
  const headSha = p.text(['workflow_run', 'head_commit', 'id']);
  const commits =
    headTime !== undefined && headSha !== undefined && headSha === sha && /^[0-9a-f]{4,64}$/i.test(sha)
      ? [{ sha, time: headTime }]
      : undefined;
  const out: EventInput = {
    // The deployment and status ids identify the transition: redeliveries (same
    // X-GitHub-Delivery) and `shiplog sync`, which sees no delivery GUID, give the same id.
    // The GUID itself is returned as deliveryId and kept with the delivery log.
    id: eventId(`${key}:${transition}`),
    type,
    deployment: key,
    service,
    environment,
    version: cleanText(resolveVersion([ref], sha)),
    commit: cleanText(sha),
    actor: cleanText(
      pickActor([
        p.text(['workflow_run', 'triggering_actor', 'login']),
        p.text(['workflow_run', 'actor', 'login']),
        p.text(['deployment', 'creator', 'login']),
        p.text(['sender', 'login']),
      ]),
    ),
    ...(time !== undefined && { time }),
    ...((runId !== undefined || runUrl !== undefined) && { build: buildOf(runId, runUrl, 'github-actions') }),
    ...(commits !== undefined && { commits }),
  };
  return {
    kind: 'events',
    events: [finalizeEvent(out)],
    ...(delivery !== undefined && { deliveryId: delivery }),
  };
}
