/**
 * Property-based: thousands of random and mutated bodies sent to POST /v1/events never get a
 * 5xx, and a 4xx never changes what is stored.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/domain/event.js';
import { countEvents, testApp, type TestApp } from '../helpers/app.js';

const valid = fc.record({
  type: fc.constantFrom(...EVENT_TYPES),
  deployment: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,12}$/),
  service: fc.constantFrom('checkout-api', 'cart'),
  environment: fc.constantFrom('production', 'staging'),
  version: fc.constantFrom('1.0.0', '2.0.0'),
  time: fc
    .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
});

/** A valid event with one field replaced by an arbitrary JSON value, or removed. */
const mutated = fc
  .tuple(
    valid,
    fc.constantFrom(
      'type',
      'deployment',
      'service',
      'environment',
      'version',
      'time',
      'labels',
      'build',
      'kind',
      'id',
      'region',
      'x',
    ),
    fc.option(fc.jsonValue(), { nil: undefined }),
  )
  .map(([event, key, value]) => {
    const copy: Record<string, unknown> = Object.fromEntries(
      Object.entries(event).filter(([k]) => k !== key),
    );
    if (value !== undefined) copy[key] = value;
    return copy;
  });

/** The raw request body: JSON of valid, mutated and random values, or arbitrary text. */
const body = fc.oneof(
  { weight: 3, arbitrary: mutated.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc
      .record({ events: fc.array(fc.oneof(valid, mutated), { maxLength: 5 }) })
      .map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: valid.map((v) => JSON.stringify(v).slice(0, -3)) },
);

describe('POST /v1/events under random input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp('sqlite');
  });
  afterAll(async () => t.close());

  it('never answers 5xx and never stores anything on a 4xx', async () => {
    let count = await countEvents(t.store);
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const answer = await t.app.server.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { authorization: 'Bearer test-admin-secret', 'content-type': 'application/json' },
          payload,
        });
        expect(answer.statusCode).toBeLessThan(500);
        const after = await countEvents(t.store);
        if (answer.statusCode >= 400) {
          expect(after).toBe(count);
          expect(answer.json().error.code).toMatch(/^SHIPLOG_/);
          expect(answer.body).not.toMatch(/\bat .+\.(ts|js):\d+/);
        }
        count = after;
      }),
      { numRuns: 2500 },
    );
  }, 120_000);
});
