import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeploymentRow } from './deployment-row.js';
import { EVENT_TYPES, type DeploymentEvent } from './event.js';
import { formatHlc } from './hlc.js';
import {
  MAX_EVENTS_PER_DEPLOYMENT,
  planSubmissions,
  scopedId,
  type KnownEvent,
  type StoredFacts,
  type Submission,
  type WritePlan,
} from './write-plan.js';

const T0 = Date.parse('2026-11-02T10:00:00Z');

function submission(events: DeploymentEvent[], source = 'ci'): Submission {
  return {
    events,
    source,
    receivedMs: T0 + 3_600_000,
    timed: events.map(() => true),
    pointers: events.map((_, i) => `/events/${i}`),
  };
}

/** A receipt clock like the server's: strictly increasing stamps. */
function clock(): (timeMs: number) => string {
  let logical = 0;
  return () => formatHlc({ wallMs: T0 + 3_600_000, logical: logical++ });
}

const empty = (): StoredFacts => ({ events: new Map(), deployments: new Map() });

/** The facts after committing `plan` on top of `facts`, as the store would hold them. */
function commit(facts: StoredFacts, plan: WritePlan): StoredFacts {
  const events = new Map<string, KnownEvent>(facts.events);
  plan.events.forEach((e, i) =>
    events.set(scopedId(e.scope, e.id), { type: e.type, deployment: e.deployment, ledgerIndex: i }),
  );
  return { events, deployments: new Map([...facts.deployments, ...plan.deployments]) };
}

/** What a user sees of a deployment: independent of arrival order. */
function view(row: DeploymentRow | undefined) {
  if (!row) return undefined;
  const { status, version, started_ms, finished_ms, duration_ms, rolled_back_ms, event_count, commit_sha } =
    row;
  return { status, version, started_ms, finished_ms, duration_ms, rolled_back_ms, event_count, commit_sha };
}

const keys = ['d0', 'd1', 'd2'];

