/**
 * Every fixture of every webhook source, sent over HTTP with the tool's own authentication,
 * and the deployment it becomes read back through GET /v1/deployments/{key}.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARGOCD_WEBHOOK_TEMPLATE } from '../../src/ingest/argocd.js';
import { countEvents, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import {
  ARGO_SYNC_RESULT,
  FIXTURES,
  SECRETS,
  argoApp,
  authHeaders,
  deliver,
  fixture,
  renderGoTemplate,
} from '../helpers/webhooks.js';
import { rawSql } from '../helpers/raw-sql.js';

const GITLAB_EVENTS: Record<string, string> = {
  'deployment_event.json': 'Deployment Hook',
  'pipeline_event.json': 'Pipeline Hook',
  'job_event.json': 'Job Hook',
  'push_event.json': 'Push Hook',
};

const jsonFiles = (dir: string) =>
  readdirSync(new URL(dir, FIXTURES))
    .filter((f) => f.endsWith('.json'))
    .sort();

const GH_KEY = 'github:Codertocat:Hello-World:145988746';
const GH_SHA = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
const CDE_KEY = 'cdevents:mysubject123:test123:4c8cb7dd-3448-41de-8768-eec704e2829b';

describe.each(DIALECTS)('webhooks over HTTP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect, {
      webhooks: {
        secrets: SECRETS,
        mappings: {
          rules: { jenkins: { environments: [{ match: 'asgard', environment: 'production' }] } },
          generic: {
            source: 'acme',
            fields: {
              type: 'status',
              deployment: 'run.id',
              service: 'app',
              environment: 'target',
              version: 'release',
              time: 'at',
            },
            typeMap: { ok: 'deployment.succeeded', boom: 'deployment.failed' },
          },
        },
      },
    });
  });
  afterAll(async () => t.close());

  const deployment = async (key: string) => {
    const response = await t.call('GET', `/v1/deployments/${encodeURIComponent(key)}`);
    expect(response.status).toBe(200);
    return response.json() as Record<string, unknown> & { events: Record<string, unknown>[] };
  };

  describe('github', () => {
    const events: Record<string, { type: string; environment: string; id: string }> = {
      'deployment.payload.json': { type: 'deployment.requested', environment: 'production', id: 'created' },
      'deployment.gh-pages.payload.json': {
        type: 'deployment.requested',
        environment: 'github-pages',
        id: 'created',
      },
      'deployment.with-installation.payload.json': {
        type: 'deployment.requested',
        environment: 'production',
        id: 'created',
      },
      'deployment_status.payload.json': {
        type: 'deployment.succeeded',
        environment: 'production',
        id: 'status-209916254',
      },
      'deployment_status.gh-pages.payload.json': {
        type: 'deployment.started',
        environment: 'github-pages',
        id: 'status-209916254',
      },
      'deployment_status.with-installation.payload.json': {
        type: 'deployment.succeeded',
        environment: 'production',
        id: 'status-209916254',
      },
    };

    it('stores deployment and deployment_status fixtures with their fields', async () => {
      const first = await deliver(t.app.server, 'github', fixture('github/deployment.payload.json'), {
        'x-github-event': 'deployment',
        'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      });
      expect(first.status).toBe(201);
      expect(first.json()).toMatchObject({ results: [{ id: `${GH_KEY}:created`, status: 'stored' }] });
      const status = await deliver(t.app.server, 'github', fixture('github/deployment_status.payload.json'), {
        'x-github-event': 'deployment_status',
      });
      expect(status.status).toBe(201);
      const d = await deployment(GH_KEY);
      expect(d).toMatchObject({
        deployment: GH_KEY,
        service: 'hello-world',
        environment: 'production',
        version: 'f95f852',
        commit: GH_SHA,
        actor: 'Codertocat',
        status: 'succeeded',
        finishedAt: '2019-05-15T15:20:55.000Z',
      });
      expect(d.events.map((e) => e.type)).toEqual(['deployment.requested', 'deployment.succeeded']);
    });

    it.each(Object.entries(events).filter(([file]) => file !== 'deployment_status.gh-pages.payload.json'))(
      '%s is stored once (the same transition again is a duplicate)',
      async (file, e) => {
        const response = await deliver(t.app.server, 'github', fixture(`github/${file}`), {
          'x-github-event': file.split('.')[0] ?? '',
        });
        expect(response.status).toBe(201);
        expect(response.json()).toMatchObject({ results: [{ id: `${GH_KEY}:${e.id}` }] });
        const d = await deployment(GH_KEY);
        expect(d.events).toContainEqual(
          expect.objectContaining({ id: `${GH_KEY}:${e.id}`, type: expect.any(String) }),
        );
        expect(d.events.length).toBe(2);
      },
    );

    it.each(jsonFiles('github/').filter((f) => !(f in events)))(
      '%s is acknowledged and ignored',
      async (file) => {
        const before = await countEvents(t.store);
        const response = await deliver(t.app.server, 'github', fixture(`github/${file}`), {
          'x-github-event': file.split('.')[0] ?? '',
        });
        expect(response.status).toBe(202);
        expect(response.json()).toEqual({ ignored: expect.any(String) });
        expect(await countEvents(t.store)).toBe(before);
      },
    );

    // The gh-pages variant carries the same status id as deployment_status.payload.json but
    // another state: one id naming two transitions is refused, never taken for a duplicate.
    it('answers 409 for a status id reused with another state, and stores nothing', async () => {
      const before = await countEvents(t.store);
      const response = await deliver(
        t.app.server,
        'github',
        fixture('github/deployment_status.gh-pages.payload.json'),
        {
          'x-github-event': 'deployment_status',
        },
      );
      expect(response.status).toBe(409);
      expect((response.json() as { error: { details: { path: string }[] } }).error.details[0]?.path).toBe(
        '/events/0/id',
      );
      expect(await countEvents(t.store)).toBe(before);
    });

    it('accepts the application/x-www-form-urlencoded content type GitHub offers', async () => {
      const json = fixture('github/deployment_status.payload.json').toString('utf8');
      const form = `payload=${encodeURIComponent(json)}`;
      const response = await deliver(t.app.server, 'github', form, {
        'x-github-event': 'deployment_status',
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(response.status).toBe(201);
    });
  });

  describe('gitlab', () => {
    it('stores the Deployment Hook with its fields', async () => {
      const response = await deliver(t.app.server, 'gitlab', fixture('gitlab/deployment_event.json'), {
        'x-gitlab-event': 'Deployment Hook',
        'idempotency-key': 'b5e2c3a0-0000-4000-8000-000000000001',
      });
      expect(response.status).toBe(201);
      expect(await deployment('gitlab:root:test-deployment-webhooks:15')).toMatchObject({
        service: 'test-deployment-webhooks',
        environment: 'staging',
        version: '279484c',
        commit: '279484c09fbe69ededfced8c1bb6e6d24616b468',
        actor: 'root',
        status: 'succeeded',
        finishedAt: '2021-04-28T19:50:00.000Z',
        build: { id: '796', provider: 'gitlab-ci' },
      });
    });

    it.each(['pipeline_event.json', 'job_event.json', 'push_event.json'])('%s is ignored', async (file) => {
      const response = await deliver(t.app.server, 'gitlab', fixture(`gitlab/${file}`), {
        'x-gitlab-event': GITLAB_EVENTS[file] ?? '',
      });
      expect(response.status).toBe(202);
      expect(response.json()).toHaveProperty('ignored');
    });
  });

  describe('jenkins', () => {
    it('maps the Notification plugin example with an environment rule for the job', async () => {
      const response = await deliver(
        t.app.server,
        'jenkins',
        fixture('jenkins/notification-plugin.completed.json'),
      );
      expect(response.status).toBe(201);
      expect(await deployment('jenkins:asgard:18')).toMatchObject({
        service: 'asgard',
        environment: 'production',
        status: 'succeeded',
        commit: 'c6d86dc654b12425e706bcf951adfe5a8627a517',
      });
    });

    it('accepts the token as the Basic auth password (user:token@ in the plugin URL)', async () => {
      const body = fixture('jenkins/notification-plugin.completed.json');
      const basic = Buffer.from(`jenkins:${SECRETS.jenkins ?? ''}`).toString('base64');
      const response = await deliver(t.app.server, 'jenkins', body, { authorization: `Basic ${basic}` });
      expect(response.status).toBe(201);
      expect(response.json()).toMatchObject({ results: [{ status: 'duplicate' }] });
    });
  });

  describe('argocd', () => {
    const key = `argocd:checkout-api:${ARGO_SYNC_RESULT.revision}:2026-11-02T10:15:00Z`;
    it('maps the shipped template rendered for Running then Succeeded; retries are stored once', async () => {
      for (const phase of ['Running', 'Succeeded', 'Succeeded']) {
        const body = renderGoTemplate(ARGOCD_WEBHOOK_TEMPLATE, argoApp(phase));
        const response = await deliver(t.app.server, 'argocd', body);
        expect(response.status).toBe(201);
      }
      const d = await deployment(key);
      expect(d).toMatchObject({
        service: 'checkout-api',
        environment: 'production',
        region: 'prod-eu-west-1',
        actor: 'alice',
        status: 'succeeded',
        startedAt: '2026-11-02T10:15:00.000Z',
        finishedAt: '2026-11-02T10:16:30.000Z',
      });
      expect(d.events).toHaveLength(2);
    });

    it('ignores the published syncResult body, which is not from the shiplog template', async () => {
      const response = await deliver(t.app.server, 'argocd', fixture('argocd/on-deployed.syncResult.json'));
      expect(response.status).toBe(202);
    });
  });

  describe('cdevents', () => {
    const files = [...jsonFiles('cdevents/'), ...jsonFiles('cdevents/v0.4.1/').map((f) => `v0.4.1/${f}`)];
    const serviceEvents = new Set([
      'service_deployed.json',
      'service_upgraded.json',
      'service_rolledback.json',
    ]);

    it.each(files)('%s in binary mode', async (file) => {
      const body = fixture(`cdevents/${file}`);
      const context = (JSON.parse(body.toString('utf8')) as { context: Record<string, string> }).context;
      const response = await deliver(t.app.server, 'cdevents', body, {
        'ce-specversion': '1.0',
        'ce-id': context.id ?? '',
        'ce-source': context.source ?? '',
        'ce-type': context.type ?? '',
      });
      const name = file.replace('v0.4.1/', '');
      if (serviceEvents.has(name)) {
        expect(response.status).toBe(201);
        const d = await deployment(CDE_KEY);
        expect(d).toMatchObject({
          service: 'mysubject123',
          environment: 'test123',
          version: 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427',
        });
      } else {
        expect(response.status).toBe(202);
        expect(response.json()).toMatchObject({ recorded: { type: expect.any(String) } });
      }
    });

    it('keeps records once per (source, id, type), and reads structured mode', async () => {
      const cdevent = JSON.parse(fixture('cdevents/incident_detected.json').toString('utf8')) as {
        context: Record<string, string>;
      };
      const structured = JSON.stringify({
        specversion: '1.0',
        id: cdevent.context.id,
        source: cdevent.context.source,
        type: cdevent.context.type,
        time: cdevent.context.timestamp,
        data: cdevent,
      });
      const response = await deliver(t.app.server, 'cdevents', structured, {
        'content-type': 'application/cloudevents+json; charset=utf-8',
      });
      expect(response.status).toBe(202);
      expect(response.json()).toMatchObject({ recorded: { type: 'incident.detected', status: 'duplicate' } });
      const rows = await rawSql(t.store).selectFrom('webhook_records').select(['record_type']).execute();
      // One per spec version (0.4.1 and 0.5.1 give the type different versions), none for the replay.
      expect(rows.filter((r) => r.record_type === 'incident.detected')).toHaveLength(2);
    });

    it('ends the chain rolled back after deployed, upgraded and rolledback', async () => {
      expect((await deployment(CDE_KEY)).status).toBe('rolled_back');
    });
  });

  describe('generic', () => {
    it('maps any JSON with the configured selectors', async () => {
      const body = {
        status: 'ok',
        run: { id: 77 },
        app: 'Billing',
        target: 'Prod EU',
        release: '2.0.1',
        at: 1762078500,
      };
      const response = await deliver(t.app.server, 'generic', JSON.stringify(body));
      expect(response.status).toBe(201);
      expect(await deployment('acme:77')).toMatchObject({
        service: 'billing',
        environment: 'prod-eu',
        version: '2.0.1',
        status: 'succeeded',
        finishedAt: '2025-11-02T10:15:00.000Z',
      });
      const unmapped = await deliver(t.app.server, 'generic', JSON.stringify({ ...body, status: 'meh' }));
      expect(unmapped.status).toBe(202);
    });
  });

  describe('authentication', () => {
    const cases: [string, string, Record<string, string>][] = [
      ['github', 'github/deployment.payload.json', { 'x-github-event': 'deployment' }],
      ['gitlab', 'gitlab/deployment_event.json', { 'x-gitlab-event': 'Deployment Hook' }],
      ['jenkins', 'jenkins/notification-plugin.completed.json', {}],
      ['cdevents', 'cdevents/service_deployed.json', {}],
    ];
    it.each(cases)(
      '%s: a missing or wrong signature is 401 and stores nothing',
      async (source, file, headers) => {
        const fresh = await testApp(dialect, { webhooks: { secrets: SECRETS } });
        try {
          for (const auth of ['none', 'wrong'] as const) {
            const response = await deliver(fresh.app.server, source, fixture(file), headers, auth);
            expect(response.status).toBe(401);
            expect(response.json()).toMatchObject({ error: { code: 'SHIPLOG_BAD_SIGNATURE' } });
          }
          // A body changed after signing fails too (GitHub signs the bytes).
          if (source === 'github') {
            const body = fixture(file);
            const signed = await fresh.app.server.inject({
              method: 'POST',
              url: '/v1/webhooks/github',
              payload: Buffer.concat([body, Buffer.from(' ')]),
              headers: { 'content-type': 'application/json', ...headers, ...authHeaders('github', body) },
            });
            expect(signed.statusCode).toBe(401);
          }
          expect(await countEvents(fresh.store)).toBe(0);
        } finally {
          await fresh.close();
        }
      },
    );

    it('refuses every delivery of a source with no secret configured, naming the variable', async () => {
      const fresh = await testApp(dialect);
      try {
        const response = await deliver(
          fresh.app.server,
          'github',
          fixture('github/deployment.payload.json'),
          {
            'x-github-event': 'deployment',
          },
        );
        expect(response.status).toBe(401);
        expect(response.json()).toMatchObject({
          error: {
            code: 'SHIPLOG_BAD_SIGNATURE',
            message: expect.stringContaining('SHIPLOG_GITHUB_WEBHOOK_SECRET'),
          },
        });
        expect(await countEvents(fresh.store)).toBe(0);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('bad payloads', () => {
    it('answers 400 with details for an authenticated payload that is not usable', async () => {
      const response = await deliver(
        t.app.server,
        'gitlab',
        '{"object_kind":"deployment","status":"success"}',
        {
          'x-gitlab-event': 'Deployment Hook',
        },
      );
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({
        error: {
          code: 'SHIPLOG_INVALID_REQUEST',
          details: expect.arrayContaining([{ path: '/deployment_id', message: 'is required' }]),
        },
      });
      const notJson = await deliver(t.app.server, 'jenkins', '{"name": "x", ');
      expect(notJson.status).toBe(400);
    });
  });

  describe('the delivery log', () => {
    it('lists every delivery newest first, paginated, with secrets removed; admins only', async () => {
      const first = await t.call('GET', '/v1/webhooks/deliveries?source=github&limit=3');
      expect(first.status).toBe(200);
      const page = first.json() as {
        items: { id: string; source: string; outcome: string }[];
        nextCursor: string;
      };
      expect(page.items).toHaveLength(3);
      expect(page.items.every((i) => i.source === 'github')).toBe(true);
      expect(page.nextCursor).toEqual(expect.any(String));
      const second = (
        await t.call('GET', `/v1/webhooks/deliveries?source=github&limit=3&cursor=${page.nextCursor}`)
      ).json() as {
        items: { id: string }[];
      };
      expect(second.items.map((i) => i.id)).not.toContain(page.items[0]?.id);

      const all = (await t.call('GET', '/v1/webhooks/deliveries?limit=200')).json() as {
        items: { id: string; outcome: string; source: string }[];
      };
      expect(new Set(all.items.map((i) => i.outcome))).toEqual(
        new Set(['stored', 'duplicate', 'ignored', 'record', 'invalid']),
      );
      const one = all.items.find((i) => i.source === 'jenkins' && i.outcome === 'duplicate');
      const detail = await t.call('GET', `/v1/webhooks/deliveries/${one?.id ?? ''}`);
      expect(detail.status).toBe(200);
      const body = detail.json() as { headers: Record<string, string>; body: string; bodyEncoding: string };
      expect(body.headers).not.toHaveProperty('authorization');
      expect(body.headers['content-type']).toBe('application/json');
      expect(body.bodyEncoding).toBe('utf8');
      expect(body.body).toBe(fixture('jenkins/notification-plugin.completed.json').toString('utf8'));

      const missing = await t.call('GET', '/v1/webhooks/deliveries/nope');
      expect(missing.status).toBe(404);

      const created = await t.call('POST', '/v1/tokens', { name: 'watcher', role: 'viewer' });
      const viewer = (created.json() as { token: string }).token;
      expect((await t.call('GET', '/v1/webhooks/deliveries', undefined, viewer)).status).toBe(403);
      expect(
        (await t.call('GET', `/v1/webhooks/deliveries/${one?.id ?? ''}`, undefined, viewer)).status,
      ).toBe(403);
      expect((await t.call('GET', '/v1/webhooks/deliveries', undefined, null)).status).toBe(401);
    });

    it('caps stored bodies at 64 KiB and prunes deliveries older than 7 days', async () => {
      const big = JSON.stringify({ object_kind: 'push', pad: 'x'.repeat(100_000) });
      const response = await deliver(t.app.server, 'gitlab', big, { 'x-gitlab-event': 'Push Hook' });
      expect(response.status).toBe(202);
      const rows = await rawSql(t.store)
        .selectFrom('webhook_deliveries')
        .select(['id', 'body', 'body_bytes', 'truncated'])
        .where('body_bytes', '=', Buffer.byteLength(big))
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.body.length).toBe(64 * 1024);
      expect(Number(rows[0]?.truncated)).toBe(1);

      await rawSql(t.store)
        .updateTable('webhook_deliveries')
        .set({ created_ms: Date.now() - 8 * 24 * 3600 * 1000 })
        .where('id', '=', rows[0]?.id ?? '')
        .execute();
      expect(await t.store.webhookDeliveries.prune(Date.now())).toBe(1);
    });
  });
});
