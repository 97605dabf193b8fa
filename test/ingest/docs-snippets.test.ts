/**
 * The snippets of docs/integrations, run or replayed against a real server on a real port:
 * YAML is parsed with the `yaml` package, shell commands run with bash and a real `shiplog`,
 * and the payloads the tools would send are posted with the secrets the README names.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ARGOCD_WEBHOOK_TEMPLATE } from '../../src/ingest/argocd.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { buildCliBin } from '../helpers/cli-bin.js';
import { DIALECTS } from '../helpers/dialects.js';
import { ROOT } from '../helpers/server-process.js';
import { SECRETS, argoApp, fixture, renderGoTemplate } from '../helpers/webhooks.js';

const DOCS = path.join(ROOT, 'docs/integrations');
const read = (name: string) => fs.readFileSync(path.join(DOCS, name), 'utf8');

let bin: ReturnType<typeof buildCliBin>;
beforeAll(() => {
  bin = buildCliBin();
}, 60_000);
afterAll(() => bin.dispose());

/** A workspace with stub deploy tools: `scripts/deploy.sh` and `kubectl` exit with $STUB_EXIT. */
function workspace(): { cwd: string; stubs: string } {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-docs-'));
  const stubs = path.join(cwd, 'stubs');
  fs.mkdirSync(path.join(cwd, 'scripts'));
  fs.mkdirSync(stubs);
  const stub = '#!/bin/sh\necho "deploying $*"\nexit "${STUB_EXIT:-0}"\n';
  for (const file of [path.join(cwd, 'scripts/deploy.sh'), path.join(stubs, 'kubectl')]) {
    fs.writeFileSync(file, stub);
    fs.chmodSync(file, 0o755);
  }
  return { cwd, stubs };
}

