/**
 * `shiplog sync` reads the providers' deployments APIs and turns each deployment (and status)
 * into the webhook delivery the provider would have sent, then runs the same adapter: the
 * events get the same ids as the webhook path, so a sync over deliveries already received
 * stores nothing twice.
 *
 * GitHub: https://docs.github.com/en/rest/deployments/deployments and .../statuses
 * GitLab: https://docs.gitlab.com/api/deployments/ (list project deployments)
 */
import type { EventInput } from '../domain/event.js';
import { adaptGithub } from './github.js';
import { adaptGitlab } from './gitlab.js';
import type { MappingRules } from './mapping.js';
import { asText, isRecord } from './payload.js';
import { AdapterInputError, type AdapterResult, type WebhookRequest } from './types.js';

/** What a sync found: the events, and per skipped item why. */
export interface SyncBatch {
  readonly events: EventInput[];
  readonly skipped: string[];
}

function collect(batch: SyncBatch, label: string, run: () => AdapterResult): void {
  try {
    const result = run();
    if (result.kind === 'events') batch.events.push(...result.events);
    else if (result.kind === 'ignored') batch.skipped.push(`${label}: ${result.reason}`);
  } catch (error) {
    if (!(error instanceof AdapterInputError)) throw error;
    const detail = error.details.map((d) => `${d.path} ${d.message}`).join('; ');
    batch.skipped.push(`${label}: ${error.message}${detail ? ` (${detail})` : ''}`);
  }
}

function request(headers: Record<string, string>, body: Record<string, unknown>): WebhookRequest {
  return { headers: { 'content-type': 'application/json', ...headers }, rawBody: Buffer.alloc(0), body };
}

/**
 * A GitHub deployment (`GET /repos/{owner}/{repo}/deployments` item) and its statuses
 * (`GET .../deployments/{id}/statuses`) as `deployment` and `deployment_status` deliveries.
 */
export function githubSyncEvents(
  repository: string,
  deployments: readonly { deployment: unknown; statuses: readonly unknown[] }[],
  rules?: MappingRules,
): SyncBatch {
  const batch: SyncBatch = { events: [], skipped: [] };
  const name = repository.split('/').at(-1) ?? repository;
  const repo = { full_name: repository, name };
  const options = rules === undefined ? {} : { rules };
  for (const { deployment, statuses } of deployments) {
    if (!isRecord(deployment)) continue;
    const label = `deployment ${asText(deployment.id) ?? '?'}`;
    const sender = isRecord(deployment.creator) ? deployment.creator : undefined;
    collect(batch, label, () =>
      adaptGithub(
        request(
          { 'x-github-event': 'deployment' },
          { action: 'created', deployment, repository: repo, sender },
        ),
        options,
      ),
    );
    for (const status of statuses) {
      if (!isRecord(status)) continue;
      collect(batch, `${label} status ${asText(status.id) ?? '?'}`, () =>
        adaptGithub(
          request(
            { 'x-github-event': 'deployment_status' },
            {
              action: 'created',
              deployment_status: status,
              deployment,
              repository: repo,
              sender: isRecord(status.creator) ? status.creator : sender,
            },
          ),
          options,
        ),
      );
    }
  }
  return batch;
}

/**
 * GitLab deployments (`GET /projects/:id/deployments` items) of one project
 * (`GET /projects/:id`) as Deployment Hook deliveries; the API gives each deployment's current
 * status, which is the transition the hook reported last.
 */
export function gitlabSyncEvents(
  project: Record<string, unknown>,
  deployments: readonly unknown[],
  rules?: MappingRules,
): SyncBatch {
  const batch: SyncBatch = { events: [], skipped: [] };
  const webUrl = asText(project.web_url)?.replace(/\/+$/, '');
  const options = rules === undefined ? {} : { rules };
  for (const d of deployments) {
    if (!isRecord(d)) continue;
    const deployable = isRecord(d.deployable) ? d.deployable : {};
    const environment = isRecord(d.environment) ? d.environment : {};
    const user = isRecord(d.user) ? d.user : {};
    const sha = asText(d.sha);
    const jobId = asText(deployable.id);
    const body = {
      object_kind: 'deployment',
      status: d.status,
      // The time of the status the API shows: a finished job's end, else the last update.
      status_changed_at: deployable.finished_at ?? d.updated_at ?? d.created_at,
      deployment_id: d.id,
      deployable_id: deployable.id,
      deployable_url: deployable.web_url ?? (webUrl && jobId ? `${webUrl}/-/jobs/${jobId}` : undefined),
      environment: environment.name,
      environment_slug: environment.slug,
      environment_tier: environment.tier,
      environment_external_url: environment.external_url,
      project: {
        id: project.id,
        name: project.name,
        path_with_namespace: project.path_with_namespace,
        web_url: project.web_url,
      },
      short_sha: sha?.slice(0, 8),
      user: { username: user.username, name: user.name },
      commit_url: webUrl && sha ? `${webUrl}/-/commit/${sha}` : undefined,
      ref: d.ref,
    };
    collect(batch, `deployment ${asText(d.id) ?? '?'}`, () =>
      adaptGitlab(request({ 'x-gitlab-event': 'Deployment Hook' }, body), options),
    );
  }
  return batch;
}
