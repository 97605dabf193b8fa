import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA_VERSION, eventJsonSchema, validateEvent } from './event.js';

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

  it('accepts the DORA fields of schema version 2, and version-1 events without them', () => {
    expect(eventJsonSchema()['x-schema-version']).toBe('2');
    expect(EVENT_SCHEMA_VERSION).toBe('2');
    const commits = [{ sha: '9f2c1e0a', time: '2026-11-02T09:00:00Z' }];
    expect(validateEvent({ ...valid, commits, intent: 'remediation', remediates: 'gha-run-1' })).toEqual([]);
    expect(validateEvent(valid)).toEqual([]);
  });

  it('names bad DORA fields: commit time, intent, more than 1000 commits', () => {
    const many = Array.from({ length: 1001 }, () => ({ sha: 'abcd', time: '2026-11-02T09:00:00Z' }));
    expect(validateEvent({ ...valid, commits: many }).map((e) => e.path)).toEqual(['/commits']);
    expect(
      validateEvent({ ...valid, commits: [{ sha: 'abcd', time: 'yesterday' }], intent: 'oops' }).map(
        (e) => e.path,
      ),
    ).toEqual(expect.arrayContaining(['/intent']));
    expect(validateEvent({ ...valid, commits: [{ sha: 'abcd', time: '2026-13-45T99:00:00Z' }] })).not.toEqual(
      [],
    );
  });
});
