import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CORRELATION,
  SUSPECT_REASONS,
  candidateSpan,
  dependencyClosure,
  mentionedWords,
  rankSuspects,
  type CandidateDeployment,
  type IncidentFacts,
} from './correlation.js';

const MIN = 60_000;
const START = Date.parse('2026-11-02T12:00:00Z');

const incident = (over: Partial<IncidentFacts> = {}): IncidentFacts => ({
  key: 'INC-1',
  title: 'checkout errors',
  service: 'checkout-api',
  environment: 'production',
  region: 'eu-west-1',
  startedMs: START,
  ticket: null,
  causedBy: null,
  labels: null,
  ...over,
});

const deployment = (over: Partial<CandidateDeployment> & { deployment: string }): CandidateDeployment => ({
  service: 'checkout-api',
  environment: 'production',
  region: 'eu-west-1',
  version: '1.0.0',
  ticket: null,
  firstMs: START - 20 * MIN,
  startedMs: START - 20 * MIN,
  finishedMs: START - 10 * MIN,
  ...over,
});

describe('rankSuspects', () => {
  it('names each reason and ranks reason first, then region, then closeness', () => {
    const suspects = rankSuspects(
      incident({ causedBy: 'd-explicit', ticket: 'OPS-1' }),
      [
        deployment({
          deployment: 'd-same-far',
          finishedMs: START - 120 * MIN,
          startedMs: START - 130 * MIN,
          firstMs: START - 130 * MIN,
        }),
        deployment({ deployment: 'd-same-near-other-region', region: 'us-east-1', finishedMs: START - MIN }),
        deployment({ deployment: 'd-same-near', finishedMs: START - 5 * MIN }),
        deployment({ deployment: 'd-dependency', service: 'payments-db', finishedMs: START - 2 * MIN }),
        deployment({
          deployment: 'd-ticket',
          service: 'billing',
          ticket: 'OPS-1',
          finishedMs: START - 60 * MIN,
        }),
        deployment({ deployment: 'd-explicit', service: 'other', environment: 'staging' }),
        deployment({ deployment: 'd-unrelated', service: 'other' }),
        deployment({ deployment: 'd-other-env', environment: 'staging' }),
      ],
      new Set(['payments-db']),
    );
    expect(suspects.map((s) => [s.deployment, s.reason, s.withinWindow])).toEqual([
      ['d-explicit', 'explicit', true],
      ['d-ticket', 'ticket', false],
      ['d-same-near', 'same_service', true],
      ['d-same-far', 'same_service', false],
      ['d-same-near-other-region', 'same_service', true],
      ['d-dependency', 'dependency', true],
    ]);
    expect(suspects[2]).toMatchObject({
      deltaMs: 5 * MIN,
      finishedAt: new Date(START - 5 * MIN).toISOString(),
    });
  });

  it('counts a deployment still running at the incident start, with deltaMs 0', () => {
    const [suspect] = rankSuspects(
      incident(),
      [deployment({ deployment: 'd-running', finishedMs: null })],
      new Set(),
    );
    expect(suspect).toMatchObject({
      deployment: 'd-running',
      deltaMs: 0,
      withinWindow: true,
      finishedAt: null,
    });
    const [late] = rankSuspects(
      incident(),
      [deployment({ deployment: 'd-finished-after', finishedMs: START + MIN })],
      new Set(),
    );
    expect(late).toMatchObject({ deltaMs: 0, withinWindow: true });
  });

  it('leaves out deployments that began after the start or finished before the lookback', () => {
    const suspects = rankSuspects(
      incident(),
      [
        deployment({
          deployment: 'd-after',
          firstMs: START + MIN,
          startedMs: START + MIN,
          finishedMs: START + 2 * MIN,
        }),
        deployment({ deployment: 'd-old', finishedMs: START - 25 * 60 * MIN }),
      ],
      new Set(),
    );
    expect(suspects).toEqual([]);
  });

  it('treats a deployment key or a version named in the title as the ticket reason', () => {
    const suspects = rankSuspects(
      incident({ title: 'errors since gha-77 and 2.0.1' }),
      [
        deployment({ deployment: 'gha-77', service: 'billing' }),
        deployment({ deployment: 'd-version', version: '2.0.1', finishedMs: START - 3 * MIN }),
        deployment({ deployment: 'd-version-unrelated', service: 'other', version: '2.0.1' }),
      ],
      new Set(),
    );
    expect(suspects.map((s) => [s.deployment, s.reason])).toEqual([
      ['d-version', 'ticket'],
      ['gha-77', 'ticket'],
    ]);
  });

  it('honours windowMinutes', () => {
    const d = [deployment({ deployment: 'd', finishedMs: START - 20 * MIN })];
    expect(rankSuspects(incident(), d, new Set())[0]?.withinWindow).toBe(false);
    expect(
      rankSuspects(incident(), d, new Set(), { ...DEFAULT_CORRELATION, windowMinutes: 30 })[0]?.withinWindow,
    ).toBe(true);
  });
});

