/**
 * GitLab webhooks → deployment events. The Deployment Hook is the one that carries a
 * deployment id, an environment and a status change; Pipeline and Job hooks are CI context
 * (a deploy job also fires a Deployment Hook), so they are acknowledged and ignored.
 * Payloads: https://docs.gitlab.com/user/project/integrations/webhook_events/
 */
import type { EventInput, EventType } from '../domain/event.js';
import {
  type AdapterOptions,
  isCommit,
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

const STATUS_TYPES: Readonly<Record<string, EventType>> = {
  created: 'deployment.requested',
  blocked: 'deployment.requested', // waiting for a GitLab approval
  running: 'deployment.started',
  success: 'deployment.succeeded',
  failed: 'deployment.failed',
  canceled: 'deployment.canceled',
};

const CONTEXT_ONLY: Readonly<Record<string, string>> = {
  'Pipeline Hook':
    'pipeline events are CI context; enable "Deployment events" on the webhook: shiplog records GitLab deployments from them',
  'Job Hook':
    'job events are CI context; enable "Deployment events" on the webhook: shiplog records GitLab deployments from them',
  'Push Hook': 'push events are not deployments',
  'Tag Push Hook': 'tag push events are not deployments',
};

/** Maps one GitLab delivery (`X-Gitlab-Event`, optional `Idempotency-Key`, JSON body) to events. */
export function adaptGitlab(req: WebhookRequest, options: AdapterOptions = {}): AdapterResult {
  const event = header(req, 'x-gitlab-event');
  const body = jsonBody(req);
  const kind = typeof body.object_kind === 'string' ? body.object_kind : undefined;
  if (event === undefined && kind === undefined) {
    throw new AdapterInputError([{ path: 'x-gitlab-event', message: 'is required' }]);
  }
  if (event !== 'Deployment Hook' && !(event === undefined && kind === 'deployment')) {
    const reason =
      (event !== undefined ? CONTEXT_ONLY[event] : undefined) ??
      `GitLab event "${event ?? kind}" is not used by shiplog`;
    return { kind: 'ignored', reason: cleanText(reason, 500) ?? 'unsupported GitLab event' };
  }
  return adaptDeployment(body, header(req, 'idempotency-key'), options);
}

function adaptDeployment(
  body: Record<string, unknown>,
  idempotencyKey: string | undefined,
  options: AdapterOptions,
): AdapterResult {
  const p = new PayloadReader(body);
  const status = p.requireText(['status']);
  const deploymentId = p.requireText(['deployment_id']);
  const project = p.text(['project', 'path_with_namespace']) ?? p.requireText(['project', 'id']);
  const toolEnvironment = p.requireText(['environment']);
  const rawTime = p.value(['status_changed_at']);
  const time = toRfc3339(rawTime);
  if (rawTime !== undefined && rawTime !== null && time === undefined)
    p.fail(['status_changed_at'], 'must be a GitLab time');
  p.check();

  const type = STATUS_TYPES[status.toLowerCase()];
  if (type === undefined)
    return {
      kind: 'ignored',
      reason: `deployment status "${cleanText(status, 40)}" is not a lifecycle transition`,
    };

  const projectName = p.text(['project', 'name']);
  const service = resolveService(
    options.rules,
    [project, projectName],
    p.text(['project', 'path_with_namespace']) ?? projectName,
  );
  const environment = resolveEnvironment(
    options.rules,
    [toolEnvironment, p.text(['environment_slug']), p.text(['environment_tier'])],
    toolEnvironment,
  );
  if (service === undefined || environment === undefined) {
    if (service === undefined)
      p.fail(['project', 'path_with_namespace'], 'does not give a usable service name');
    if (environment === undefined) p.fail(['environment'], 'does not give a usable environment name');
    return p.raise();
  }

  // The hook has no full sha field: the commit URL ends with it; short_sha is 8 characters.
  const fromUrl = p.text(['commit_url'])?.split('/').at(-1);
  const commit = isCommit(fromUrl) ? fromUrl : p.text(['short_sha']);
  const key = deploymentKey('gitlab', project, deploymentId);
  const out: EventInput = {
    // One id per transition, so retries (GitLab 17.4+ also keeps Idempotency-Key across them)
    // and `shiplog sync`, which sees no delivery headers, dedupe against each other.
    id: eventId(`${key}:${status.toLowerCase()}`),
    type,
    deployment: key,
    service,
    environment,
    version: cleanText(resolveVersion([p.text(['ref'])], commit)),
    commit: cleanText(commit),
    actor: cleanText(p.text(['user', 'username']) ?? p.text(['user', 'name'])),
    ...(time !== undefined && { time }),
    build: buildOf(p.text(['deployable_id']), p.text(['deployable_url']), 'gitlab-ci'),
  };
  return {
    kind: 'events',
    events: [finalizeEvent(out)],
    ...(idempotencyKey !== undefined && { deliveryId: idempotencyKey }),
  };
}