/** Runs a script with bash, asynchronously: the server answering it lives in this process. */
function bash(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ status: number | null; output: string }> {
  const { cwd, stubs } = workspace();
  const child = spawn('bash', ['-e', '-c', script, 'snippet', ...args], {
    cwd,
    env: {
      PATH: `${bin.binDir}:${stubs}:${process.env.PATH ?? ''}`,
      HOME: cwd,
      SHIPLOG_SPOOL: path.join(cwd, 'spool.jsonl'),
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

describe.each(DIALECTS)('docs/integrations snippets against a real server (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await testApp(dialect, { webhooks: { secrets: SECRETS } });
    url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => t.close());

  const deployment = async (key: string) => {
    const response = await fetch(`${url}/v1/deployments/${encodeURIComponent(key)}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  };
  const post = (source: string, body: string, headers: Record<string, string>) =>
    fetch(`${url}/v1/webhooks/${source}`, { method: 'POST', body, headers });

  it('github-actions.yml: the deploy step records the deployment', async () => {
    const workflow = parse(read('github-actions.yml')) as {
      jobs: Record<string, { steps: { name?: string; run?: string; env?: Record<string, string> }[] }>;
    };
    const step = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .find((s) => s.run?.includes('shiplog run'));
    expect(step).toBeDefined();
    const context: Record<string, string> = { 'vars.SHIPLOG_URL': url, 'secrets.SHIPLOG_TOKEN': ADMIN };
    const env = Object.fromEntries(
      Object.entries(step?.env ?? {}).map(([k, v]) => [
        k,
        v.replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_, expr: string) => context[expr] ?? `<unknown ${expr}>`),
      ]),
    );
    expect(env).toEqual({ SHIPLOG_URL: url, SHIPLOG_TOKEN: ADMIN });
    const run = await bash(step?.run ?? '', {
      ...env,
      GITHUB_REF_NAME: 'v1.4.0',
      GITHUB_SHA: '9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912',
      GITHUB_ACTOR: 'alice',
      GITHUB_RUN_ID: '9001',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'octo-org/checkout-api',
    });
    expect(run.status, run.output).toBe(0);
    expect(await deployment('gha-9001-1')).toMatchObject({
      service: 'checkout-api',
      environment: 'production',
      version: 'v1.4.0',
      commit: '9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912',
      actor: 'alice',
      status: 'succeeded',
      build: { id: '9001', url: 'https://github.com/octo-org/checkout-api/actions/runs/9001' },
    });
  });

  it('gitlab-ci.yml: the Deployment Hooks GitLab sends for the job are recorded', async () => {
    const ci = parse(read('gitlab-ci.yml')) as Record<string, { environment?: { name: string } }>;
    const environment = ci['deploy-production']?.environment?.name ?? '';
    expect(environment).toBe('production');
    const hook = JSON.parse(fixture('gitlab/deployment_event.json').toString('utf8')) as Record<
      string,
      unknown
    >;
    for (const status of ['running', 'success']) {
      const response = await post('gitlab', JSON.stringify({ ...hook, environment, status }), {
        'content-type': 'application/json',
        'x-gitlab-event': 'Deployment Hook',
        'x-gitlab-token': SECRETS.gitlab ?? '',
      });
      expect(response.status).toBe(201);
    }
    expect(await deployment('gitlab:root:test-deployment-webhooks:15')).toMatchObject({
      environment: 'production',
      status: 'succeeded',
    });
  });

  it('Jenkinsfile: the stage’s shell step records the deployment', async () => {
    const jenkinsfile = read('Jenkinsfile');
    const script = /sh '''([\s\S]*?)'''/.exec(jenkinsfile)?.[1];
    expect(script).toContain('shiplog run');
    expect(jenkinsfile).toMatch(/SHIPLOG_TOKEN = credentials\('shiplog-token'\)/);
    const choices = /choice\(name: 'ENVIRONMENT', choices: \[([^\]]*)\]/.exec(jenkinsfile)?.[1] ?? '';
    expect(choices).toContain("'production'");
    const run = await bash(script ?? '', {
      SHIPLOG_URL: url,
      SHIPLOG_TOKEN: ADMIN,
      ENVIRONMENT: 'production',
      VERSION: '1.0.0',
      BUILD_TAG: 'jenkins-checkout-deploy-42',
      BUILD_NUMBER: '42',
      BUILD_URL: 'https://jenkins.example.com/job/checkout-deploy/42/',
    });
    expect(run.status, run.output).toBe(0);
    expect(await deployment('jenkins-checkout-deploy-42')).toMatchObject({
      service: 'checkout-api',
      environment: 'production',
      version: '1.0.0',
      status: 'succeeded',
      build: { id: '42' },
    });
  });

  it('Jenkins Notification plugin: a build with the ENVIRONMENT parameter, token as Basic password', async () => {
    const body = JSON.parse(fixture('jenkins/notification-plugin.completed.json').toString('utf8')) as {
      build: Record<string, unknown>;
    };
    body.build.parameters = { ENVIRONMENT: 'production', VERSION: '1.0.0' };
    const basic = Buffer.from(`jenkins:${SECRETS.jenkins ?? ''}`).toString('base64');
    const response = await post('jenkins', JSON.stringify(body), {
      'content-type': 'application/json;charset=UTF-8',
      authorization: `Basic ${basic}`,
    });
    expect(response.status).toBe(201);
    expect(await deployment('jenkins:asgard:18')).toMatchObject({
      service: 'asgard',
      environment: 'production',
      version: '1.0.0',
      status: 'succeeded',
    });
  });

  it('argocd-notifications-cm.yaml: the configured webhook, sent as Argo CD renders it', async () => {
    const cm = parse(read('argocd-notifications-cm.yaml')) as { data: Record<string, string> };
    const service = parse(cm.data['service.webhook.shiplog'] ?? '') as {
      url: string;
      headers: { name: string; value: string }[];
    };
    const template = parse(cm.data['template.shiplog-deployment'] ?? '') as {
      webhook: { shiplog: { method: string; body: string } };
    };
    expect(new URL(service.url).pathname).toBe('/v1/webhooks/argocd');
    expect(template.webhook.shiplog.method).toBe('POST');
    expect(template.webhook.shiplog.body.trim()).toBe(ARGOCD_WEBHOOK_TEMPLATE.trim());
    const subscriptions = parse(cm.data.subscriptions ?? '') as { triggers: string[] }[];
    for (const trigger of subscriptions[0]?.triggers ?? []) {
      const rules = parse(cm.data[`trigger.${trigger}`] ?? '') as { send: string[] }[];
      expect(rules[0]?.send).toEqual(['shiplog-deployment']);
    }
    // $shiplog-token is replaced by argocd-notifications-secret's value.
    const headers = Object.fromEntries(
      service.headers.map((h) => [h.name, h.value.replace('$shiplog-token', SECRETS.argocd ?? '')]),
    );
    for (const phase of ['Running', 'Succeeded', 'Succeeded']) {
      const response = await post(
        'argocd',
        renderGoTemplate(template.webhook.shiplog.body, argoApp(phase)),
        headers,
      );
      expect(response.status).toBe(201);
    }
    const revision = (argoApp('Succeeded').app as { status: { sync: { revision: string } } }).status.sync
      .revision;
    expect(await deployment(`argocd:checkout-api:${revision}:2026-11-02T10:15:00Z`)).toMatchObject({
      service: 'checkout-api',
      environment: 'production',
      status: 'succeeded',
    });
  });

  it('deploy.sh: records success, and a failed deploy as failed with its exit code', async () => {
    const script = read('deploy.sh');
    const env = { SHIPLOG_URL: url, SHIPLOG_TOKEN: ADMIN };
    const ok = await bash(script, env, ['staging', '2.0.0']);
    expect(ok.status, ok.output).toBe(0);
    const failed = await bash(script, { ...env, STUB_EXIT: '3' }, ['staging', '2.0.1']);
    expect(failed.status, failed.output).toBe(3);
    const list = await fetch(`${url}/v1/deployments?service=checkout-api&environment=staging`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const items = ((await list.json()) as { items: { version: string; status: string }[] }).items;
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ version: '2.0.0', status: 'succeeded' }),
        expect.objectContaining({ version: '2.0.1', status: 'failed' }),
      ]),
    );
  });

  it('shiplog.yaml: the documented mappings load', async () => {
    const { loadConfigFile } = await import('../../src/config-file.js');
    const config = loadConfigFile(path.join(DOCS, 'shiplog.yaml'));
    expect(config.mappings.generic?.fields.deployment).toBe('run.id');
    expect(config.mappings.rules?.github?.services?.[0]?.service).toBe('checkout-api');
  });
});
