/**
 * `shiplog config test-mapping` and `shiplog sync github|gitlab` against a real shiplog server
 * on a real port and a stand-in provider API on 127.0.0.1 serving the real response shapes.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { SECRETS, deliver, fixture } from '../helpers/webhooks.js';

async function shiplog(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  process.exitCode = 0;
  try {
    await main(['node', 'shiplog', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-cli-'));
const write = (name: string, text: string) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
};

describe('shiplog config test-mapping', () => {
  it('prints the events a payload becomes under the config file’s rules', async () => {
    const config = write(
      'shiplog.yaml',
      [
        'mappings:',
        '  github:',
        '    services:',
        "      - { match: 'Codertocat/*', service: hello }",
        '    environments:',
        "      - { match: '/^prod/', environment: prod-eu }",
        '',
      ].join('\n'),
    );
    const payload = path.join(tmp, 'deployment.json');
    fs.copyFileSync(
      new URL('github/deployment.payload.json', new URL('../../../shared/fixtures/', import.meta.url)),
      payload,
    );
    const run = await shiplog([
      'config',
      'test-mapping',
      'github',
      payload,
      '--header',
      'X-GitHub-Event: deployment',
      '--config',
      config,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      events: [
        expect.objectContaining({
          type: 'deployment.requested',
          service: 'hello',
          environment: 'prod-eu',
          deployment: 'github:Codertocat:Hello-World:145988746',
        }),
      ],
    });
  });

  it('prints why a payload is ignored, and 400-style details for a bad one', async () => {
    const payload = write('ping.json', fixture('github/ping.payload.json').toString('utf8'));
    const ignored = await shiplog([
      'config',
      'test-mapping',
      'github',
      payload,
      '--header',
      'X-GitHub-Event: ping',
    ]);
    expect(JSON.parse(ignored.stdout)).toEqual({ ignored: 'ping' });
    const bad = write('bad.json', '{"deployment": {}}');
    const failed = await shiplog([
      'config',
      'test-mapping',
      'github',
      bad,
      '--header',
      'X-GitHub-Event: deployment',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/\/repository\/full_name: is required/);
  });

  it('names the line and field of an invalid mappings section', async () => {
    const config = write(
      'bad.yaml',
      [
        'mappings:',
        '  github:',
        '    services:',
        "      - { match: '/[/', service: Not_A_Name }",
        '  bitbucket: {}',
        '',
      ].join('\n'),
    );
    const payload = write('p.json', '{}');
    const run = await shiplog(['config', 'test-mapping', 'jenkins', payload, '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /bad\.yaml:4:\d+ .*mappings\.github\.services\[0\]\.service: must be 1-63 characters/,
    );
    expect(run.stderr).toMatch(/bad\.yaml:5:\d+ .*mappings\.bitbucket: is not a known key/);
  });

  it('validates webhooks.outbound sinks', async () => {
    const config = write(
      'outbound.yaml',
      [
        'webhooks:',
        '  outbound:',
        '    - name: Tekton Sink',
        '      url: ftp://sink',
        '      token: inline',
        '',
      ].join('\n'),
    );
    const run = await shiplog([
      'config',
      'test-mapping',
      'jenkins',
      write('q.json', '{}'),
      '--config',
      config,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/outbound\.yaml:3:\d+ .*webhooks\.outbound\[0\]\.name: must match/);
    expect(run.stderr).toMatch(/webhooks\.outbound\[0\]\.url: must match/);
    expect(run.stderr).toMatch(/webhooks\.outbound\[0\]/);
  });
});

/** A stand-in for api.github.com and gitlab.com serving the documented response shapes. */
function providerServer(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const gh = JSON.parse(fixture('github/deployment_status.payload.json').toString('utf8')) as {
    deployment: Record<string, unknown>;
    deployment_status: Record<string, unknown>;
  };
  const older = {
    ...gh.deployment,
    id: 1,
    created_at: '2018-01-01T00:00:00Z',
    updated_at: '2018-01-01T00:00:00Z',
  };
  const gitlabDeployment = (id: number, status: string, updated: string) => ({
    id,
    iid: id,
    ref: 'main',
    sha: '279484c09fbe69ededfced8c1bb6e6d24616b468',
    created_at: '2021-04-28T19:49:00.000Z',
    updated_at: updated,
    status,
    user: {
      id: 1,
      name: 'Administrator',
      username: 'root',
      state: 'active',
      web_url: 'http://10.126.0.2:3000/root',
    },
    environment: { id: 9, name: 'staging', external_url: null },
    deployable: {
      id: 796 + id - 15,
      status: status === 'running' ? 'running' : 'success',
      stage: 'deploy',
      name: 'deploy',
      ref: 'main',
      tag: false,
      created_at: '2021-04-28T19:49:00.000Z',
      started_at: '2021-04-28T19:49:10.000Z',
      finished_at: status === 'running' ? null : updated,
      web_url: `http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/${796 + id - 15}`,
    },
  });
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const base = `http://${req.headers.host ?? ''}`;
    if (url.pathname.startsWith('/repos/')) {
      if (req.headers.authorization !== 'Bearer gh-api-token') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"message":"Bad credentials"}');
        return;
      }
      if (url.pathname === '/repos/Codertocat/Hello-World/deployments') {
        if (url.searchParams.get('page') === '2') return send([older]);
        return send([gh.deployment], {
          link: `<${base}/repos/Codertocat/Hello-World/deployments?per_page=100&page=2>; rel="next", <${base}/repos/Codertocat/Hello-World/deployments?per_page=100&page=2>; rel="last"`,
        });
      }
      if (url.pathname === '/repos/Codertocat/Hello-World/deployments/145988746/statuses') {
        return send([gh.deployment_status]);
      }
    }
    if (url.pathname.startsWith('/api/v4/') && req.headers['private-token'] === 'gl-api-token') {
      if (url.pathname === '/api/v4/projects/root%2Ftest-deployment-webhooks') {
        return send({
          id: 30,
          name: 'test-deployment-webhooks',
          path_with_namespace: 'root/test-deployment-webhooks',
          web_url: 'http://10.126.0.2:3000/root/test-deployment-webhooks',
        });
      }
      if (url.pathname === '/api/v4/projects/root%2Ftest-deployment-webhooks/deployments') {
        if (!url.searchParams.get('updated_after') || url.searchParams.get('order_by') !== 'updated_at') {
          res.writeHead(400);
          res.end('{"message":"updated_after requires order_by=updated_at"}');
          return;
        }
        return send([
          gitlabDeployment(15, 'success', '2021-04-28T19:50:00.000Z'),
          gitlabDeployment(16, 'running', '2021-04-29T08:00:00.000Z'),
        ]);
      }
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"Not Found"}');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

