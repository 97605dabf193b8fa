/**
 * What to do with the silence of one service in one environment, as a pure function of its
 * row, what its deployments say and the clock. While a deployment runs, the silence ends one
 * `lease` ahead and is renewed once less than half a lease is left: a shiplog that crashes
 * leaves it silenced for at most a lease. Once nothing runs, it ends `grace` after the last
 * final state (expired at once when that is past).
 */
import type { SuppressionSettings } from './suppression-config.js';
import type { DeployingState, SilenceRow } from '../store/silences-repository.js';

export type SilenceAction =
  | { readonly kind: 'none' }
  /** Create a silence (or replace one Alertmanager may have dropped) ending at `endsMs`. */
  | {
      readonly kind: 'create';
      readonly endsMs: number;
      readonly holdUntilMs: null;
      readonly deployment: string;
    }
  /** Move the end of the existing silence to `endsMs`. */
  | {
      readonly kind: 'extend';
      readonly endsMs: number;
      readonly holdUntilMs: number | null;
      readonly deployment: string;
    }
  /**
   * Expire it now at Alertmanager; when its end has `lapsed` by shiplog's clock, Alertmanager
   * may have expired it already (a refusal then changes nothing).
   */
  | { readonly kind: 'expire'; readonly atAlertmanager: boolean; readonly lapsed: boolean };

export function planSilence(
  row: SilenceRow | undefined,
  deploying: DeployingState,
  settings: Pick<SuppressionSettings, 'graceMs' | 'leaseMs'>,
  nowMs: number,
): SilenceAction {
  const active = row !== undefined && row.state === 'active';
  if (deploying.running !== null) {
    const endsMs = nowMs + settings.leaseMs;
    if (!active || row.silence_id === null || row.ends_ms === null || row.ends_ms <= nowMs) {
      return { kind: 'create', endsMs, holdUntilMs: null, deployment: deploying.running };
    }
    const renew = row.ends_ms - nowMs < settings.leaseMs / 2 || row.hold_until_ms !== null;
    return renew
      ? { kind: 'extend', endsMs, holdUntilMs: null, deployment: deploying.running }
      : { kind: 'none' };
  }
  if (!active) return { kind: 'none' };
  const holdUntilMs = (deploying.lastFinishedMs ?? nowMs) + settings.graceMs;
  const ended = row.ends_ms === null || row.ends_ms <= nowMs;
  if (holdUntilMs <= nowMs || ended || row.silence_id === null) {
    return { kind: 'expire', atAlertmanager: row.silence_id !== null, lapsed: ended };
  }
  if (row.ends_ms === holdUntilMs && row.hold_until_ms === holdUntilMs) return { kind: 'none' };
  return { kind: 'extend', endsMs: holdUntilMs, holdUntilMs, deployment: deploying.latest ?? row.deployment };
}
