/**
 * Suppression during deploys (DESIGN.md §11): while service S deploys to environment E,
 * shiplog holds an Alertmanager silence with matchers `service="S"`, `environment="E"` and the
 * configured ones (default `severity!="critical"`), short-lived and renewed while the deployment
 * runs, ending `grace` after its final state. One silence per service and environment, however
 * many of its deployments (regions, cohorts) run at once.
 *
 * The row in `alert_silences` is the truth about what shiplog holds: committed events call
 * `onEvents` (any replica), the leader's `tick` renews and ends what the rows and the
 * deployments say (src/alerts/silence-plan.ts), so a restarted shiplog resumes, and a shiplog
 * that is gone leaves each silence to expire within its lease. `holds` answers whether
 * shiplog's own alerts with some labels are held the same way.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { StoredEvent } from '../domain/write-plan.js';
import { canonicalJson } from '../ledger/jcs.js';
import type { Store } from '../store/database.js';
import type { LedgerAppender } from '../store/event-writer.js';
import type { SilenceRow } from '../store/silences-repository.js';
import { createAlertmanagerClient, type AlertmanagerClient } from './alertmanager-client.js';
import { planSilence, type SilenceAction } from './silence-plan.js';
import { formatMatcher, type Matcher } from './matchers.js';
import type { SuppressionSettings } from './suppression-config.js';

export interface SilenceView {
  readonly service: string;
  readonly environment: string;
  readonly deployment: string;
  readonly state: 'active' | 'ended';
  /** Alertmanager's id of the silence. */
  readonly silenceId: string | null;
  readonly matchers: readonly string[];
  readonly startsAt: string | null;
  readonly endsAt: string | null;
  /** When it ends for good: null while a deployment runs (it is renewed), else final state + grace. */
  readonly holdUntil: string | null;
  /** The last failure talking to Alertmanager, until the next success. */
  readonly lastError: string | null;
  readonly updatedAt: string;
}

export interface Silences {
  /** Creates or schedules the end of silences for the deployments these events started or finished. */
  onEvents(stored: readonly StoredEvent[]): Promise<void>;
  /** Renews and ends every silence shiplog holds, as of `nowMs`. */
  tick(nowMs?: number): Promise<void>;
  /** The matchers of the silence of a service and environment. */
  matchersOf(service: string, environment: string): Matcher[];
  view(row: SilenceRow): SilenceView;
  /** How often `tick` should run: a quarter of the lease, at most 30 s. */
  readonly tickIntervalMs: number;
}

export interface SilencesOptions {
  readonly store: Store;
  readonly settings: SuppressionSettings;
  readonly ledger?: LedgerAppender | undefined;
  readonly client?: AlertmanagerClient;
  readonly now?: () => number;
  readonly logger?: FastifyBaseLogger | undefined;
}

