import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../domain/event.js';
import { ARGOCD_WEBHOOK_TEMPLATE, adaptArgocd } from './argocd.js';
import type { WebhookRequest } from './types.js';
import { renderGoTemplate } from '../../test/helpers/webhooks.js';

const dir = new URL('../../../shared/fixtures/argocd/', import.meta.url);
const syncResult = JSON.parse(readFileSync(new URL('on-deployed.syncResult.json', dir), 'utf8')) as {
  revision: string;
};

interface Sample {
  phase: string;
  health?: string;
  cluster?: string;
  namespace?: string;
}

function application({
  phase,
  health = 'Healthy',
  cluster = 'prod-eu-west-1',
  namespace = 'production',
}: Sample) {
  return {
    app: {
      metadata: { name: 'checkout-api', namespace: 'argocd' },
      spec: {
        project: 'default',
        destination: { server: 'https://kubernetes.default.svc', namespace, name: cluster },
      },
      status: {
        operationState: {
          phase,
          message: 'successfully synced (all tasks run)',
          startedAt: '2026-11-02T10:15:00Z',
          ...(phase !== 'Running' && { finishedAt: '2026-11-02T10:16:30Z' }),
          syncResult,
          operation: { initiatedBy: { username: 'alice' } },
        },
        health: { status: health },
        sync: { status: 'Synced', revision: syncResult.revision },
        reconciledAt: '2026-11-02T10:20:00Z',
      },
    },
    context: { argocdUrl: 'https://argocd.example.com' },
  };
}

function request(sample: Sample): WebhookRequest {
  const rawBody = Buffer.from(renderGoTemplate(ARGOCD_WEBHOOK_TEMPLATE, application(sample)));
  return {
    headers: { 'content-type': 'application/json' },
    rawBody,
    body: JSON.parse(rawBody.toString('utf8')) as unknown,
  };
}

const KEY = `argocd:checkout-api:${syncResult.revision}:2026-11-02T10:15:00Z`;
const common = {
  deployment: KEY,
  service: 'checkout-api',
  environment: 'production',
  region: 'prod-eu-west-1',
  version: 'f393746',
  commit: syncResult.revision,
  actor: 'alice',
};

describe('adaptArgocd with the shiplog template rendered as Argo CD would', () => {
  it('renders to valid JSON', () => {
    expect(() => request({ phase: 'Running' })).not.toThrow();
  });

  it('renders while Running before syncResult exists, and without any operation', () => {
    const context = application({ phase: 'Running' });
    const state = context.app.status.operationState as Partial<typeof context.app.status.operationState>;
    delete state.syncResult;
    const running = JSON.parse(renderGoTemplate(ARGOCD_WEBHOOK_TEMPLATE, context)) as {
      operation: { revision: unknown };
    };
    expect(running.operation.revision).toBeNull();
    const body = { ...running, operation: null };
    expect(
      JSON.parse(
        renderGoTemplate(ARGOCD_WEBHOOK_TEMPLATE, {
          app: { ...context.app, status: { health: { status: 'Degraded' } } },
        }),
      ),
    ).toMatchObject({
      operation: null,
      health: 'Degraded',
    });
    expect(adaptArgocd({ headers: {}, rawBody: Buffer.from(JSON.stringify(body)), body })).toMatchObject({
      kind: 'ignored',
    });
    // without syncResult, the application's sync revision stands in
    expect(adaptArgocd({ headers: {}, rawBody: Buffer.alloc(0), body: running })).toMatchObject({
      events: [{ type: 'deployment.started', version: 'f393746' }],
    });
  });

  it.each([
    ['Running', 'Healthy', 'deployment.started', '2026-11-02T10:15:00Z', 'deployment.started'],
    ['Succeeded', 'Healthy', 'deployment.succeeded', '2026-11-02T10:16:30Z', 'deployment.succeeded'],
    ['Succeeded', 'Progressing', 'deployment.succeeded', '2026-11-02T10:16:30Z', 'deployment.succeeded'],
    ['Failed', 'Healthy', 'deployment.failed', '2026-11-02T10:16:30Z', 'deployment.failed'],
    ['Error', 'Missing', 'deployment.failed', '2026-11-02T10:16:30Z', 'deployment.failed'],
    ['Succeeded', 'Degraded', 'deployment.failed', '2026-11-02T10:20:00Z', 'degraded'],
  ])('maps phase %s with health %s to %s', (phase, health, type, time, transition) => {
    const result = adaptArgocd(request({ phase, health }));
    expect(result).toEqual({
      kind: 'events',
      events: [{ ...common, id: `${KEY}:${transition}`, type, time }],
    });
    if (result.kind === 'events') expect(validateEvent(result.events[0])).toEqual([]);
  });

  it('gives a retried notification the same id', () => {
    expect(adaptArgocd(request({ phase: 'Succeeded' }))).toEqual(
      adaptArgocd(request({ phase: 'Succeeded' })),
    );
  });

  it('ignores Terminating', () => {
    expect(adaptArgocd(request({ phase: 'Terminating' })).kind).toBe('ignored');
  });

  it('lets rules override environment and region', () => {
    const rules = {
      environments: [{ match: 'prod-*', environment: 'prod' }],
      regions: [{ match: 'https://kubernetes.default.svc', region: 'eu-west-1' }],
    };
    expect(adaptArgocd(request({ phase: 'Succeeded', namespace: 'prod-payments' }), { rules })).toMatchObject(
      {
        events: [{ environment: 'prod', region: 'eu-west-1' }],
      },
    );
  });

  it('falls back to the cluster name when the destination has no namespace', () => {
    const req = request({ phase: 'Succeeded' });
    const body = structuredClone(req.body) as { destination: Record<string, unknown> };
    body.destination.namespace = null;
    expect(adaptArgocd({ ...req, body })).toMatchObject({ events: [{ environment: 'prod-eu-west-1' }] });
  });
});

describe('adaptArgocd with the published examples', () => {
  it('ignores the syncResult-only body of the docs example (no application, no environment)', () => {
    const rawBody = readFileSync(new URL('on-deployed.syncResult.json', dir));
    const result = adaptArgocd({
      headers: {},
      rawBody,
      body: JSON.parse(rawBody.toString('utf8')) as unknown,
    });
    expect(result).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/shiplog Argo CD webhook template/),
    });
  });
});
