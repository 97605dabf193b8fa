/** `dora:` of shiplog.yaml: its default, and errors that name the file, line and field. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseConfigFile } from '../../src/config-file.js';
import { ShiplogError } from '../../src/errors.js';

describe('dora: in shiplog.yaml', () => {
  it('defaults to sev2 and takes another severity', () => {
    expect(DEFAULT_CONFIG.dora.minSeverity).toBe('sev2');
    expect(parseConfigFile('dora:\n  minSeverity: sev3\n', 'shiplog.yaml').dora.minSeverity).toBe('sev3');
  });

  it('names the line and field of a bad severity or an unknown key', () => {
    let error: unknown;
    try {
      parseConfigFile(['dora:', '  minSeverity: critical', '  window: 30d'].join('\n'), 'shiplog.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ShiplogError);
    const lines = (error as ShiplogError).message.split('\n').slice(1);
    expect(lines).toEqual([
      'shiplog.yaml:2:16 dora.minSeverity: must be one of sev1, sev2, sev3, sev4, sev5',
      expect.stringMatching(/^shiplog\.yaml:3:3 dora\.window: is not a known key/),
    ]);
  });
});
