/**
 * Post-deployment and post-rollback verification (DESIGN.md §11). When a deployment succeeds,
 * or is rolled back, each configured check whose `match` labels it carries starts a run; the
 * run's progress lives in the database, so `tick` (run by the leader, see serve.ts) takes the
 * measurements that are due wherever the last shiplog stopped. Each measurement is written
 * with its ledger entry in one transaction; the outcome is shown on the deployment
 * (`verification`) and handed to the listener, which raises `verification_failed`.
 *
 * A rollback is verified against the version rolled back to: the newest earlier deployment of
 * the service, environment and region that succeeded and is not rolled back itself. Its HTTP
 * checks fail unless the answer names that version; `{{version}}` means that version too.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { StoredEvent } from '../domain/write-plan.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import { canonicalJson } from '../ledger/jcs.js';
import type { Store } from '../store/database.js';
import { toDeploymentView, type DeploymentView } from '../store/deployments-repository.js';
import type { LedgerAppender } from '../store/event-writer.js';
import type { MeasurementRow, VerificationRunRow } from '../store/verifications-repository.js';
import { measure, type Measurement } from './probes.js';
import { jsonValue, verificationView, type Trigger, type VerificationView } from './verification-view.js';
import { applyMeasurement, nextDue, runStatus, startChecks, type CheckState } from './run-state.js';
import type { VerificationCheck } from './verification-config.js';

export type { Trigger, VerificationView };

/**
 * Told when a run is decided. The lead wires it to the alert rules:
 * `status === 'failed'` raises `verification_failed`.
 */
export type VerificationListener = (
  deployment: DeploymentView,
  result: VerificationView,
) => void | Promise<void>;

export interface Verifier {
  /** Starts runs for the deployments these committed events made succeed or roll back. */
  onEvents(stored: readonly StoredEvent[]): Promise<void>;
  /** Takes every measurement due by `nowMs`; answers how many were taken. */
  tick(nowMs?: number): Promise<number>;
  /** The deployment's latest verification, or null when no check applied to it. */
  ofDeployment(deployment: string): Promise<VerificationView | null>;
  /** How often `tick` should run: the shortest check interval, at most 5 s, at least 1 s. */
  readonly tickIntervalMs: number;
}

export interface VerifierOptions {
  readonly store: Store;
  readonly ledger?: LedgerAppender | undefined;
  readonly checks: readonly VerificationCheck[];
  readonly onVerificationFinished?: VerificationListener | undefined;
  readonly now?: () => number;
  readonly logger?: FastifyBaseLogger | undefined;
}

const DUE_PER_TICK = 50;

