/** `correlation:` and `services:` of shiplog.yaml: parsed with defaults, errors by line and field. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseConfigFile } from '../../src/config-file.js';

describe('correlation and services configuration', () => {
  it('defaults to a 15-minute window, a 24-hour lookback and depth 1', () => {
    expect(DEFAULT_CONFIG.correlation).toEqual({ windowMinutes: 15, lookbackHours: 24, dependencyDepth: 1 });
  });

  it('reads correlation settings and services with their dependencies', () => {
    const config = parseConfigFile(
      [
        'correlation: {windowMinutes: 30, dependencyDepth: 2}',
        'services:',
        '  checkout-api: {team: payments, dependsOn: [payments-db, auth-api], repository: octo-org/checkout-api}',
        '  auth-api: {owner: identity}',
      ].join('\n'),
      'shiplog.yaml',
    );
    expect(config.correlation).toEqual({ windowMinutes: 30, lookbackHours: 24, dependencyDepth: 2 });
    expect(config.services).toEqual({
      'checkout-api': {
        team: 'payments',
        dependsOn: ['payments-db', 'auth-api'],
        repository: 'octo-org/checkout-api',
      },
      'auth-api': { team: 'identity', dependsOn: [] },
    });
  });

  it('names the line and field of every problem', () => {
    let message = '';
    try {
      parseConfigFile(
        [
          'correlation:',
          '  windowMinutes: 0',
          '  lookback: 3',
          'services:',
          '  checkout-api: {dependsOn: [Payments DB]}',
        ].join('\n'),
        'shiplog.yaml',
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(
      'shiplog.yaml:2:18 correlation.windowMinutes: must be a whole number from 1 to 1440',
    );
    expect(message).toContain('shiplog.yaml:3:3 correlation.lookback: is not a known key');
    expect(message).toMatch(
      /shiplog\.yaml:5:\d+ services\.checkout-api\.dependsOn\[0\]: must be a service name/,
    );
  });
});
