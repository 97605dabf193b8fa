/**
 * The changes of a DORA window (DESIGN.md §10) as columns: row `i` of every column is one
 * change. A month of a large organisation is a hundred thousand changes or more, and an object
 * per change (with its strings) cost more to make, keep and collect than the whole arithmetic
 * of src/domain/dora.ts; typed columns of numbers cost neither. The names every change repeats
 * (service, environment, region, kind, intent) are kept once, in `names`, and a change holds
 * their index ({@link NO_NAME} for none). A time that is absent is `NaN`.
 *
 * The store fills the columns straight from what it reads (src/store/dora-repository.ts): it
 * takes a row with {@link ChangeTable.addRow} and sets every column of it. {@link ChangeTable.of}
 * fills them from objects (tests, callers with a few changes), and {@link ChangeTable.change}
 * gives one row back as an object.
 */
import type { DoraChange } from './dora.js';

/** The index of an absent name (region, intent). */
export const NO_NAME = -1;

export class ChangeTable {
  /** Rows in use; the columns hold room for more (and are replaced as the table grows). */
  length = 0;
  deployment: string[];
  version: (string | null)[];
  ticket: (string | null)[];
  remediates: (string | null)[];
  service: Int32Array;
  environment: Int32Array;
  region: Int32Array;
  kind: Int32Array;
  intent: Int32Array;
  /** The first event's time (`sort_ms`). */
  firstMs: Float64Array;
  startedMs: Float64Array;
  finishedMs: Float64Array;
  rolledBackMs: Float64Array;
  firstCommitMs: Float64Array;
  /** The names the name columns index. */
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  /** A table with room for `capacity` changes (it grows past them as needed). */
  constructor(capacity = 0) {
    this.deployment = new Array<string>(capacity);
    this.version = new Array<string | null>(capacity);
    this.ticket = new Array<string | null>(capacity);
    this.remediates = new Array<string | null>(capacity);
    this.service = new Int32Array(capacity);
    this.environment = new Int32Array(capacity);
    this.region = new Int32Array(capacity);
    this.kind = new Int32Array(capacity);
    this.intent = new Int32Array(capacity);
    this.firstMs = new Float64Array(capacity);
    this.startedMs = new Float64Array(capacity);
    this.finishedMs = new Float64Array(capacity);
    this.rolledBackMs = new Float64Array(capacity);
    this.firstCommitMs = new Float64Array(capacity);
  }

  static of(changes: readonly DoraChange[]): ChangeTable {
    const table = new ChangeTable();
    for (const c of changes) table.push(c);
    return table;
  }

  /** The index of `name` in `names`, added when new; {@link NO_NAME} for null. */
  nameId(name: string | null): number {
    if (name === null) return NO_NAME;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  /** The index of `name` if some change holds it. */
  findName(name: string): number | undefined {
    return this.ids.get(name);
  }

  name(id: number): string | null {
    return id === NO_NAME ? null : (this.names[id] ?? null);
  }

  /** Adds a row, every column of it to be set by the caller, and returns its index. */
  addRow(): number {
    if (this.length === this.firstMs.length) this.grow(Math.max(1024, this.length * 2));
    const i = this.length;
    this.length += 1;
    return i;
  }

  push(c: DoraChange): void {
    const i = this.addRow();
    this.deployment[i] = c.deployment;
    this.service[i] = this.nameId(c.service);
    this.environment[i] = this.nameId(c.environment);
    this.region[i] = this.nameId(c.region);
    this.kind[i] = this.nameId(c.kind);
    this.intent[i] = this.nameId(c.intent);
    this.version[i] = c.version;
    this.ticket[i] = c.ticket;
    this.remediates[i] = c.remediates;
    this.firstMs[i] = c.firstMs;
    this.startedMs[i] = c.startedMs ?? NaN;
    this.finishedMs[i] = c.finishedMs;
    this.rolledBackMs[i] = c.rolledBackMs ?? NaN;
    this.firstCommitMs[i] = c.firstCommitMs ?? NaN;
  }

  /** Row `i` as an object. */
  change(i: number): DoraChange {
    return {
      deployment: this.deployment[i] ?? '',
      service: this.name(this.service[i] ?? NO_NAME) ?? '',
      environment: this.name(this.environment[i] ?? NO_NAME) ?? '',
      region: this.name(this.region[i] ?? NO_NAME),
      version: this.version[i] ?? null,
      ticket: this.ticket[i] ?? null,
      kind: this.name(this.kind[i] ?? NO_NAME) ?? '',
      intent: this.name(this.intent[i] ?? NO_NAME),
      remediates: this.remediates[i] ?? null,
      firstMs: this.firstMs[i] ?? 0,
      startedMs: orNull(this.startedMs[i]),
      finishedMs: this.finishedMs[i] ?? 0,
      rolledBackMs: orNull(this.rolledBackMs[i]),
      firstCommitMs: orNull(this.firstCommitMs[i]),
    };
  }

  private grow(capacity: number): void {
    const strings = <T>(from: T[]): T[] => {
      const to = new Array<T>(capacity);
      for (let i = 0; i < this.length; i += 1) to[i] = from[i] as T;
      return to;
    };
    const names = (from: Int32Array) => {
      const to = new Int32Array(capacity);
      to.set(from);
      return to;
    };
    const times = (from: Float64Array) => {
      const to = new Float64Array(capacity);
      to.set(from);
      return to;
    };
    this.deployment = strings(this.deployment);
    this.version = strings(this.version);
    this.ticket = strings(this.ticket);
    this.remediates = strings(this.remediates);
    this.service = names(this.service);
    this.environment = names(this.environment);
    this.region = names(this.region);
    this.kind = names(this.kind);
    this.intent = names(this.intent);
    this.firstMs = times(this.firstMs);
    this.startedMs = times(this.startedMs);
    this.finishedMs = times(this.finishedMs);
    this.rolledBackMs = times(this.rolledBackMs);
    this.firstCommitMs = times(this.firstCommitMs);
  }
}

function orNull(ms: number | undefined): number | null {
  return ms === undefined || Number.isNaN(ms) ? null : ms;
}