describe.each(DIALECTS)('shiplog sync (%s)', (dialect) => {
  let t: TestApp;
  let shiplogUrl: string;
  let provider: Awaited<ReturnType<typeof providerServer>>;
  beforeAll(async () => {
    t = await testApp(dialect, { webhooks: { secrets: SECRETS } });
    shiplogUrl = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    provider = await providerServer();
  });
  afterAll(async () => {
    await provider.close();
    await t.close();
  });
  afterEach(() => {
    delete process.env.SHIPLOG_GITHUB_TOKEN;
    delete process.env.SHIPLOG_GITLAB_TOKEN;
  });

  it('github: fills the status the webhooks missed, and a second run stores nothing', async () => {
    // The deployment webhook arrived; its deployment_status delivery was lost.
    const hook = await deliver(t.app.server, 'github', fixture('github/deployment.payload.json'), {
      'x-github-event': 'deployment',
    });
    expect(hook.status).toBe(201);
    process.env.SHIPLOG_GITHUB_TOKEN = 'gh-api-token';
    const args = ['sync', 'github', '--repo', 'Codertocat/Hello-World', '--since', '2019-01-01T00:00:00Z'];
    const common = ['--api-url', provider.url, '--url', shiplogUrl, '--token', ADMIN];
    const first = await shiplog([...args, ...common]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('Codertocat/Hello-World: 1 stored, 1 already known, 0 skipped\n');
    const again = await shiplog([...args, ...common]);
    expect(again.stdout).toBe('Codertocat/Hello-World: 0 stored, 2 already known, 0 skipped\n');
    // Page 2 holds only a deployment older than --since: its statuses are never fetched.
    expect(provider.requests).toContain('GET /repos/Codertocat/Hello-World/deployments?per_page=100&page=2');
    expect(provider.requests.some((r) => r.includes('/deployments/1/statuses'))).toBe(false);

    const d = await t.call('GET', '/v1/deployments/github:Codertocat:Hello-World:145988746');
    expect(d.json()).toMatchObject({
      status: 'succeeded',
      service: 'hello-world',
      environment: 'production',
    });
    // The webhook replayed after the sync is a duplicate too: the ids are the same.
    const replay = await deliver(t.app.server, 'github', fixture('github/deployment_status.payload.json'), {
      'x-github-event': 'deployment_status',
    });
    expect(replay.json()).toMatchObject({ results: [{ status: 'duplicate' }] });
  });

  it('github: a provider error is one clear line and a non-zero exit', async () => {
    process.env.SHIPLOG_GITHUB_TOKEN = 'wrong';
    const run = await shiplog([
      'sync',
      'github',
      '--repo',
      'Codertocat/Hello-World',
      '--since',
      '7d',
      '--api-url',
      provider.url,
      '--url',
      shiplogUrl,
      '--token',
      ADMIN,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^shiplog: 401 from http:\/\/127\.0\.0\.1:\d+\/repos\/Codertocat\/Hello-World\/deployments: .*Bad credentials/,
    );
  });

  it('gitlab: fills missed deployments with the ids the Deployment Hook gives', async () => {
    const hook = await deliver(t.app.server, 'gitlab', fixture('gitlab/deployment_event.json'), {
      'x-gitlab-event': 'Deployment Hook',
    });
    expect(hook.status).toBe(201);
    process.env.SHIPLOG_GITLAB_TOKEN = 'gl-api-token';
    const run = await shiplog([
      'sync',
      'gitlab',
      '--project',
      'root/test-deployment-webhooks',
      '--since',
      '2021-04-01T00:00:00Z',
      '--api-url',
      provider.url,
      '--url',
      shiplogUrl,
      '--token',
      ADMIN,
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('root/test-deployment-webhooks: 1 stored, 1 already known, 0 skipped\n');
    expect(
      (await t.call('GET', '/v1/deployments/gitlab:root:test-deployment-webhooks:16')).json(),
    ).toMatchObject({
      status: 'in_progress',
      service: 'test-deployment-webhooks',
      environment: 'staging',
      version: '279484c',
      build: { id: '797', provider: 'gitlab-ci' },
    });
  });
});
