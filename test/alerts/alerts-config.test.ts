/** `alerts:` of shiplog.yaml: the DESIGN.md §11 example parses; errors name file, line and field. */
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { ROUTE_DEFAULTS, type Route } from '../../src/alerts/alerts-config.js';
import { parseMatcher, matches } from '../../src/alerts/matchers.js';
import { groupKey, groupLabels, matchRoutes } from '../../src/alerts/routing.js';
import { parseDuration } from '../../src/domain/duration.js';
import { cycleLengthMs, nextEscalationStep, retryAfterMs } from '../../src/alerts/dispatcher.js';
import { overdueThresholdMs, percentile } from '../../src/alerts/rules.js';

const DESIGN_EXAMPLE = `
alerts:
  rules:
    - {name: prod-failed, when: deployment_failed, match: {environment: production}, severity: critical}
    - {name: slow, when: deployment_overdue, factor: 2, after: 30m}
    - {name: bypass, when: ungated_deployment, match: {environment: production}, severity: critical}
    - {name: off-hours, when: outside_window, severity: warning}
    - {name: busy, when: frequency_above, count: 20, per: 1h}
    - {name: rollback, when: rolled_back}
  route:
    receiver: team-slack
    group_by: [service, environment]
    routes:
      - {matchers: ['severity="critical"'], receiver: oncall}
  receivers:
    - {name: oncall, pagerduty: {routingKeyEnv: SHIPLOG_PAGERDUTY_ROUTING_KEY}}
    - {name: team-slack, slack: {urlEnv: SHIPLOG_SLACK_WEBHOOK_URL}}
    - {name: ops, opsgenie: {apiKeyEnv: SHIPLOG_OPSGENIE_API_KEY}}
    - {name: audit-hook, webhook: {url: https://example.internal/hook, secretEnv: SHIPLOG_HOOK_SECRET}}
  escalation:
    oncall: {levels: [{after: 0m, receiver: team-slack}, {after: 15m, receiver: oncall}], repeat: 1}
  suppression:
    alertmanager: {url: http://127.0.0.1:9093, matchers: ['severity!="critical"'], grace: 10m}
`;

