/**
 * The large reads of DORA metrics (the changes of a window, the incidents around it) come back
 * from the database as text: one aggregate per group of rows, a line per row, its columns
 * separated by tabs, and the group's row count beside it. A row handed over as an array of
 * values costs better-sqlite3 about a microsecond and V8 an array and a string per value to
 * collect; a line costs the database a few string appends and is parsed here in place (a time
 * never becomes a string). An absent text is written as U+001F, an absent time as an empty
 * field. No stored name, key or text holds a control character (events and incidents are
 * validated, webhook text is cleaned: src/domain/event.ts, src/ingest/payload.ts); every line
 * is checked to hold exactly its columns and every group its row count, so a value that broke
 * that rule is an error, never a shifted column or an extra row.
 */
import { sql, type RawBuilder } from 'kysely';
import type { ChangeTable } from '../domain/dora-changes.js';
import type { DoraIncident, DoraRemediation } from '../domain/dora.js';
import type { IncidentSeverity } from '../domain/incident.js';
import type { Dialect } from './database.js';

const TAB = 9;
const MINUS = 45;
const ZERO = 48;
/** An absent text (an empty field is the empty text). */
const ABSENT = '\u001f';
const ABSENT_CODE = 0x1f;
/** Whether a time field may be empty (absent). */
const REQUIRED = false;
const OPTIONAL = true;

/** The columns of a line: its texts, then its times (integers in ms). */
export interface LineColumns {
  readonly texts: readonly string[];
  readonly times: readonly string[];
}

/**
 * The rows' {@link LineColumns} aggregated as lines: `group_concat` (SQLite) or `string_agg`
 * (PostgreSQL), null when there is no row. Select `count(*)` beside it for the readers' check.
 */
export function linesOf(dialect: Dialect, columns: LineColumns): RawBuilder<string | null> {
  const line = sql.join(
    [
      ...columns.texts.map((column) => sql`coalesce(${sql.ref(column)}, ${sql.lit(ABSENT)})`),
      ...columns.times.map((column) => sql.ref(column)),
    ],
    sql`, ${sql.lit('\t')}, `,
  );
  const aggregate = sql.raw(dialect === 'sqlite' ? 'group_concat' : 'string_agg');
  return sql<string | null>`${aggregate}(concat(${line}), ${sql.lit('\n')})`;
}

/** The columns of a line of changes (see {@link readChanges}). */
export const CHANGE_LINE: LineColumns = {
  texts: ['deployment', 'version', 'ticket', 'remediates'],
  times: ['sort_ms', 'started_ms', 'finished_ms', 'rolled_back_ms', 'first_commit_ms'],
};

/** The names a group of changes shares, as indexes into the table's names. */
export interface ChangeGroup {
  readonly service: number;
  readonly environment: number;
  readonly region: number;
  readonly kind: number;
  readonly intent: number;
}

/** Adds the changes of `lines` (one group's `count` {@link CHANGE_LINE} lines) to `table`. */
export function readChanges(lines: string, count: number, group: ChangeGroup, table: ChangeTable): void {
  const fields = new Fields('changes', lines, count);
  while (fields.nextLine()) {
    const i = table.addRow();
    table.service[i] = group.service;
    table.environment[i] = group.environment;
    table.region[i] = group.region;
    table.kind[i] = group.kind;
    table.intent[i] = group.intent;
    table.deployment[i] = fields.text() ?? '';
    table.version[i] = fields.text();
    table.ticket[i] = fields.text();
    table.remediates[i] = fields.text();
    fields.timeInto(table.firstMs, i, REQUIRED);
    fields.timeInto(table.startedMs, i, OPTIONAL);
    fields.timeInto(table.finishedMs, i, REQUIRED);
    fields.timeInto(table.rolledBackMs, i, OPTIONAL);
    fields.timeInto(table.firstCommitMs, i, OPTIONAL);
    fields.endLine();
  }
  fields.end();
}

/** The columns of a line of remediations (see {@link readRemediations}). */
export const REMEDIATION_LINE: LineColumns = {
  texts: ['deployment', 'service', 'environment', 'region', 'kind', 'remediates'],
  times: ['sort_ms'],
};

/** Hands `each` the remediations of `lines` (`count` {@link REMEDIATION_LINE} lines). */
export function readRemediations(
  lines: string,
  count: number,
  each: (remediation: DoraRemediation) => void,
): void {
  const fields = new Fields('remediations', lines, count);
  while (fields.nextLine()) {
    const deployment = fields.text() ?? '';
    const service = fields.text() ?? '';
    const environment = fields.text() ?? '';
    const region = fields.text();
    const kind = fields.text() ?? '';
    const remediates = fields.text();
    const firstMs = fields.time(REQUIRED);
    fields.endLine();
    each({ deployment, service, environment, region, kind, remediates, firstMs });
  }
  fields.end();
}

