/** `alerts.suppression` and `verification` of shiplog.yaml: the contract's example, and errors naming file, line and field. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { formatMatcher } from '../../src/alerts/matchers.js';
import { ROOT } from '../helpers/server-process.js';

/** DESIGN.md §11's keys, as written there. */
const EXAMPLE = `
alerts:
  suppression:
    alertmanager: {url: http://127.0.0.1:9093, matchers: ['severity!="critical"'], grace: 10m}
verification:
  - name: prod-errors
    match: {environment: production}
    prometheus: {url: http://127.0.0.1:9090, query: 'sum(rate(http_errors_total{service="{{service}}"}[1m]))'}
    successCondition: 'result < 0.5'
    interval: 30s
    count: 10
    failureLimit: 1
  - name: version-answered
    http: {url: 'http://{{service}}.internal/version', expectStatus: 200, expectBody: '{{version}}'}
`;

describe('alerts.suppression and verification in shiplog.yaml', () => {
  it("reads DESIGN.md's example with Argo Rollouts' defaults", () => {
    const config = parseConfigFile(EXAMPLE, 'shiplog.yaml');
    expect(config.alerts.suppression).toMatchObject({
      url: 'http://127.0.0.1:9093',
      graceMs: 600_000,
      leaseMs: 300_000,
    });
    expect(config.alerts.suppression?.matchers.map(formatMatcher)).toEqual(['severity!="critical"']);
    const [errors, version] = config.verification;
    expect(errors).toMatchObject({
      name: 'prod-errors',
      match: { environment: 'production' },
      probe: { kind: 'prometheus', url: 'http://127.0.0.1:9090' },
      intervalMs: 30_000,
      count: 10,
      failureLimit: 1,
      consecutiveErrorLimit: 4,
    });
    expect(errors?.successCondition?.evaluate(0.2)).toBe(true);
    expect(version).toMatchObject({
      match: {},
      probe: { kind: 'http', expectStatus: 200, expectBody: '{{version}}' },
      count: 1,
      failureLimit: 0,
    });
  });

  it('defaults the silence matchers to severity!="critical" and allows grace 0', () => {
    const config = parseConfigFile(
      'alerts:\n  suppression:\n    alertmanager: {url: "http://am:9093/", grace: 0}\n',
      'f.yaml',
    );
    expect(config.alerts.suppression?.url).toBe('http://am:9093');
    expect(config.alerts.suppression?.graceMs).toBe(0);
    expect(config.alerts.suppression?.matchers.map(formatMatcher)).toEqual(['severity!="critical"']);
    expect(parseConfigFile('server: {}\n', 'f.yaml').alerts.suppression).toBeUndefined();
  });

  it('names file, line and field of every problem, and changes nothing', () => {
    const text = `alerts:
  suppression:
    alertmanager:
      url: ftp://am
      matchers: ['severity!="critical"', 'team=~"pay("', 'service="x"']
      grace: soon
verification:
  - name: prod-errors
    prometheus: {url: http://127.0.0.1:9090, query: 'x{service="{{svc}}"}'}
    successCondition: 'result <'
    count: 0
  - name: prod-errors
    http: {url: 'http://{{service}}.internal/version', expectStatus: 99}
    successCondition: 'result < 1'
    retries: 3
`;
    let message = '';
    try {
      parseConfigFile(text, 'shiplog.yaml');
    } catch (error) {
      message = (error as Error).message;
    }
    for (const line of [
      /shiplog\.yaml:4:\d+ alerts\.suppression\.alertmanager\.url: is required/,
      /shiplog\.yaml:5:\d+ alerts\.suppression\.alertmanager\.matchers\[1\]: has an invalid regular expression/,
      /shiplog\.yaml:5:\d+ alerts\.suppression\.alertmanager\.matchers\[2\]: must not name service/,
      /shiplog\.yaml:6:\d+ alerts\.suppression\.alertmanager\.grace: must be a duration/,
      /shiplog\.yaml:9:\d+ verification\[0\]\.prometheus\.query: names unknown placeholder \{\{svc\}\}/,
      /shiplog\.yaml:10:\d+ verification\[0\]\.successCondition: has the end at 9/,
      /shiplog\.yaml:11:\d+ verification\[0\]\.count: must be a whole number from 1 to 1000/,
      /shiplog\.yaml:12:\d+ verification\[1\]\.name: is used by another check/,
      /shiplog\.yaml:13:\d+ verification\[1\]\.http\.expectStatus: must be an HTTP status/,
      /shiplog\.yaml:14:\d+ verification\[1\]\.successCondition: applies to prometheus checks only/,
      /shiplog\.yaml:15:\d+ verification\[1\]\.retries: is not a known key/,
    ]) {
      expect(message).toMatch(line);
    }
    expect(() => parseConfigFile('verification: {name: x}\n', 'f.yaml')).toThrow(
      /f\.yaml:1:\d+ verification: must be a list of checks/,
    );
  });
});

describe('docs/verification.md', () => {
  it('shows a configuration shiplog reads as the page describes it', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/verification.md'), 'utf8');
    const yaml = /<!-- snippet:config -->\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(yaml).toBeDefined();
    const config = parseConfigFile(yaml as string, 'docs/verification.md');
    expect(config.alerts.suppression).toMatchObject({
      graceMs: 600_000,
      leaseMs: 300_000,
      maxHoldMs: 21_600_000,
    });
    expect(config.verification.map((c) => c.name)).toEqual(['prod-errors', 'version-answered']);
  });
});