export function createSilences(options: SilencesOptions): Silences {
  const { store, settings } = options;
  const now = options.now ?? Date.now;
  const client = options.client ?? createAlertmanagerClient(settings.url);
  // One change at a time per service and environment, in this process.
  const chains = new Map<string, Promise<void>>();

  const matchersOf = (service: string, environment: string): Matcher[] => [
    { name: 'service', value: service, isRegex: false, isEqual: true },
    { name: 'environment', value: environment, isRegex: false, isEqual: true },
    ...settings.matchers,
  ];

  function serialized(service: string, environment: string, fn: () => Promise<void>): Promise<void> {
    const key = JSON.stringify([service, environment]);
    const next = (chains.get(key) ?? Promise.resolve()).then(fn, fn);
    chains.set(key, next);
    void next.finally(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
    return next;
  }

  async function reconcile(service: string, environment: string, nowMs: number): Promise<void> {
    const row = await store.silences.find(service, environment);
    const deploying = await store.silences.deploying(service, environment, nowMs - settings.maxHoldMs);
    const action = planSilence(row, deploying, settings, nowMs);
    if (action.kind === 'none') return;
    try {
      await apply(service, environment, row, action, nowMs);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      options.logger?.warn(
        { service, environment, err: message },
        'could not update the Alertmanager silence',
      );
      if (row) await store.silences.save({ ...row, last_error: message, updated_ms: nowMs });
      else if (action.kind === 'create') {
        // Kept as owed: the leader's tick creates it once Alertmanager answers again.
        await store.silences.save({
          service,
          environment,
          deployment: action.deployment,
          state: 'active',
          silence_id: null,
          starts_ms: null,
          ends_ms: null,
          hold_until_ms: null,
          last_error: message,
          created_ms: nowMs,
          updated_ms: nowMs,
        });
      }
    }
  }

  async function apply(
    service: string,
    environment: string,
    row: SilenceRow | undefined,
    action: Exclude<SilenceAction, { kind: 'none' }>,
    nowMs: number,
  ): Promise<void> {
    if (action.kind === 'expire') {
      if (action.atAlertmanager && row?.silence_id) {
        await client.expireSilence(row.silence_id).catch((error: unknown) => {
          if (!action.lapsed) throw error;
        });
      }
      const ended: SilenceRow = {
        ...(row as SilenceRow),
        state: 'ended',
        ends_ms: Math.min(row?.ends_ms ?? nowMs, nowMs),
        last_error: null,
        updated_ms: nowMs,
      };
      await record(ended, 'ended');
      return;
    }
    const fresh = action.kind === 'create';
    const startsMs = fresh ? nowMs : (row?.starts_ms ?? nowMs);
    const id = await postSilence(
      {
        ...(fresh ? {} : { id: row?.silence_id ?? undefined }),
        matchers: matchersOf(service, environment),
        startsAt: new Date(startsMs).toISOString(),
        endsAt: new Date(action.endsMs).toISOString(),
        createdBy: 'shiplog',
        comment: `shiplog: ${service} is deploying to ${environment} (deployment ${action.deployment})`,
      },
      fresh,
    );
    const next: SilenceRow = {
      service,
      environment,
      deployment: action.deployment,
      state: 'active',
      silence_id: id,
      starts_ms: id === row?.silence_id ? startsMs : fresh ? startsMs : nowMs,
      ends_ms: action.endsMs,
      hold_until_ms: action.holdUntilMs,
      last_error: null,
      created_ms: row?.created_ms ?? nowMs,
      updated_ms: nowMs,
    };
    const change =
      id !== row?.silence_id || row.state !== 'active'
        ? 'created'
        : action.holdUntilMs !== null && row.hold_until_ms !== action.holdUntilMs
          ? 'ending'
          : null;
    if (change === null) await store.silences.save(next);
    else await record(next, change);
  }

  /** Posts the silence; an update Alertmanager refuses (it lost the silence) becomes a new one. */
  async function postSilence(silence: Parameters<AlertmanagerClient['postSilence']>[0], fresh: boolean) {
    if (fresh || silence.id === undefined) return client.postSilence({ ...silence, id: undefined });
    try {
      return await client.postSilence(silence);
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === undefined || status >= 500) throw error;
      return client.postSilence({ ...silence, id: undefined, startsAt: new Date(now()).toISOString() });
    }
  }

  /** Saves the row with a ledger entry: silencing alerts is something an auditor asks about. */
  async function record(row: SilenceRow, change: 'created' | 'ending' | 'ended'): Promise<void> {
    await store.writeTransaction(async (trx) => {
      await store.silences.save(row, trx);
      if (options.ledger) {
        const entry = {
          recordType: 'silence',
          change,
          ...view(row),
        };
        await options.ledger.append(trx, [canonicalJson(entry)], 'silence');
      }
    });
  }

  function view(row: SilenceRow): SilenceView {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      service: row.service,
      environment: row.environment,
      deployment: row.deployment,
      state: row.state === 'active' ? 'active' : 'ended',
      silenceId: row.silence_id,
      matchers: matchersOf(row.service, row.environment).map(formatMatcher),
      startsAt: iso(row.starts_ms),
      endsAt: iso(row.ends_ms),
      holdUntil: iso(row.hold_until_ms),
      lastError: row.last_error,
      updatedAt: new Date(row.updated_ms).toISOString(),
    };
  }

  return {
    tickIntervalMs: Math.max(1000, Math.min(30_000, Math.floor(settings.leaseMs / 4))),
    matchersOf,
    view,
    async onEvents(stored) {
      const pairs = new Map<string, [string, string]>();
      for (const s of stored)
        pairs.set(JSON.stringify([s.event.service, s.event.environment]), [
          s.event.service,
          s.event.environment,
        ]);
      const nowMs = now();
      await Promise.all(
        [...pairs.values()].map(([service, environment]) =>
          serialized(service, environment, () => reconcile(service, environment, nowMs)),
        ),
      );
    },
    async tick(nowMs = now()) {
      const rows = await store.silences.active();
      await Promise.all(
        rows.map((row) =>
          serialized(row.service, row.environment, () => reconcile(row.service, row.environment, nowMs)),
        ),
      );
    },
  };
}
