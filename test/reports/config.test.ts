/** `reports:` of shiplog.yaml: the zone of report months, validated with file, line and field. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseConfigFile } from '../../src/config-file.js';

describe('reports.timeZone', () => {
  it('defaults to UTC and takes an IANA zone', () => {
    expect(DEFAULT_CONFIG.reports.timeZone).toBe('UTC');
    expect(parseConfigFile('reports:\n  timeZone: Europe/Berlin\n', 'shiplog.yaml').reports.timeZone).toBe(
      'Europe/Berlin',
    );
  });

  it('names the file, line and field of a bad zone or an unknown key', () => {
    expect(() =>
      parseConfigFile('server:\n  port: 7350\nreports:\n  timeZone: Mars/Olympus\n', 'shiplog.yaml'),
    ).toThrow(/shiplog\.yaml:4:\d+ reports\.timeZone: must be an IANA time zone/);
    expect(() => parseConfigFile('reports:\n  zone: UTC\n', 'shiplog.yaml')).toThrow(
      /shiplog\.yaml:2:\d+ reports\.zone: is not a known key/,
    );
  });
});
