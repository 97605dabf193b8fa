/** `shiplog blame` against a real server and a real git repository made by the test. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const TOKEN = 'blame-admin-token';

describe('shiplog blame', () => {
  let server: ServerProcess;
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-blame-repo-'));
  const commits: Record<string, string> = {};
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'test',
        GIT_AUTHOR_EMAIL: 'test@example.com',
        GIT_COMMITTER_NAME: 'test',
        GIT_COMMITTER_EMAIL: 'test@example.com',
      },
    }).trim();
  const commit = (name: string, file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    fs.writeFileSync(path.join(repo, file), content);
    git('add', file);
    git('commit', '-q', '-m', name);
    commits[name] = git('rev-parse', 'HEAD');
  };
  const shiplog = (args: string[], cwd = repo) =>
    spawnSync(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN },
      encoding: 'utf8',
      timeout: 30_000,
    });
  const deploy = async (
    deployment: string,
    sha: string,
    time: string,
    extra: Record<string, unknown> = {},
    outcome = 'deployment.succeeded',
  ) => {
    const common = {
      deployment,
      service: 'checkout',
      environment: 'production',
      version: deployment,
      commit: sha,
      actor: 'alice',
      ...extra,
    };
    const answer = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          { ...common, type: 'deployment.started', time },
          { ...common, type: outcome, time: new Date(Date.parse(time) + 60_000).toISOString() },
        ],
      }),
    });
    expect(answer.status).toBe(201);
  };

  beforeAll(async () => {
    git('init', '-q');
    commit('c1', 'README.md', 'hello\n');
    commit('c2', 'config/app.yaml', 'timeout: 5\n');
    commit('c3', 'src/main.ts', 'export {};\n');
    commit('c4', 'config/flags.yaml', 'beta: true\n');
    commit('c5', 'src/main.ts', 'export const x = 1;\n');
    server = await startServerProcess({ env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN } });
    // Staging got c4 first: another environment's deployments never count.
    await deploy('s1', commits.c4 as string, '2026-11-01T08:00:00Z', { environment: 'staging' });
    await deploy('d1', commits.c1 as string, '2026-11-01T09:00:00Z');
    await deploy('d2', commits.c3 as string, '2026-11-02T09:00:00Z', { actor: 'bob' });
    // A failed deployment of c5 changed nothing: the next range starts at d2's commit.
    await deploy('f1', commits.c5 as string, '2026-11-03T09:00:00Z', {}, 'deployment.failed');
    await deploy('d3', commits.c5 as string, '2026-11-04T09:00:00Z');
    await deploy('o1', commits.c5 as string, '2026-11-01T09:30:00Z', { service: 'other' });
    await deploy('x1', 'deadbeefdeadbeef', '2026-11-05T09:00:00Z', { environment: 'lab' });
    await deploy('x2', `--output=${path.join(repo, 'x')}`, '2026-11-05T09:00:00Z', { environment: 'lab2' });
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it('names the first deployment whose commit range changed the path, from the current directory', () => {
    const result = shiplog([
      'blame',
      '--env',
      'production',
      '--path',
      'config/app.yaml',
      '--service',
      'checkout',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('by deployment d2');
    expect(result.stdout).toContain(`commit:   ${commits.c3 as string} (after ${commits.c1 as string})`);
    expect(result.stdout).toContain('actor:    bob');
    expect(result.stdout).toContain('version:  d2');
    expect(result.stdout).toContain('finished: 2026-11-02T09:01:00.000Z');
    expect(result.stdout).toContain(commits.c2 as string);
  });

  it('skips failed deployments and reads the range from the last deployment that landed', () => {
    const result = shiplog(
      [
        'blame',
        '--env',
        'production',
        '--path',
        'config/flags.yaml',
        '--service',
        'checkout',
        '--repo',
        repo,
        '--json',
      ],
      os.tmpdir(),
    );
    expect(result.status).toBe(0);
    // f1 (c5) failed: d3's range is d2's c3 .. c5, and d3 brought c4.
    expect(JSON.parse(result.stdout)).toMatchObject({
      deployment: { deployment: 'd3', previousCommit: commits.c3, commit: commits.c5, commits: [commits.c4] },
    });
  });

  it('reads each service as its own line of commits when no service is given', () => {
    const result = shiplog(['blame', '--env', 'production', '--path', 'src/main.ts', '--json']);
    expect(result.status).toBe(0);
    // o1, the first deployment of "other" (09:30, c5), brought both commits that touched it.
    expect(JSON.parse(result.stdout)).toMatchObject({
      deployment: {
        deployment: 'o1',
        service: 'other',
        previousCommit: null,
        commits: [commits.c5, commits.c3],
      },
    });
  });

  it('blames the first recorded deployment for what its whole history brought', () => {
    const result = shiplog(['blame', '--env', 'production', '--path', 'README.md', '--json']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      deployment: { deployment: 'd1', previousCommit: null, commits: [commits.c1] },
    });
  });

  it('exits 1 and says so when no deployment changed the path', () => {
    const result = shiplog(['blame', '--env', 'production', '--path', 'docs/none.md']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('no deployment into production changed docs/none.md\n');
    const otherService = shiplog([
      'blame',
      '--env',
      'production',
      '--path',
      'config/app.yaml',
      '--service',
      'nope',
    ]);
    expect(otherService.status).toBe(1);
  });

  it('exits 2, not 1, when the server refuses the look-up', () => {
    const result = spawnSync(
      process.execPath,
      [BIN, 'blame', '--env', 'production', '--path', 'config/app.yaml', '--token', 'wrong-token'],
      { cwd: repo, env: { ...process.env, SHIPLOG_URL: server.url }, encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('401');
  });

  it('exits 2 naming the deployment when git cannot read its commit, and never passes an option to git', () => {
    const unknown = shiplog(['blame', '--env', 'lab', '--path', 'config/app.yaml']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('deployment x1');
    const option = shiplog(['blame', '--env', 'lab2', '--path', 'config/app.yaml']);
    expect(option.status).toBe(2);
    expect(option.stderr).toContain('deployment x2 has a commit that is not a git object name');
    expect(fs.existsSync(path.join(repo, 'x'))).toBe(false);
  });
});