export function createVerifier(options: VerifierOptions): Verifier {
  const { store, checks } = options;
  const now = options.now ?? Date.now;
  const byName = new Map(checks.map((c) => [c.name, c]));
  let ticking: Promise<number> | null = null;

  const ledgerEntry = async (trx: Parameters<LedgerAppender['append']>[0], record: object) =>
    options.ledger
      ? options.ledger.append(
          trx,
          [canonicalJson(record)],
          String((record as { recordType: string }).recordType),
        )
      : null;

  async function startRun(row: DeploymentRow, trigger: Trigger, startMs: number): Promise<void> {
    const applicable = checks.filter((c) => matchesDeployment(c.match, row));
    if (applicable.length === 0) return;
    const version =
      trigger === 'succeeded'
        ? row.version
        : await store.verifications.previousVersion({
            deployment: row.deployment,
            service: row.service,
            environment: row.environment,
            region: row.region,
            beforeMs: row.finished_ms ?? startMs,
          });
    const states = startChecks(applicable, startMs);
    const run: VerificationRunRow = {
      id: `ver_${randomBytes(9).toString('base64url')}`,
      deployment: row.deployment,
      trigger,
      service: row.service,
      environment: row.environment,
      region: row.region,
      version,
      status: 'running',
      checks: JSON.stringify(states),
      next_ms: nextDue(states),
      started_ms: startMs,
      finished_ms: null,
      updated_ms: startMs,
    };
    await store.writeTransaction(async (trx) => {
      if (!(await store.verifications.create(run, trx))) return;
      await ledgerEntry(trx, {
        recordType: 'verification',
        change: 'started',
        run: run.id,
        deployment: run.deployment,
        trigger,
        service: run.service,
        environment: run.environment,
        version,
        checks: applicable.map((c) => c.name),
        at: new Date(startMs).toISOString(),
      });
      if (trigger === 'rolled_back') {
        // The release's own verification is moot once it is rolled back: it stops here.
        const earlier = (await store.verifications.ofDeployment(row.deployment, trx)).filter(
          (r) => r.trigger === 'succeeded' && r.status === 'running',
        );
        for (const r of earlier) {
          await store.verifications.update(
            { ...r, status: 'canceled', next_ms: null, finished_ms: startMs, updated_ms: startMs },
            [],
            trx,
          );
          await ledgerEntry(trx, {
            recordType: 'verification',
            change: 'canceled',
            run: r.id,
            deployment: r.deployment,
            reason: 'rolled back',
            at: new Date(startMs).toISOString(),
          });
        }
      }
    });
  }

  async function runDue(run: VerificationRunRow, nowMs: number): Promise<number> {
    const states = JSON.parse(run.checks) as CheckState[];
    const due = states.filter((s) => s.phase === 'running' && s.nextMs !== null && s.nextMs <= nowMs);
    const taken = await Promise.all(
      due.map(async (state) => {
        const check = byName.get(state.name);
        const measurement: Measurement = check
          ? await measure(check, templateValues(run), {
              rollbackVersion: run.trigger === 'rolled_back' ? run.version : undefined,
            })
          : { phase: 'error', value: null, message: `check ${state.name} is no longer configured` };
        return { state, check, measurement, atMs: now() };
      }),
    );
    const next = states.map((s) => {
      const t = taken.find((x) => x.state === s);
      if (!t) return s;
      if (!t.check)
        return {
          ...s,
          phase: 'error' as const,
          nextMs: null,
          errors: s.errors + 1,
          message: t.measurement.message,
        };
      return applyMeasurement(t.check, s, {
        phase: t.measurement.phase,
        atMs: t.atMs,
        message: t.measurement.message,
      });
    });
    const status = runStatus(next);
    const doneMs = now();
    const updated: VerificationRunRow = {
      ...run,
      status,
      checks: JSON.stringify(next),
      next_ms: nextDue(next),
      finished_ms: status === 'running' ? null : doneMs,
      updated_ms: doneMs,
    };
    await store.writeTransaction(async (trx) => {
      const rows: MeasurementRow[] = [];
      for (const t of taken) {
        const after = next.find((s) => s.name === t.state.name);
        const seq = (after?.count ?? 0) + (after?.errors ?? 0);
        const value = jsonValue(t.measurement.value);
        const ledgerIndex = await ledgerEntry(trx, {
          recordType: 'verification_measurement',
          run: run.id,
          deployment: run.deployment,
          trigger: run.trigger,
          check: t.state.name,
          seq,
          at: new Date(t.atMs).toISOString(),
          phase: t.measurement.phase,
          value,
          message: t.measurement.message,
        });
        rows.push({
          run_id: run.id,
          check_name: t.state.name,
          seq,
          at_ms: t.atMs,
          phase: t.measurement.phase,
          value: value === null ? null : JSON.stringify(value),
          message: t.measurement.message,
          ledger_index: ledgerIndex,
        });
      }
      await store.verifications.update(updated, rows, trx);
      if (status !== 'running') {
        await ledgerEntry(trx, {
          recordType: 'verification',
          change: status,
          run: run.id,
          deployment: run.deployment,
          trigger: run.trigger,
          version: run.version,
          checks: next.map((s) => ({
            name: s.name,
            phase: s.phase,
            count: s.count,
            failed: s.failed,
            errors: s.errors,
          })),
          at: new Date(doneMs).toISOString(),
        });
      }
    });
    if (status !== 'running') await tell(updated);
    return taken.length;
  }

  async function tell(run: VerificationRunRow): Promise<void> {
    if (!options.onVerificationFinished) return;
    try {
      const row = await store.deployments.find(run.deployment);
      if (!row) return;
      await options.onVerificationFinished(toDeploymentView(row), await verificationView(store, run));
    } catch (error) {
      options.logger?.warn({ err: error, deployment: run.deployment }, 'the verification listener failed');
    }
  }

  async function tickOnce(nowMs: number): Promise<number> {
    let taken = 0;
    const runs = await store.verifications.due(nowMs, DUE_PER_TICK);
    const results = await Promise.allSettled(runs.map((run) => runDue(run, nowMs)));
    for (const [i, result] of results.entries()) {
      if (result.status === 'fulfilled') taken += result.value;
      else
        options.logger?.warn({ err: result.reason, run: runs[i]?.id }, 'a verification measurement failed');
    }
    return taken;
  }

  const shortest = Math.min(...checks.map((c) => c.intervalMs), 5000);
  return {
    tickIntervalMs: Math.max(1000, shortest),
    async onEvents(stored) {
      if (checks.length === 0) return;
      const startMs = now();
      for (const s of stored) {
        const trigger: Trigger | null =
          s.event.type === 'deployment.succeeded' && s.status === 'succeeded'
            ? 'succeeded'
            : s.event.type === 'deployment.rolled_back' && s.status === 'rolled_back'
              ? 'rolled_back'
              : null;
        if (trigger === null) continue;
        const row = await store.deployments.find(s.event.deployment);
        if (row) await startRun(row, trigger, startMs);
      }
    },
    tick(nowMs = now()) {
      // One tick at a time: a slow check must not have the next tick measure it twice.
      ticking ??= tickOnce(nowMs).finally(() => {
        ticking = null;
      });
      return ticking;
    },
    async ofDeployment(deployment) {
      const [latest] = await store.verifications.ofDeployment(deployment);
      return latest ? verificationView(store, latest) : null;
    },
  };
}

/** Whether the deployment carries every label of `match` (its own fields, then its labels). */
function matchesDeployment(match: Readonly<Record<string, string>>, row: DeploymentRow): boolean {
  const labels: Record<string, string> = row.labels ? (JSON.parse(row.labels) as Record<string, string>) : {};
  const fields: Record<string, string | null> = {
    service: row.service,
    environment: row.environment,
    region: row.region || null,
    kind: row.kind,
    cohort: row.cohort,
  };
  return Object.entries(match).every(
    ([key, value]) => (Object.hasOwn(fields, key) ? fields[key] : labels[key]) === value,
  );
}

function templateValues(run: VerificationRunRow): Record<string, string | null> {
  return {
    service: run.service,
    environment: run.environment,
    version: run.version,
    deployment: run.deployment,
    region: run.region || null,
  };
}
