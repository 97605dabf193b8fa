import { describe, expect, it } from 'vitest';
import { validateEvent } from './event.js';

const valid = {
  type: 'deployment.started',
  deployment: 'd1',
  service: 'api',
  environment: 'production',
  version: '1',
};

describe('validateEvent', () => {
  it('accepts a valid event', () => {
    expect(validateEvent(valid)).toEqual([]);
  });

  it('names every bad field by JSON pointer', () => {
    const errors = validateEvent(
      { ...valid, type: 'deployment.exploded', service: '../etc', colour: 'red' },
      '/events/3',
    );
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/events/3/colour',
      '/events/3/service',
      '/events/3/type',
    ]);
  });

  it('rejects strings that cannot be canonicalized (lone surrogates) instead of failing later', () => {
    expect(validateEvent({ ...valid, version: 'v\ud800' })).toEqual([
      { path: '/version', message: 'contains an unpaired UTF-16 surrogate' },
    ]);
    expect(validateEvent({ ...valid, labels: { team: 'a\udc00' } })).toEqual([
      { path: '/labels/team', message: 'contains an unpaired UTF-16 surrogate' },
    ]);
  });

  it('rejects a deployment key with path characters', () => {
    expect(validateEvent({ ...valid, deployment: 'a/../b' }).map((e) => e.path)).toEqual(['/deployment']);
  });
});
