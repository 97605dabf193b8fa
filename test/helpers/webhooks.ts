/** Sends signed webhook deliveries to a test app, as each tool would. */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

export const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);

/** One secret per source, as `RuntimeConfig.webhookSecrets` would hold them. */
export const SECRETS: Readonly<Record<string, string>> = Object.freeze({
  github: 'It is a secret to everybody',
  gitlab: 'gitlab-token-1',
  jenkins: 'jenkins-token-1',
  argocd: 'argocd-token-1',
  cdevents: 'cdevents-token-1',
  generic: 'generic-token-1',
  pagerduty: 'pagerduty-secret-1',
  opsgenie: 'opsgenie-token-1',
  alertmanager: 'alertmanager-token-1',
  grafana: 'grafana-token-1',
  jira: 'jira-secret-1',
  incident: 'incident-token-1',
});

/** What the ServiceNow Business Rule of docs/incidents.md sends (the docs test keeps the two equal). */
export const SERVICENOW_INCIDENT = Object.freeze({
  number: 'INC0010023',
  short_description: 'Checkout returns 502 for card payments',
  cmdb_ci: 'Checkout API (prod)',
  u_environment: 'production',
  priority: '1',
  state: '2',
  opened_at: '2026-11-02 10:12:00',
  resolved_at: '',
  rfc: 'CHG0030012',
  sys_id: '9d385017c611228701d22104cc95c371',
});

export function fixture(path: string): Buffer {
  return readFileSync(new URL(path, FIXTURES));
}

export type Auth = 'good' | 'none' | 'wrong';

/** The authentication headers a tool sends for `body` (signing the exact bytes). */
export function authHeaders(source: string, body: Buffer, auth: Auth = 'good'): Record<string, string> {
  if (auth === 'none') return {};
  const secret = auth === 'good' ? (SECRETS[source] ?? '') : 'not-the-secret';
  if (source === 'github') {
    return { 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
  }
  if (source === 'gitlab') return { 'x-gitlab-token': secret };
  if (source === 'pagerduty') {
    return { 'x-pagerduty-signature': `v1=${createHmac('sha256', secret).update(body).digest('hex')}` };
  }
  if (source === 'jira') {
    return { 'x-hub-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
  }
  return { authorization: `Bearer ${secret}` };
}

export interface Delivery {
  readonly status: number;
  readonly json: () => Record<string, unknown>;
  readonly body: string;
}

/** POSTs `body` to `/v1/webhooks/<source>` through inject. */
export async function deliver(
  server: FastifyInstance,
  source: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
  auth: Auth = 'good',
): Promise<Delivery> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const response = await server.inject({
    method: 'POST',
    url: `/v1/webhooks/${source}`,
    payload: bytes,
    headers: { 'content-type': 'application/json', ...authHeaders(source, bytes, auth), ...headers },
  });
  return { status: response.statusCode, json: () => response.json(), body: response.body };
}

/**
 * What Argo CD's notification engine does with a body template (the subset of Go
 * text/template the shiplog template uses): `{{toJson .path}}` and
 * `{{with .path}}...{{else}}...{{end}}`; a field of a missing object is an error, as in Go.
 */
export function renderGoTemplate(template: string, root: unknown): string {
  const tokens = template.split(/(\{\{[^}]*\}\})/);
  let i = 0;
  const lookup = (dot: unknown, path: string): unknown => {
    let value = dot;
    for (const key of path.split('.').filter((k) => k !== '')) {
      if (value === undefined || value === null) throw new Error(`nil pointer evaluating .${key}`);
      value = typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    return value;
  };
  const block = (dot: unknown, emit: boolean): { out: string; stop: string } => {
    let out = '';
    while (i < tokens.length) {
      const token = tokens[i++] ?? '';
      const action = /^\{\{(.*)\}\}$/.exec(token)?.[1]?.trim();
      if (action === undefined) {
        if (emit) out += token;
      } else if (action === 'else' || action === 'end') {
        return { out, stop: action };
      } else if (action.startsWith('with ')) {
        const value = emit ? lookup(dot, action.slice(5)) : undefined;
        const truthy = value !== undefined && value !== null && value !== '' && value !== false;
        const first = block(value, emit && truthy);
        let second = { out: '', stop: 'end' };
        if (first.stop === 'else') second = block(dot, emit && !truthy);
        out += first.out + second.out;
      } else if (action.startsWith('toJson ')) {
        if (emit) out += JSON.stringify(lookup(dot, action.slice(7)) ?? null);
      } else throw new Error(`unsupported action ${action}`);
    }
    return { out, stop: 'eof' };
  };
  return block(root, true).out;
}

/** The published Argo CD syncResult example (argocd/on-deployed.syncResult.json). */
export const ARGO_SYNC_RESULT = JSON.parse(
  fixture('argocd/on-deployed.syncResult.json').toString('utf8'),
) as {
  revision: string;
};

/** An Argo CD Application as the notification engine sees it (`.app`), around the published syncResult. */
export function argoApp(phase: string, health = 'Healthy'): { app: unknown } {
  return {
    app: {
      metadata: { name: 'checkout-api', namespace: 'argocd' },
      spec: {
        project: 'shop',
        destination: {
          namespace: 'production',
          server: 'https://kubernetes.default.svc',
          name: 'prod-eu-west-1',
        },
      },
      status: {
        sync: { status: 'Synced', revision: ARGO_SYNC_RESULT.revision },
        health: { status: health },
        reconciledAt: '2026-11-02T10:20:00Z',
        operationState: {
          phase,
          message: 'successfully synced (all tasks run)',
          startedAt: '2026-11-02T10:15:00Z',
          ...(phase !== 'Running' && { finishedAt: '2026-11-02T10:16:30Z', syncResult: ARGO_SYNC_RESULT }),
          operation: { initiatedBy: { username: 'alice' } },
        },
      },
    },
  };
}