describe('mentionedWords', () => {
  /** The definition: the words between white space and ,;()[]{}"'`<>| of the title and the label values. */
  const reference = (i: IncidentFacts) =>
    new Set(
      [i.title, ...Object.values(i.labels ?? {})]
        .join(' ')
        .split(/[\s,;()[\]{}"'`<>|]+/)
        .filter((w) => w !== ''),
    );
  const text = fc.string({
    unit: fc.constantFrom(
      'a',
      'Z',
      '1',
      '.',
      '-',
      ':',
      ' ',
      '\t',
      ',',
      ';',
      '(',
      ']',
      '"',
      "'",
      '`',
      '<',
      '|',
      '\u00a0',
      '\u2028',
      'é',
      '\u3000',
      '\ud83d\ude80',
    ),
    maxLength: 40,
  });

  it('finds the words the definition finds, for any title and labels', () => {
    fc.assert(
      fc.property(
        text,
        fc.option(fc.dictionary(fc.string({ maxLength: 5 }), text), { nil: null }),
        (title, labels) => {
          const i = incident({ title, labels });
          expect(mentionedWords(i)).toEqual(reference(i));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('dependencyClosure', () => {
  const graph: Record<string, string[]> = { a: ['b'], b: ['c', 'a'], c: ['d'] };
  it('follows dependsOn up to the depth, never back to the service itself', () => {
    const of = (s: string) => graph[s] ?? [];
    expect([...dependencyClosure('a', of, 1)]).toEqual(['b']);
    expect([...dependencyClosure('a', of, 2)].sort()).toEqual(['b', 'c']);
    expect([...dependencyClosure('a', of, 5)].sort()).toEqual(['b', 'c', 'd']);
  });
});

// Properties: the ranking is a function of the set of facts.
const SERVICES = ['checkout-api', 'payments-db', 'billing', 'other'];
const arbDeployment = fc
  .record({
    n: fc.nat(10_000),
    service: fc.constantFrom(...SERVICES),
    environment: fc.constantFrom('production', 'staging'),
    region: fc.constantFrom('eu-west-1', 'us-east-1', ''),
    version: fc.option(fc.constantFrom('1.0.0', '2.0.1'), { nil: null }),
    ticket: fc.option(fc.constantFrom('OPS-1', 'OPS-2'), { nil: null }),
    begin: fc.integer({ min: -60 * 60 * MIN, max: 10 * MIN }),
    duration: fc.option(fc.integer({ min: 0, max: 30 * 60 * MIN }), { nil: null }),
  })
  .map((r): CandidateDeployment => ({
    deployment: `d-${r.n}`,
    service: r.service,
    environment: r.environment,
    region: r.region,
    version: r.version,
    ticket: r.ticket,
    firstMs: START + r.begin,
    startedMs: START + r.begin,
    finishedMs: r.duration === null ? null : START + r.begin + r.duration,
  }));
const arbDeployments = fc.uniqueArray(arbDeployment, { selector: (d) => d.deployment, maxLength: 40 });
const arbIncident = fc
  .record({
    environment: fc.option(fc.constantFrom('production', 'staging'), { nil: null }),
    region: fc.option(fc.constantFrom('eu-west-1', 'us-east-1'), { nil: null }),
    ticket: fc.option(fc.constantFrom('OPS-1', 'OPS-2'), { nil: null }),
    causedBy: fc.option(
      fc.nat(10_000).map((n) => `d-${n}`),
      { nil: null },
    ),
    title: fc.constantFrom('errors', 'errors after 2.0.1'),
  })
  .map((r) => incident(r));

describe('rankSuspects properties', () => {
  const deps = new Set(['payments-db']);

  it('does not depend on the order of the candidates', () => {
    fc.assert(
      fc.property(arbIncident, arbDeployments, fc.nat(), (inc, ds, seed) => {
        const shuffled = [...ds].sort(
          (a, b) => ((a.firstMs * 31 + seed) % 97) - ((b.firstMs * 31 + seed) % 97),
        );
        expect(rankSuspects(inc, shuffled, deps)).toEqual(rankSuspects(inc, ds, deps));
      }),
    );
  });

  it('lists each deployment once, ordered by reason then region then delta', () => {
    fc.assert(
      fc.property(arbIncident, arbDeployments, (inc, ds) => {
        const suspects = rankSuspects(inc, ds, deps);
        expect(new Set(suspects.map((s) => s.deployment)).size).toBe(suspects.length);
        for (let i = 1; i < suspects.length; i += 1) {
          const a = suspects[i - 1];
          const b = suspects[i];
          if (a === undefined || b === undefined) throw new Error('unreachable');
          const ra = SUSPECT_REASONS.indexOf(a.reason);
          const rb = SUSPECT_REASONS.indexOf(b.reason);
          expect(ra).toBeLessThanOrEqual(rb);
          if (ra === rb && inc.region !== null) {
            const sa = a.region === inc.region;
            const sb = b.region === inc.region;
            if (sa === sb) expect(Math.abs(a.deltaMs)).toBeLessThanOrEqual(Math.abs(b.deltaMs));
            else expect(sa).toBe(true);
          }
        }
      }),
    );
  });

  it('flags withinWindow exactly when the delta is inside the window, and never past the lookback', () => {
    fc.assert(
      fc.property(arbIncident, arbDeployments, (inc, ds) => {
        for (const s of rankSuspects(inc, ds, deps)) {
          if (s.reason !== 'explicit') {
            expect(s.deltaMs).toBeGreaterThanOrEqual(0);
            expect(s.deltaMs).toBeLessThanOrEqual(DEFAULT_CORRELATION.lookbackHours * 60 * MIN);
            expect(s.withinWindow).toBe(s.deltaMs <= DEFAULT_CORRELATION.windowMinutes * MIN);
          }
        }
      }),
    );
  });

  it('gives each deployment the same verdict alone as among all candidates (what deployment pages rely on)', () => {
    fc.assert(
      fc.property(arbIncident, arbDeployments, (inc, ds) => {
        const all = rankSuspects(inc, ds, deps);
        const alone = ds.flatMap((d) => rankSuspects(inc, [d], deps));
        const key = (s: { deployment: string }) => s.deployment;
        expect([...alone].sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual(
          [...all].sort((a, b) => (key(a) < key(b) ? -1 : 1)),
        );
      }),
    );
  });

  it('needs no deployment outside the candidate span the store reads (except the explicit cause)', () => {
    fc.assert(
      fc.property(arbIncident, arbDeployments, (inc, ds) => {
        const span = candidateSpan(inc.startedMs, DEFAULT_CORRELATION);
        const inSpan = ds.filter(
          (d) => (d.firstMs >= span.fromMs && d.firstMs <= span.toMs) || d.deployment === inc.causedBy,
        );
        expect(rankSuspects(inc, inSpan, deps)).toEqual(rankSuspects(inc, ds, deps));
      }),
    );
  });
});
