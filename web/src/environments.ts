/**
 * Promotion order of environments (docs/dashboard.md): by the usual stages (dev → test/qa →
 * staging → production), then by name; an environment's upstream is the one before it, and a
 * version that differs from the upstream's is drift.
 */
import type { EnvironmentPolicy } from './types';

const STAGES: [RegExp, number][] = [
  [/^(local|dev|develop|development|sandbox)/, 0],
  [/^(ci|test|testing|qa|int|integration)/, 1],
  [/^(stage|staging|uat|preprod|pre-prod|pre-production|canary)/, 2],
  [/^(prod|production|live)/, 3],
];

function stage(name: string): number {
  for (const [pattern, rank] of STAGES) if (pattern.test(name)) return rank;
  return 1.5;
}

export function promotionOrder(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => stage(a) - stage(b) || a.localeCompare(b));
}

export interface EnvironmentChip {
  kind: 'frozen' | 'window' | 'protected';
  text: string;
}

const DAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Whether `now` is inside the window, in the window's time zone. */
function inWindow(w: { days?: string[]; from: string; to: string; timezone?: string }, now: Date): boolean {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: w.timezone ?? 'UTC',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').toLowerCase().slice(0, 3);
  const minutes = Number(get('hour')) * 60 + Number(get('minute'));
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  if (w.days && !w.days.includes(day) && DAY.includes(day)) return false;
  return minutes >= toMin(w.from) && minutes < toMin(w.to);
}

/** The chip of an environment now: frozen (with the reason), inside/outside its windows, or protected. */
export function chipOf(policy: EnvironmentPolicy | undefined, now = new Date()): EnvironmentChip | null {
  if (!policy) return null;
  const freeze = (policy.freezes ?? []).find(
    (f) => Date.parse(f.from) <= now.getTime() && now.getTime() < Date.parse(f.to),
  );
  if (freeze)
    return {
      kind: 'frozen',
      text: `frozen${freeze.reason ? `: ${freeze.reason}` : ''} until ${freeze.to.slice(0, 10)}`,
    };
  if (policy.windows && policy.windows.length > 0) {
    const open = policy.windows.some((w) => inWindow(w, now));
    const w = policy.windows[0];
    const desc = w ? `${(w.days ?? []).join(',')} ${w.from}–${w.to} ${w.timezone ?? 'UTC'}` : '';
    return { kind: 'window', text: open ? `window open (${desc})` : `outside window (${desc})` };
  }
  if (policy.protected)
    return {
      kind: 'protected',
      text: `protected${policy.approvals ? `, ${policy.approvals} approval(s)` : ''}`,
    };
  return null;
}