/** The columns of a line of incidents (see {@link readIncidents}). */
export const INCIDENT_LINE: LineColumns = {
  texts: ['key', 'title', 'service', 'environment', 'region', 'severity', 'ticket', 'caused_by', 'labels'],
  times: ['started_ms', 'resolved_ms'],
};

/** Hands `each` the incidents of `lines` (`count` {@link INCIDENT_LINE} lines). */
export function readIncidents(lines: string, count: number, each: (incident: DoraIncident) => void): void {
  const fields = new Fields('incidents', lines, count);
  while (fields.nextLine()) {
    const key = fields.text() ?? '';
    const title = fields.text() ?? '';
    const service = fields.text();
    const environment = fields.text();
    const region = fields.text();
    const severity = fields.text() as IncidentSeverity | null;
    const ticket = fields.text();
    const causedBy = fields.text();
    const labels = fields.text();
    const startedMs = fields.time(REQUIRED);
    const resolvedMs = fields.time(OPTIONAL);
    fields.endLine();
    each({
      key,
      title,
      service,
      environment,
      region,
      severity,
      startedMs,
      resolvedMs: Number.isNaN(resolvedMs) ? null : resolvedMs,
      ticket,
      causedBy,
      labels: labels === null ? null : (JSON.parse(labels) as Record<string, string>),
    });
  }
  fields.end();
}

/** The fields of lines, in order (a class, so that each reader stays one function to inline). */
class Fields {
  private at = 0;
  private lineEnd = -1;
  private line = 0;
  private readonly scratch = new Float64Array(1);

  /** `count`: how many lines `lines` holds (the group's row count, from the same query). */
  constructor(
    private readonly what: string,
    private readonly lines: string,
    private readonly count: number,
  ) {}

  /** Moves to the next line; false when there is none. */
  nextLine(): boolean {
    if (this.at >= this.lines.length) return false;
    const end = this.lines.indexOf('\n', this.at);
    this.lineEnd = end < 0 ? this.lines.length : end;
    this.line += 1;
    return true;
  }

  /** A text field: null when absent. */
  text(): string | null {
    if (this.at > this.lineEnd) throw this.malformed('fewer columns than it should');
    let stop = this.lines.indexOf('\t', this.at);
    if (stop < 0 || stop > this.lineEnd) stop = this.lineEnd;
    const value =
      stop === this.at + 1 && this.lines.charCodeAt(this.at) === ABSENT_CODE
        ? null
        : this.lines.slice(this.at, stop);
    this.at = stop + 1;
    return value;
  }

  /** A time in ms (an integer; NaN when the field is empty and `optional`). */
  time(optional: boolean): number {
    this.timeInto(this.scratch, 0, optional);
    return this.scratch[0] as number;
  }

  /** {@link time} into `column[row]`: a number handed back from a call is boxed, one stored is not. */
  timeInto(column: Float64Array, row: number, optional: boolean): void {
    const { lines, lineEnd } = this;
    if (this.at > lineEnd) throw this.malformed('fewer columns than it should');
    let i = this.at;
    const sign = i < lineEnd && lines.charCodeAt(i) === MINUS ? -1 : 1;
    if (sign < 0) i += 1;
    let value = 0;
    for (; i < lineEnd; i += 1) {
      const digit = lines.charCodeAt(i) - ZERO;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    const empty = i === this.at;
    if (
      (i < lineEnd && lines.charCodeAt(i) !== TAB) ||
      (sign < 0 && i === this.at + 1) ||
      (empty && !optional)
    )
      throw this.malformed(
        empty ? 'an empty time where one is required' : 'a field that is not a time in ms',
      );
    column[row] = empty ? NaN : sign * value;
    this.at = i + 1;
  }

  /** Checks that the line held no more columns than were read. */
  endLine(): void {
    if (this.at !== this.lineEnd + 1) throw this.malformed('more columns than it should');
  }

  /** Checks that the text held as many lines as its group has rows (a line end in a value adds one). */
  end(): void {
    if (this.line !== this.count)
      throw new Error(
        `DORA ${this.what} read: ${this.line} lines for ${this.count} rows (a stored value holds a line end)`,
      );
  }

  private malformed(what: string): Error {
    const start = this.lines.lastIndexOf('\n', Math.min(this.at, this.lineEnd) - 1) + 1;
    const text = JSON.stringify(this.lines.slice(start, Math.min(this.lineEnd, start + 120)));
    return new Error(`DORA ${this.what} read: line ${this.line} has ${what}: ${text}`);
  }
}
