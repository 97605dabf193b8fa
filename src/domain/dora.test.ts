import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentile, summariseChanges } from './dora-summary.js';
import { DEFAULT_CORRELATION, dependencyClosure, rankSuspects } from './correlation.js';
import {
  DEFAULT_DORA,
  analyseChanges as eachChangeFacts,
  type ChangeFacts,
  type DoraChange,
  type DoraIncident,
  type DoraInput,
  type DoraRemediation,
} from './dora.js';
import { ChangeTable } from './dora-changes.js';
import { tierOf } from './dora-tiers.js';
import { INCIDENT_SEVERITIES, severityRank } from './incident.js';

const H = 3_600_000;
const T = Date.parse('2026-11-02T00:00:00Z');
const WINDOW = { since: '', until: '', tz: 'UTC', days: 7 };

/** The input of the analysis with its changes as objects (the analysis takes them as a table). */
type Input = Omit<DoraInput, 'changes'> & { readonly changes: readonly DoraChange[] };

/** The facts of every change of `input`, in its order. */
function analyseChanges(input: Input, settings = DEFAULT_DORA): ChangeFacts[] {
  const facts: ChangeFacts[] = [];
  eachChangeFacts({ ...input, changes: ChangeTable.of(input.changes) }, settings, (f) => facts.push(f));
  return facts;
}

function change(deployment: string, finishedH: number, extra: Partial<DoraChange> = {}): DoraChange {
  return {
    deployment,
    service: 'api',
    environment: 'production',
    region: '',
    version: `v-${deployment}`,
    ticket: null,
    kind: 'release',
    intent: null,
    remediates: null,
    firstMs: T + finishedH * H - 600_000,
    startedMs: T + finishedH * H - 600_000,
    finishedMs: T + finishedH * H,
    rolledBackMs: null,
    firstCommitMs: null,
    ...extra,
  };
}

function incident(key: string, startH: number, extra: Partial<DoraIncident> = {}): DoraIncident {
  return {
    key,
    title: 'errors',
    service: 'api',
    environment: 'production',
    region: null,
    startedMs: T + startH * H,
    ticket: null,
    causedBy: null,
    labels: null,
    severity: 'sev2',
    resolvedMs: null,
    ...extra,
  };
}

const failedOf = (input: Input) =>
  analyseChanges(input)
    .filter((f) => f.failures.length > 0)
    .map((f) => f.deployment);

describe('analyseChanges: the failure rules of DESIGN.md §10', () => {
  it('counts incidents of dora.minSeverity or worse only, and none without a severity', () => {
    const changes = [change('a', 0)];
    const at = (severity: DoraIncident['severity']) =>
      failedOf({ changes, remediations: [], incidents: [incident('i', 0.1, { severity })] });
    expect(at('sev1')).toEqual(['a']);
    expect(at('sev2')).toEqual(['a']);
    expect(at('sev3')).toEqual([]);
    expect(at(null)).toEqual([]);
  });

  it('same service counts only within the window; explicit counts whenever; ticket within the lookback', () => {
    const changes = [change('a', 0), change('b', 10, { ticket: 'OPS-1' }), change('c', -100)];
    const incidents = [
      incident('late', 1), // 1 h after a: same service, outside the 15 min window
      incident('ticketed', 20, { service: 'web', ticket: 'OPS-1' }), // 10 h after b, other service
      incident('named', 50, { service: 'web', causedBy: 'c' }), // c finished 150 h before
    ];
    expect(failedOf({ changes, remediations: [], incidents }).sort()).toEqual(['b', 'c']);
  });

  it('an incident of no environment counts for every environment; of another, not', () => {
    const changes = [change('a', 0)];
    expect(
      failedOf({ changes, remediations: [], incidents: [incident('i', 0.1, { environment: null })] }),
    ).toEqual(['a']);
    expect(
      failedOf({ changes, remediations: [], incidents: [incident('i', 0.1, { environment: 'staging' })] }),
    ).toEqual([]);
  });

  it('a rollback that names nothing rolls back the change it replaced (same region), not a rollback', () => {
    const changes = [change('a', 0), change('b', 1, { region: 'eu' }), change('r', 2, { kind: 'rollback' })];
    const remediations: DoraRemediation[] = [
      {
        deployment: 'r',
        service: 'api',
        environment: 'production',
        region: '',
        kind: 'rollback',
        remediates: null,
        firstMs: T + 1.9 * H,
      },
    ];
    const facts = analyseChanges({ changes, remediations, incidents: [] });
    expect(facts.filter((f) => f.failures.length > 0).map((f) => f.deployment)).toEqual(['a']);
    // Failed at the rollback's request, recovered when it succeeded.
    expect(facts[0]).toMatchObject({ failedMs: T + 1.9 * H, recoveredMs: T + 2 * H, recoveredBy: 'r' });
  });

  it('recovery is the earlier of the next change and the incident resolution', () => {
    const changes = [change('a', 0), change('b', 3)];
    const incidents = [incident('i', 0.1, { resolvedMs: T + 1 * H })];
    const [a] = analyseChanges({ changes, remediations: [], incidents });
    expect(a).toMatchObject({ failedMs: T + 0.1 * H, recoveredMs: T + H, recoveredBy: 'i' });
  });

  it('a remediation reported in one go (one time for all its events) recovers at once', () => {
    const changes = [change('a', 0), change('b', 0, { kind: 'hotfix', remediates: 'a', firstMs: T })];
    const remediations: DoraRemediation[] = [
      {
        deployment: 'b',
        service: 'api',
        environment: 'production',
        region: '',
        kind: 'hotfix',
        remediates: 'a',
        firstMs: T,
      },
    ];
    const [a] = analyseChanges({ changes, remediations, incidents: [] });
    expect(a).toMatchObject({ failedMs: T, recoveredMs: T, recoveredBy: 'b' });
  });

  it('lead time is finish minus the earliest commit, never negative', () => {
    const facts = analyseChanges({
      changes: [change('a', 0, { firstCommitMs: T - 5 * H }), change('b', 1, { firstCommitMs: T + 2 * H })],
      remediations: [],
      incidents: [],
    });
    expect(facts.map((f) => f.leadTimeMs)).toEqual([5 * H, 0]);
  });
});