/** Events of a few deployments with distinct times; the version only on some of them. */
const eventsArb = fc
  .array(
    fc.record({
      key: fc.constantFrom(...keys),
      type: fc.constantFrom(...EVENT_TYPES),
      withVersion: fc.boolean(),
      version: fc.constantFrom('1.0.0', '1.1.0'),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((items) =>
    items.map((item, i): DeploymentEvent => ({
      id: `e${i}`,
      type: item.type,
      deployment: item.key,
      service: `svc-${item.key}`,
      environment: 'production',
      timeMs: T0 + i * 1000,
      actor: 'alice',
      kind: 'release',
      ...(item.withVersion && { version: item.version, commit: `c-${item.version}` }),
    })),
  );

/** Splits a list into consecutive chunks at the given cut points. */
function split<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let from = 0;
  for (const p of [...points, items.length]) {
    if (p > from) out.push(items.slice(from, p));
    from = Math.max(from, p);
  }
  return out;
}

describe('planSubmissions', () => {
  it('gives the same deployments for any arrival order, grouping and duplication of events', () => {
    fc.assert(
      fc.property(
        eventsArb,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer(),
        (events, dupes, cuts, seed) => {
          const reference = planSubmissions([submission(events)], empty(), clock(), T0);
          // Shuffle (deterministically from the seed), duplicate some, cut into groups of submissions.
          const shuffled = [...events, ...dupes.map((d) => events[d % events.length] as DeploymentEvent)]
            .map((e, i) => ({ e, k: Math.imul(i + 1, seed | 1) >>> 0 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          let facts = empty();
          const stamp = clock();
          const stored = new Set<string>();
          for (const group of split(shuffled, cuts)) {
            const plan = planSubmissions(
              split(group, [1, 3]).map((s) => submission(s)),
              facts,
              stamp,
              T0,
            );
            for (const outcome of plan.outcomes) expect('results' in outcome).toBe(true);
            for (const e of plan.events) stored.add(e.id);
            facts = commit(facts, plan);
          }
          expect([...stored].sort()).toEqual(events.map((e) => e.id).sort());
          for (const key of keys) {
            expect(view(facts.deployments.get(key))).toEqual(view(reference.deployments.get(key)));
          }
        },
      ),
    );
  });

  it('stores a failed event before its started one, with no version, and ends as in order', () => {
    const started: DeploymentEvent = {
      id: 's',
      type: 'deployment.started',
      deployment: 'd',
      service: 'api',
      environment: 'production',
      version: '2.0.0',
      timeMs: T0,
      actor: 'alice',
      kind: 'release',
    };
    const failed: DeploymentEvent = { ...started, id: 'f', type: 'deployment.failed', timeMs: T0 + 5000 };
    delete (failed as { version?: string }).version;
    const first = planSubmissions([submission([failed])], empty(), clock(), T0);
    expect(first.outcomes[0]).toEqual({ results: [{ id: 'f', status: 'stored', planned: 0 }] });
    expect(first.deployments.get('d')).toMatchObject({ version: null, status: 'failed' });
    const second = planSubmissions([submission([started])], commit(empty(), first), clock(), T0);
    const inOrder = planSubmissions([submission([started, failed])], empty(), clock(), T0);
    expect(view(second.deployments.get('d'))).toEqual(view(inOrder.deployments.get('d')));
    expect(second.deployments.get('d')).toMatchObject({ version: '2.0.0', duration_ms: 5000 });
  });

  it('answers a replayed id as a duplicate and a reused id as a conflict that rejects only its submission', () => {
    fc.assert(
      fc.property(eventsArb, fc.nat(), (events, pick) => {
        const facts = commit(empty(), planSubmissions([submission(events)], empty(), clock(), T0));
        const replayed = events[pick % events.length] as DeploymentEvent;
        const reused: DeploymentEvent = { ...replayed, deployment: 'elsewhere', service: 'other' };
        const fresh: DeploymentEvent = { ...replayed, id: 'fresh', deployment: 'new', service: 'new' };
        const plan = planSubmissions(
          [submission([replayed]), submission([fresh, reused]), submission([fresh])],
          facts,
          clock(),
          T0,
        );
        expect(plan.outcomes[0]).toEqual({
          results: [{ id: replayed.id, status: 'duplicate', ledgerIndex: events.indexOf(replayed) }],
        });
        expect(plan.outcomes[1]).toMatchObject({
          rejected: { code: 'SHIPLOG_CONFLICT', details: [{ path: '/events/1/id' }] },
        });
        // The rejected submission planned nothing: the third one stores `fresh`.
        expect(plan.outcomes[2]).toEqual({ results: [{ id: 'fresh', status: 'stored', planned: 0 }] });
        expect(plan.events.map((e) => e.id)).toEqual(['fresh']);
      }),
    );
  });

  it('scopes ids by sender: the same id from two tokens is two events', () => {
    const event: DeploymentEvent = {
      id: 'same',
      type: 'deployment.started',
      deployment: 'a',
      service: 'api',
      environment: 'production',
      version: '1',
      timeMs: T0,
      actor: 'x',
      kind: 'release',
    };
    const plan = planSubmissions(
      [submission([event], 'team-a'), submission([{ ...event, deployment: 'b' }], 'team-b')],
      empty(),
      clock(),
      T0,
    );
    expect(plan.events.map((e) => [e.scope, e.deployment])).toEqual([
      ['team-a', 'a'],
      ['team-b', 'b'],
    ]);
    // A webhook source's reserved prefix is one namespace, whoever sends it (webhook or sync).
    const hook = planSubmissions(
      [
        submission([{ ...event, id: 'github:1:2' }], 'webhook:github'),
        submission([{ ...event, id: 'github:1:2' }], 'admin'),
      ],
      empty(),
      clock(),
      T0,
    );
    expect(hook.outcomes[1]).toEqual({ results: [{ id: 'github:1:2', status: 'duplicate', planned: 0 }] });
  });

  it('refuses a deployment that moves service, and one past the events cap', () => {
    const event: DeploymentEvent = {
      id: 'x',
      type: 'deployment.succeeded',
      deployment: 'full',
      service: 'api',
      environment: 'production',
      timeMs: T0,
      actor: 'x',
      kind: 'release',
    };
    const first = planSubmissions([submission([{ ...event, id: 'x0' }])], empty(), clock(), T0);
    const row = first.deployments.get('full') as DeploymentRow;
    const facts: StoredFacts = {
      events: new Map(),
      deployments: new Map([['full', { ...row, event_count: MAX_EVENTS_PER_DEPLOYMENT }]]),
    };
    const plan = planSubmissions(
      [submission([event]), submission([{ ...event, id: 'y', service: 'web' }])],
      facts,
      clock(),
      T0,
    );
    expect(plan.outcomes[0]).toMatchObject({
      rejected: {
        details: [{ path: '/events/0/deployment', message: expect.stringContaining('10000 events') }],
      },
    });
    expect(plan.outcomes[1]).toMatchObject({
      rejected: {
        details: [{ path: '/events/0/deployment', message: expect.stringContaining('belongs to api') }],
      },
    });
    expect(plan.events).toEqual([]);
  });

  it('drops an approval when a backdated event changes the version (issue 9, finding 4)', () => {
    const requested: DeploymentEvent = {
      id: 'r',
      type: 'deployment.requested',
      deployment: 'swap',
      service: 'api',
      environment: 'production',
      version: '1.0.0',
      timeMs: T0,
      actor: 'x',
      kind: 'release',
    };
    const first = planSubmissions([submission([requested])], empty(), clock(), T0);
    const approved = { ...(first.deployments.get('swap') as DeploymentRow), approved: 1, status: 'approved' };
    const facts: StoredFacts = { events: new Map(), deployments: new Map([['swap', approved]]) };
    const backdated = { ...requested, id: 'b', version: '6.6.6', timeMs: T0 - 60_000 };
    const plan = planSubmissions([submission([backdated])], facts, clock(), T0);
    expect(plan.deployments.get('swap')).toMatchObject({
      version: '6.6.6',
      approved: 0,
      status: 'requested',
    });
  });
});