function problemsOf(yaml: string): string {
  try {
    parseConfigFile(yaml, 'shiplog.yaml');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('alerts configuration', () => {
  it('parses the DESIGN.md example with Alertmanager defaults', () => {
    const { alerts } = parseConfigFile(DESIGN_EXAMPLE, 'shiplog.yaml');
    expect(alerts.rules.map((r) => r.when)).toEqual([
      'deployment_failed',
      'deployment_overdue',
      'ungated_deployment',
      'outside_window',
      'frequency_above',
      'rolled_back',
    ]);
    expect(alerts.rules[1]).toMatchObject({ factor: 2, afterMs: 30 * 60_000, severity: 'warning' });
    expect(alerts.rules[4]).toMatchObject({ count: 20, perMs: 3600_000, by: 'service' });
    const route = alerts.route as Route;
    expect(route).toMatchObject({
      receiver: 'team-slack',
      groupBy: ['service', 'environment'],
      ...ROUTE_DEFAULTS,
    });
    // A child inherits group_by and timings.
    expect(route.routes[0]).toMatchObject({
      receiver: 'oncall',
      groupBy: ['service', 'environment'],
      groupWaitMs: 30_000,
    });
    expect(Object.keys(alerts.receivers)).toEqual(['oncall', 'team-slack', 'ops', 'audit-hook']);
    expect(alerts.escalation.oncall).toEqual({
      levels: [
        { afterMs: 0, receiver: 'team-slack' },
        { afterMs: 15 * 60_000, receiver: 'oncall' },
      ],
      repeat: 1,
    });
    expect(alerts.suppression?.graceMs).toBe(600_000);
  });

  it('names file, line and field of an unknown receiver, a bad matcher and a bad duration', () => {
    const message = problemsOf(`alerts:
  rules:
    - {name: a, when: deployment_failed}
    - {name: b, when: deployment_exploded}
    - {name: c, when: frequency_above, per: 1hour}
  route:
    receiver: team-slack
    group_wait: soon
    routes:
      - {matchers: ['severity=~"(unclosed"'], receiver: pager}
      - {matchers: ['not a matcher'], receiver: team-slack}
  receivers:
    - {name: team-slack, slack: {urlEnv: https://hooks.slack.com/services/T0/B0/secret}}
  escalation:
    team-slack: {levels: [{after: 5 minutes, receiver: nobody}]}
`);
    expect(message).toContain('shiplog.yaml:4:');
    expect(message).toContain('alerts.rules[1].when: must be one of deployment_failed');
    expect(message).toMatch(/shiplog\.yaml:5:\d+ alerts\.rules\[2\]\.count: is required/);
    expect(message).toMatch(/shiplog\.yaml:5:\d+ alerts\.rules\[2\]\.per: must be a duration/);
    expect(message).toMatch(/shiplog\.yaml:8:\d+ alerts\.route\.group_wait: must be a duration like 30s/);
    expect(message).toMatch(
      /shiplog\.yaml:10:\d+ alerts\.route\.routes\[0\]\.matchers\[0\]: has an invalid regular expression/,
    );
    expect(message).toMatch(
      /shiplog\.yaml:10:\d+ alerts\.route\.routes\[0\]\.receiver: names receiver "pager", which is not under alerts\.receivers/,
    );
    expect(message).toMatch(
      /shiplog\.yaml:11:\d+ alerts\.route\.routes\[1\]\.matchers\[0\]: must be a matcher like severity!="critical"/,
    );
    expect(message).toMatch(
      /shiplog\.yaml:13:\d+ alerts\.receivers\[0\]\.slack\.urlEnv: is required: the NAME of an environment variable/,
    );
    expect(message).toMatch(
      /shiplog\.yaml:15:\d+ alerts\.escalation\.team-slack\.levels\[0\]\.after: must be a duration/,
    );
    expect(message).toMatch(
      /shiplog\.yaml:15:\d+ alerts\.escalation\.team-slack\.levels\[0\]\.receiver: names receiver "nobody"/,
    );
    // The secret-looking value is never echoed back.
    expect(message).not.toContain('T0/B0/secret');
  });
});

describe('Alertmanager semantics', () => {
  it('parses and matches the four matcher operators, regexes anchored, missing labels empty', () => {
    const labels = { service: 'checkout-api', severity: 'critical' };
    expect(matches(parseMatcher('severity="critical"'), labels)).toBe(true);
    expect(matches(parseMatcher('severity!="critical"'), labels)).toBe(false);
    expect(matches(parseMatcher('service=~"checkout"'), labels)).toBe(false);
    expect(matches(parseMatcher('service=~"checkout-.*"'), labels)).toBe(true);
    expect(matches(parseMatcher('team!~".+"'), labels)).toBe(true);
    expect(matches(parseMatcher('team=""'), labels)).toBe(true);
  });

  it('routes to the first matching child, and on past it with continue', () => {
    const { alerts } = parseConfigFile(
      `alerts:
  route:
    receiver: default
    group_by: ['...']
    routes:
      - {matchers: ['environment="production"'], receiver: prod, continue: true, group_wait: 1s}
      - {matchers: ['severity="critical"'], receiver: pager, routes: [{matchers: ['service="db"'], receiver: dba}]}
      - {matchers: ['severity="critical"'], receiver: never}
  receivers:
    - {name: default, webhook: {url: 'http://127.0.0.1:1/a'}}
    - {name: prod, webhook: {url: 'http://127.0.0.1:1/b'}}
    - {name: pager, webhook: {url: 'http://127.0.0.1:1/c'}}
    - {name: dba, webhook: {url: 'http://127.0.0.1:1/d'}}
    - {name: never, webhook: {url: 'http://127.0.0.1:1/e'}}
`,
      'shiplog.yaml',
    );
    const root = alerts.route as Route;
    const receivers = (labels: Record<string, string>) => matchRoutes(root, labels).map((r) => r.receiver);
    expect(receivers({ environment: 'production', severity: 'critical', service: 'api' })).toEqual([
      'prod',
      'pager',
    ]);
    expect(receivers({ environment: 'production', severity: 'critical', service: 'db' })).toEqual([
      'prod',
      'dba',
    ]);
    expect(receivers({ environment: 'staging', severity: 'warning' })).toEqual(['default']);
    const prod = root.routes[0] as Route;
    expect(prod.groupWaitMs).toBe(1000);
    expect(prod.groupIntervalMs).toBe(ROUTE_DEFAULTS.groupIntervalMs);
    const labels = { environment: 'production', service: 'api' };
    expect(groupLabels(prod, labels)).toEqual(labels);
    expect(groupKey(prod, labels)).toBe(groupKey(prod, { service: 'api', environment: 'production' }));
  });

  it('reads Prometheus durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30m1h')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('escalation and overdue arithmetic', () => {
  const policy = {
    levels: [
      { afterMs: 0, receiver: 'slack' },
      { afterMs: 15 * 60_000, receiver: 'pager' },
    ],
    repeat: 1,
  };
  it('walks the levels, then repeats the pass once, then stops', () => {
    const first = nextEscalationStep(policy, { cycle_ms: 0, cycle: 0, level: 0 });
    expect(first).toEqual({ cycle_ms: 0, cycle: 0, level: 1, next_ms: 15 * 60_000 });
    expect(cycleLengthMs(policy)).toBe(30 * 60_000);
    const second = nextEscalationStep(policy, first);
    expect(second).toEqual({ cycle_ms: 30 * 60_000, cycle: 1, level: 0, next_ms: 30 * 60_000 });
    const third = nextEscalationStep(policy, nextEscalationStep(policy, second));
    expect(third.next_ms).toBeNull();
  });

  it('takes factor × p90 of recent durations, or after without history', () => {
    const rule = { factor: 2, afterMs: 30 * 60_000 } as Parameters<typeof overdueThresholdMs>[0];
    expect(overdueThresholdMs(rule, [60_000])).toBe(30 * 60_000);
    const durations = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => m * 60_000);
    expect(percentile(durations, 0.9)).toBe(9 * 60_000);
    expect(overdueThresholdMs(rule, durations)).toBe(18 * 60_000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('7', 0)).toBe(7000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});
