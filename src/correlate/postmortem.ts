/**
 * The post-mortem timeline (DESIGN.md §9): every deployment event, approval, gate decision,
 * override and incident change of the incident's service and its dependencies, from the
 * lookback before the start to the resolution, in order, each with its ledger index; and the
 * Markdown an engineer pastes into a post-mortem document. Pure: the caller reads the facts.
 */
import type { Suspect } from '../domain/correlation.js';
import type { Incident } from '../domain/incident.js';
import type { TimelineRow } from '../store/incidents-repository.js';

export interface TimelineItem {
  readonly at: string;
  readonly kind: TimelineRow['kind'];
  readonly what: string;
  readonly who: string;
  readonly ledgerIndex: number | null;
}

export interface Timeline {
  readonly incident: string;
  readonly title: string;
  readonly from: string;
  readonly to: string;
  readonly services: readonly string[];
  readonly topSuspect: Suspect | null;
  readonly items: readonly TimelineItem[];
}

export function buildTimeline(
  incident: Incident,
  services: readonly string[],
  span: { fromMs: number; toMs: number },
  suspects: readonly Suspect[],
  rows: readonly TimelineRow[],
): Timeline {
  const items = [...rows]
    .sort((a, b) => a.atMs - b.atMs || (a.ledgerIndex ?? Infinity) - (b.ledgerIndex ?? Infinity))
    .map((r) => ({
      at: new Date(r.atMs).toISOString(),
      kind: r.kind,
      what: r.what,
      who: r.who,
      ledgerIndex: r.ledgerIndex,
    }));
  return {
    incident: incident.key,
    title: incident.title,
    from: new Date(span.fromMs).toISOString(),
    to: new Date(span.toMs).toISOString(),
    services,
    topSuspect: suspects[0] ?? null,
    items,
  };
}

const REASON: Record<Suspect['reason'], string> = {
  explicit: 'named as the cause',
  ticket: 'carries the incident’s ticket or is named by it',
  same_service: 'same service and environment',
  dependency: 'a dependency of the service',
};

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${String(m)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

/** The timeline as Markdown: a heading, the top suspect with its reason, a table. */
export function timelineMarkdown(timeline: Timeline, incident: Incident): string {
  const top = timeline.topSuspect;
  const summary = top
    ? `Top suspect: deployment \`${top.deployment}\` (${top.service} ${top.version ?? ''} to ${top.environment}${top.region ? `/${top.region}` : ''}), reason \`${top.reason}\` (${REASON[top.reason]}), ${top.deltaMs === 0 ? 'still running at the start' : `finished ${minutes(top.deltaMs)} before the start`}${top.withinWindow ? '' : ', outside the window'}.`
    : 'No suspect deployment was found in the lookback.';
  const lines = [
    `## Incident ${timeline.incident}: ${timeline.title}`,
    '',
    `${incident.severity ?? 'unknown severity'}, ${incident.status}; started ${new Date(incident.startedMs).toISOString()}${incident.resolvedMs === null ? '' : `, resolved ${new Date(incident.resolvedMs).toISOString()}`}; services: ${timeline.services.join(', ') || 'unknown'}.`,
    '',
    summary.replace(/ {2,}/g, ' '),
    '',
    '| time (UTC) | what | who | ledger |',
    '| --- | --- | --- | --- |',
    ...timeline.items.map(
      (i) =>
        `| ${i.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} | ${cell(i.what)} | ${cell(i.who)} | ${i.ledgerIndex === null ? '' : String(i.ledgerIndex)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