describe('percentile and tiers', () => {
  it('interpolates between closest ranks', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(3); // 2.5, rounded half up
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)).toBe(91);
  });

  it('takes the best tier whose 2024 cluster figure a value meets', () => {
    expect(tierOf('deploymentFrequency', 3)).toBe('elite');
    expect(tierOf('deploymentFrequency', 1 / 7)).toBe('high');
    expect(tierOf('deploymentFrequency', 0.05)).toBe('medium');
    expect(tierOf('deploymentFrequency', 0.01)).toBe('low');
    expect(tierOf('leadTime', 23 * H)).toBe('elite');
    expect(tierOf('leadTime', 10 * 24 * H)).toBe('medium');
    expect(tierOf('changeFailureRate', 0.05)).toBe('elite');
    expect(tierOf('changeFailureRate', 0.1)).toBe('high');
    expect(tierOf('changeFailureRate', 0.3)).toBe('low');
    expect(tierOf('recoveryTime', 30 * 60_000)).toBe('elite');
    expect(tierOf('recoveryTime', 5 * H)).toBe('high');
    expect(tierOf('recoveryTime', 48 * H)).toBe('low');
    expect(tierOf('leadTime', null)).toBeNull();
  });
});

describe('property: rates within [0, 1], counts equal to what explain lists', () => {
  const kinds = ['release', 'hotfix', 'config', 'migration', 'rollback'];
  /** Changes and incidents over `hours` (few hours: incidents land among the changes). */
  const inputsOver = (hours: number) =>
    fc
      .record({
        changes: fc.array(
          fc.record({
            service: fc.constantFrom('api', 'web', 'db'),
            region: fc.constantFrom('', 'eu'),
            finishedH: fc.integer({ min: 0, max: hours }),
            durationMin: fc.integer({ min: 0, max: 120 }),
            kind: fc.constantFrom(...kinds),
            remediation: fc.boolean(),
            remediates: fc.option(fc.nat(40), { nil: null }),
            rolledBackAfterMin: fc.option(fc.integer({ min: 1, max: 600 }), { nil: null }),
            commitBeforeH: fc.option(fc.integer({ min: -2, max: 200 }), { nil: null }),
            ticket: fc.option(fc.constantFrom('OPS-1', 'OPS-2'), { nil: null }),
            version: fc.option(fc.constantFrom('1.0', '1.1'), { nil: null }),
          }),
          { maxLength: 40 },
        ),
        incidents: fc.array(
          fc.record({
            service: fc.option(fc.constantFrom('api', 'web', 'db'), { nil: null }),
            startH: fc.integer({ min: -10, max: hours + 10 }),
            severity: fc.option(fc.constantFrom(...INCIDENT_SEVERITIES), { nil: null }),
            resolvedAfterMin: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: null }),
            ticket: fc.option(fc.constantFrom('OPS-1', 'OPS-2'), { nil: null }),
            causedBy: fc.option(fc.nat(40), { nil: null }),
            // A title can name a deployment key or a version (§9 `ticket`).
            title: fc.constantFrom('errors', 'd3 broke it', '1.1 is slow', 'd7, 1.0'),
          }),
          { maxLength: 15 },
        ),
      })
      .map(({ changes, incidents }): Input => {
        const list = changes.map((c, i) =>
          change(`d${i}`, c.finishedH, {
            service: c.service,
            region: c.region,
            kind: c.kind,
            intent: c.remediation ? 'remediation' : null,
            remediates: c.remediates === null ? null : `d${c.remediates}`,
            firstMs: T + c.finishedH * H - c.durationMin * 60_000,
            startedMs: T + c.finishedH * H - c.durationMin * 60_000,
            rolledBackMs:
              c.rolledBackAfterMin === null ? null : T + c.finishedH * H + c.rolledBackAfterMin * 60_000,
            firstCommitMs: c.commitBeforeH === null ? null : T + (c.finishedH - c.commitBeforeH) * H,
            ticket: c.ticket,
            version: c.version,
          }),
        );
        return {
          changes: list,
          remediations: list
            .filter((c) => c.remediates !== null || c.kind === 'rollback')
            .map((c) => ({ ...c, firstMs: c.firstMs })),
          incidents: incidents.map((x, i) =>
            incident(`i${i}`, x.startH, {
              service: x.service,
              severity: x.severity,
              ticket: x.ticket,
              title: x.title,
              causedBy: x.causedBy === null ? null : `d${x.causedBy}`,
              resolvedMs: x.resolvedAfterMin === null ? null : T + x.startH * H + x.resolvedAfterMin * 60_000,
            }),
          ),
          dependsOn: new Map([
            ['api', ['db']],
            ['web', ['api']],
          ]),
        };
      });
  const arbitraryInput = inputsOver(300);

  it('holds for any mix of changes, rollbacks, remediations and incidents', () => {
    fc.assert(
      fc.property(arbitraryInput, (input) => {
        const f = summariseChanges(analyseChanges(input), WINDOW, true);
        for (const rate of [f.changeFailureRate.rate, f.reworkRate.rate]) {
          if (rate !== null) expect(rate >= 0 && rate <= 1).toBe(true);
        }
        expect(f.deploymentFrequency.count).toBe(f.deploymentFrequency.explain?.deployments.length);
        expect(f.deploymentFrequency.count).toBe(input.changes.length);
        expect(f.leadTime.count).toBe(f.leadTime.explain?.deployments.length);
        expect(f.changeFailureRate.failed).toBe(f.changeFailureRate.explain?.failed.length);
        expect(f.changeFailureRate.total).toBe(f.changeFailureRate.explain?.total.length);
        expect(f.changeFailureRate.failed).toBeLessThanOrEqual(f.changeFailureRate.total);
        expect(f.recoveryTime.count).toBe(f.recoveryTime.explain?.recoveries.length);
        expect(f.recoveryTime.count + (f.recoveryTime.explain?.unrecovered.length ?? 0)).toBe(
          f.changeFailureRate.failed,
        );
        expect(f.reworkRate.rework).toBe(f.reworkRate.explain?.rework.length);
        expect(f.reworkRate.total).toBe(f.reworkRate.explain?.total.length);
        // Every failed change names its cause, and every explained key is a change.
        const keys = new Set(input.changes.map((c) => c.deployment));
        for (const x of f.changeFailureRate.explain?.failed ?? []) {
          expect(keys.has(x.deployment)).toBe(true);
          expect(x.causes.length).toBeGreaterThan(0);
        }
        for (const r of f.recoveryTime.explain?.recoveries ?? [])
          expect(r.recoveryMs).toBeGreaterThanOrEqual(0);
        if (f.leadTime.medianMs !== null && f.leadTime.p90Ms !== null)
          expect(f.leadTime.p90Ms).toBeGreaterThanOrEqual(f.leadTime.medianMs);
      }),
      { numRuns: 300 },
    );
  });

  it('without explain gives the same figures', () => {
    fc.assert(
      fc.property(arbitraryInput, (input) => {
        const facts = analyseChanges(input);
        const explained = summariseChanges(facts, WINDOW, true);
        const strip = <T extends { explain?: unknown }>({ explain: _, ...rest }: T) => rest;
        expect(summariseChanges(facts, WINDOW)).toEqual({
          window: WINDOW,
          deploymentFrequency: strip(explained.deploymentFrequency),
          leadTime: strip(explained.leadTime),
          changeFailureRate: strip(explained.changeFailureRate),
          recoveryTime: strip(explained.recoveryTime),
          reworkRate: strip(explained.reworkRate),
        });
      }),
      { numRuns: 300 },
    );
  });

  it('an incident makes failed exactly the suspects rankSuspects finds among every change', () => {
    fc.assert(
      fc.property(fc.oneof(inputsOver(300), inputsOver(6)), (input) => {
        const found = new Set<string>();
        for (const f of analyseChanges(input))
          for (const c of f.failures)
            if (c.cause === 'incident') found.add(`${c.by} ${f.deployment} ${c.reason}`);
        const expected = new Set<string>();
        for (const i of input.incidents) {
          if (i.severity === null || severityRank(i.severity) > severityRank(DEFAULT_DORA.minSeverity))
            continue;
          const related =
            i.service === null
              ? new Set<string>()
              : dependencyClosure(i.service, (s) => input.dependsOn?.get(s) ?? [], 1);
          for (const s of rankSuspects(i, input.changes, related, DEFAULT_CORRELATION))
            if (
              s.reason === 'explicit' ||
              s.reason === 'ticket' ||
              (s.reason === 'same_service' && s.withinWindow)
            )
              expected.add(`${i.key} ${s.deployment} ${s.reason}`);
        }
        expect([...found].sort()).toEqual([...expected].sort());
      }),
      { numRuns: 300 },
    );
  });
});
