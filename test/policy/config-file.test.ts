/** `shiplog.yaml`: start-up fails naming the file, the line and the field of every problem. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfigFile, parseConfigFile } from '../../src/config-file.js';
import { loadRuntimeConfig } from '../../src/config.js';
import { ShiplogError } from '../../src/errors.js';
import { startServer } from '../../src/server/serve.js';

function problem(text: string): ShiplogError {
  try {
    parseConfigFile(text, 'shiplog.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ShiplogError);
    return error as ShiplogError;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('the configuration file', () => {
  it('gives defaults without a file', () => {
    expect(loadConfigFile(undefined)).toBe(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.policy.environments).toEqual({});
  });

  it('accepts the other sections as mappings and freezes everything', () => {
    const config = parseConfigFile(
      [
        'environments:',
        '  production: {protected: true, approvals: 2}',
        'services: {checkout-api: {owner: payments}}',
        'alerts: {}',
        'retention: {hot: 90d}',
        'webhooks: {github: {secretEnv: GH}}',
        'mappings: {}',
        'kubernetes: {namespaces: {prod: production}}',
      ].join('\n'),
      'shiplog.yaml',
    );
    expect(config.policy.environments.production?.approvals).toBe(2);
    expect(config.kubernetes.namespaces).toEqual({ prod: 'production' });
    expect(Object.isFrozen(config.policy.environments.production)).toBe(true);
    expect(Object.isFrozen(config.kubernetes.namespaces)).toBe(true);
    expect(parseConfigFile('', 'empty.yaml').policy.environments).toEqual({});
  });

  it('names file, line and field of a policy problem', () => {
    const error = problem(
      ['environments:', '  production:', '    protected: true', '    aprovals: 1'].join('\n'),
    );
    expect(error.code).toBe('SHIPLOG_CONFIG');
    expect(error.message).toContain('shiplog.yaml:4:5 environments.production.aprovals: is not a known key');
  });

  it('names the outbound sink that lacks its PagerDuty routing key or misplaces a Grafana dashboard', () => {
    const error = problem(
      [
        'webhooks:',
        '  outbound:',
        '    - {name: pd, format: pagerduty, url: "https://events.pagerduty.com/v2/change/enqueue"}',
        '    - {name: ce, url: "https://sink.example/ce", dashboardUid: abc}',
        '    - {name: gf, format: grafna, url: "https://grafana.example/api/annotations"}',
      ].join('\n'),
    );
    const lines = error.message.split('\n').slice(1);
    expect(lines).toEqual([
      'shiplog.yaml:5:26 webhooks.outbound[2].format: must be one of cdevents, pagerduty, grafana',
    ]);
    const fixed = problem(
      [
        'webhooks:',
        '  outbound:',
        '    - {name: pd, format: pagerduty, url: "https://events.pagerduty.com/v2/change/enqueue"}',
        '    - {name: ce, url: "https://sink.example/ce", dashboardUid: abc}',
      ].join('\n'),
    );
    expect(fixed.message.split('\n').slice(1)).toEqual([
      expect.stringMatching(
        /^shiplog\.yaml:3:\d+ webhooks\.outbound\[0\]\.tokenVariable: is required for format pagerduty/,
      ),
      expect.stringMatching(
        /^shiplog\.yaml:4:\d+ webhooks\.outbound\[1\]\.dashboardUid: applies only to format grafana/,
      ),
    ]);
  });

  it('rejects unknown sections, sections that are not mappings, and bad namespace mappings', () => {
    const error = problem(
      [
        'environments:',
        '  production: {protected: true}',
        'servics: {}',
        'alerts: [a, b]',
        'kubernetes:',
        '  namespaces:',
        '    prod: production',
        '    stage: staging',
        '    bad: Not_An_Env',
        '  clusters: {}',
      ].join('\n'),
    );
    const lines = error.message.split('\n').slice(1);
    expect(lines).toEqual([
      expect.stringMatching(/^shiplog\.yaml:3:1 servics: is not a known section/),
      'shiplog.yaml:4:9 alerts: must be a mapping',
      'shiplog.yaml:8:12 kubernetes.namespaces.stage: names environment "staging", which is not configured under environments',
      'shiplog.yaml:9:10 kubernetes.namespaces.bad: must be an environment name (1-63 characters of a-z 0-9 . _ -)',
      'shiplog.yaml:10:3 kubernetes.clusters: is not a known key',
    ]);
    expect(error.details.map((d) => d.path)).toContain('/servics');
  });

  it('maps services to image repositories, normalized as Docker resolves them', () => {
    const config = parseConfigFile(
      [
        'environments: {production: {protected: true}}',
        'kubernetes:',
        '  repositories:',
        '    nginx: [nginx]',
        '    checkout-api: [GHCR.io/acme/checkout-api, acme/checkout-api, localhost:5000/checkout-api]',
      ].join('\n'),
      'shiplog.yaml',
    );
    expect(config.kubernetes.repositories).toEqual({
      nginx: ['docker.io/library/nginx'],
      'checkout-api': [
        'ghcr.io/acme/checkout-api',
        'docker.io/acme/checkout-api',
        'localhost:5000/checkout-api',
      ],
    });
    const lines = problem(
      [
        'environments: {production: {protected: true}}',
        'kubernetes:',
        '  repositories:',
        '    api: [ghcr.io/acme/api:1.0]',
        '    web: []',
        '    Bad_Name: [ghcr.io/acme/x]',
        '    other: [ghcr.io/acme/x]',
      ].join('\n'),
    ).message.split('\n');
    expect(lines.slice(1)).toEqual([
      'shiplog.yaml:4:11 kubernetes.repositories.api[0]: must be an image repository without tag or digest (ghcr.io/acme/api)',
      'shiplog.yaml:5:10 kubernetes.repositories.web: must be a non-empty list of image repositories (ghcr.io/acme/api)',
      'shiplog.yaml:6:5 kubernetes.repositories.Bad_Name: must be a service name (1-63 characters of a-z 0-9 . _ -)',
      'shiplog.yaml:7:13 kubernetes.repositories.other[0]: ghcr.io/acme/x is already mapped to service Bad_Name',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problem('environments:\n  production: {protected: true\n').message).toMatch(
      /^shiplog\.yaml: 1 problem:\nshiplog\.yaml:\d+:\d+ \(yaml\)/,
    );
  });

  it('fails when a named file cannot be read', () => {
    expect(() => loadConfigFile('/nonexistent/shiplog.yaml')).toThrow(
      /\/nonexistent\/shiplog\.yaml: cannot read the configuration file \(ENOENT\)/,
    );
  });

  it('stops `shiplog serve --config` before it opens the database', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-config-'));
    const file = path.join(dir, 'shiplog.yaml');
    fs.writeFileSync(file, 'environments:\n  production:\n    protected: yes-please\n');
    const config = loadRuntimeConfig({ config: file, data: path.join(dir, 'data'), port: 0 }, {});
    await expect(startServer(config)).rejects.toThrow(`${file}:3:16 environments.production.protected`);
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
