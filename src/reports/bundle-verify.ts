/**
 * `shiplog verify --bundle FILE`: checks an evidence bundle (src/reports/bundle.ts) with
 * nothing but the bundle (and, optionally, the verifier key the auditor was given):
 *
 * 1. `checkpoint_forged`: the checkpoint is signed by the verifier key (RFC-less: the C2SP
 *    signed-note format), and report.json names that same checkpoint.
 * 2. `proof_invalid`: each cited entry's RFC 9162 §2.1.3 inclusion proof leads to the root.
 * 3. `row_mismatch`: each row is exactly what src/reports/audit-row.ts computes from the
 *    entries it cites (`entry_missing` when a cited entry is not in the bundle).
 * 4. `range_mismatch`: the run of leaves, merged onto the frontier, gives the root; each
 *    leaf's bytes hash to its leaf hash. `range_start_unproven`: the entry just before the run
 *    is an event received before the run's instant, with a valid proof.
 * 5. `row_missing`: every event of the environment in the run whose deployment's first event
 *    is in the month belongs to a reported row, and each reported row cites all its events in
 *    the run.
 * 6. `summary_mismatch`: the summary counts the rows.
 *
 * The bundle is unpacked to a temporary folder (streamed, only the expected members, each
 * once); report.json and cited.jsonl are read line by line in step, leaves.jsonl line by line:
 * memory grows with the number of deployments, not with the entries.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { isShiplogError } from '../errors.js';
import { verifyCheckpoint, type VerifiedCheckpoint } from '../ledger/checkpoint.js';
import { leafHash, verifyInclusion } from '../ledger/merkle.js';
import { parseVerifierKey } from '../ledger/note.js';
import { createRootBuilder } from '../ledger/root-builder.js';
import { canonicalJson } from '../ledger/jcs.js';
import {
  addToSummary,
  buildAuditRow,
  emptySummary,
  sortedSummary,
  type AuditRow,
  type AuditSummary,
  type CitedEntry,
} from './audit-row.js';
import type { AuditReportHeader } from './audit-report.js';
import { BUNDLE_FILES, type ProvenEntry, type RangeFile } from './bundle.js';

export type BundleProblemCode =
  | 'bundle_malformed'
  | 'checkpoint_forged'
  | 'proof_invalid'
  | 'entry_missing'
  | 'row_mismatch'
  | 'row_missing'
  | 'range_mismatch'
  | 'range_start_unproven'
  | 'summary_mismatch';

export interface BundleProblem {
  readonly code: BundleProblemCode;
  readonly message: string;
}

export interface BundleVerdict {
  readonly ok: boolean;
  readonly month: string | null;
  readonly environment: string | null;
  readonly rows: number;
  readonly citedEntries: number;
  readonly rangeEntries: number;
  /** Entries of the run whose payload retention removed: they could not be classified. */
  readonly retired: number;
  readonly checkpointSize: number | null;
  readonly problems: readonly BundleProblem[];
}

/** Stops collecting after this many problems (the first ones name the damage). */
const MAX_PROBLEMS = 50;
const MAX_MEMBER_BYTES = 8 * 1024 * 1024 * 1024;
const utf8 = new TextEncoder();

class Problems {
  readonly list: BundleProblem[] = [];
  add(code: BundleProblemCode, message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ code, message });
  }
}

/** Verifies the bundle at `file`; `keys` (verifier keys) replace the bundle's own key when given. */
export async function verifyBundle(file: string, keys: readonly string[] = []): Promise<BundleVerdict> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'shiplog-verify-'));
  try {
    return await verifyUnpacked(dir, file, keys);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function unpack(file: string, dir: string): Promise<void> {
  const extract = tar.extract();
  const seen = new Set<string>();
  extract.on('entry', (header, stream, next) => {
    const name = header.name;
    if (!(BUNDLE_FILES as readonly string[]).includes(name) || seen.has(name) || header.type !== 'file') {
      stream.resume();
      stream.on('end', () => next(new Error(`unexpected member ${JSON.stringify(name)}`)));
      return;
    }
    if ((header.size ?? 0) > MAX_MEMBER_BYTES) {
      stream.resume();
      stream.on('end', () => next(new Error(`member ${name} is too large`)));
      return;
    }
    seen.add(name);
    pipeline(stream, fs.createWriteStream(path.join(dir, name))).then(
      () => next(),
      (error: unknown) => next(error as Error),
    );
  });
  await pipeline(fs.createReadStream(file), zlib.createGunzip(), extract);
  const missing = BUNDLE_FILES.filter((name) => !seen.has(name));
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
}

const fromHex = (text: unknown): Uint8Array =>
  typeof text === 'string' && /^([0-9a-f]{2})*$/.test(text) ? Buffer.from(text, 'hex') : new Uint8Array();

function lines(file: string): AsyncIterator<string> {
  const reader = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  return reader[Symbol.asyncIterator]();
}

async function verifyUnpacked(dir: string, file: string, keys: readonly string[]): Promise<BundleVerdict> {
  const problems = new Problems();
  const verdict = (partial: Partial<BundleVerdict>): BundleVerdict => ({
    month: null,
    environment: null,
    rows: 0,
    citedEntries: 0,
    rangeEntries: 0,
    retired: 0,
    checkpointSize: null,
    ...partial,
    problems: problems.list,
    ok: problems.list.length === 0,
  });
  try {
    await unpack(file, dir);
  } catch (error) {
    problems.add(
      'bundle_malformed',
      `the bundle is not a shiplog evidence bundle: ${(error as Error).message}`,
    );
    return verdict({});
  }
  const member = (name: string) => path.join(dir, name);

  // 1. The checkpoint and its key.
  let checkpoint: VerifiedCheckpoint;
  try {
    const bundleKey = (await fs.promises.readFile(member('verifier-key.txt'), 'utf8')).trim();
    const trusted = (keys.length > 0 ? keys : [bundleKey]).map((k) => parseVerifierKey(k));
    checkpoint = verifyCheckpoint(await fs.promises.readFile(member('checkpoint.txt'), 'utf8'), trusted);
  } catch (error) {
    const reason = isShiplogError(error) || error instanceof Error ? error.message : String(error);
    problems.add('checkpoint_forged', `the checkpoint does not verify with the verifier key: ${reason}`);
    return verdict({});
  }
  const root = checkpoint.rootHash;
  const size = checkpoint.size;
  const proven = (entry: { index: number; data: string; proof: readonly string[] }): boolean =>
    verifyInclusion(leafHash(utf8.encode(entry.data)), entry.index, size, entry.proof.map(fromHex), root);

  // 2 and 3. Rows and the entries they cite, in step.
  const reportLines = lines(member('report.json'));
  const first = await reportLines.next();
  let header: AuditReportHeader;
  try {
    header = (JSON.parse(`${first.done ? '' : first.value}]}`) as { report: AuditReportHeader }).report;
    if (typeof header?.month !== 'string' || typeof header.environment !== 'string')
      throw new Error('no header');
  } catch {
    problems.add('bundle_malformed', 'report.json does not start with the report header line');
    return verdict({ checkpointSize: size });
  }
  const note = await fs.promises.readFile(member('checkpoint.txt'), 'utf8');
  if (header.checkpoint?.note !== note || header.checkpoint.size !== size) {
    problems.add('checkpoint_forged', 'report.json names another checkpoint than checkpoint.txt');
  }
  const fromMs = Date.parse(header.from);
  const toMs = Date.parse(header.to);
  const cited = lines(member('cited.jsonl'));
  const reported = new Set<string>();
  const citedEvents = new Set<number>();
  const summary = emptySummary();
  let claimed: AuditSummary | undefined;
  let rows = 0;
  let citedCount = 0;
  for (let next = await reportLines.next(); !next.done; next = await reportLines.next()) {
    const text = next.value;
    if (text.startsWith('],"summary":')) {
      try {
        claimed = (JSON.parse(`{"rows":[${text}`) as { summary: AuditSummary }).summary;
      } catch {
        problems.add('bundle_malformed', 'report.json: the summary line is not JSON');
      }
      break;
    }
    let row: AuditRow;
    try {
      row = JSON.parse(text.startsWith(',') ? text.slice(1) : text) as AuditRow;
    } catch {
      problems.add('bundle_malformed', `report.json: row ${rows + 1} is not JSON`);
      return verdict({ checkpointSize: size });
    }
    rows += 1;
    const name = typeof row.deployment === 'string' ? row.deployment : `row ${rows}`;
    if (reported.has(name)) problems.add('row_mismatch', `deployment ${name} is reported twice`);
    reported.add(name);
    addToSummary(summary, row);
    const entries: CitedEntry[] = [];
    for (const index of Array.isArray(row.evidence) ? row.evidence : []) {
      const line = await cited.next();
      let entry: ProvenEntry | undefined;
      try {
        entry = line.done ? undefined : (JSON.parse(line.value) as ProvenEntry);
      } catch {
        entry = undefined;
      }
      if (entry === undefined || entry.index !== index || typeof entry.data !== 'string') {
        problems.add('entry_missing', `deployment ${name}: cited entry ${index} is not next in cited.jsonl`);
        continue;
      }
      citedCount += 1;
      if (!proven(entry)) {
        problems.add(
          'proof_invalid',
          `entry ${index} (deployment ${name}): its inclusion proof does not lead to the checkpoint's root`,
        );
      }
      entries.push({ index: entry.index, data: entry.data });
    }
    let expected: AuditRow | undefined;
    try {
      expected = buildAuditRow(name, entries, { windows: header.windows ?? [] });
    } catch (error) {
      problems.add('row_mismatch', `deployment ${name}: ${(error as Error).message}`);
    }
    if (expected !== undefined) {
      for (const e of entries) if (parseRecord(e.data)?.recordType === 'event') citedEvents.add(e.index);
      const field = firstDifference(expected, row);
      if (field !== undefined) {
        problems.add('row_mismatch', `deployment ${name}: ${field} is not what its cited entries say`);
      }
    }
  }
  if (!(await cited.next()).done) problems.add('row_mismatch', 'cited.jsonl holds entries no row cites');
  if (claimed === undefined) problems.add('bundle_malformed', 'report.json has no summary line');
  else if (canonicalJson(sortedSummary(claimed)) !== canonicalJson(sortedSummary(summary))) {
    problems.add('summary_mismatch', 'the summary does not count the rows of the report');
  }

  // 4 and 5. The run of leaves: it hashes to the root, and no deployment of the month is left out.
  let range: RangeFile;
  try {
    range = JSON.parse(await fs.promises.readFile(member('range.json'), 'utf8')) as RangeFile;
  } catch {
    problems.add('bundle_malformed', 'range.json is not JSON');
    return verdict({
      month: header.month,
      environment: header.environment,
      rows,
      citedEntries: citedCount,
      checkpointSize: size,
    });
  }
  if (range.end !== size)
    problems.add('range_mismatch', `the run ends at ${range.end}, not at the tree size ${size}`);
  checkBoundary(range, header, proven, problems);
  const earliest = new Map<string, number>();
  for (const entry of range.earlierStarts ?? []) {
    if (!proven(entry)) {
      problems.add(
        'proof_invalid',
        `entry ${entry.index} (an earlier start): its inclusion proof does not lead to the root`,
      );
      continue;
    }
    const record = parseRecord(entry.data);
    if (record?.recordType === 'event' && typeof record.deployment === 'string') {
      earliest.set(
        record.deployment,
        Math.min(earliest.get(record.deployment) ?? Infinity, Date.parse(String(record.time))),
      );
    }
  }
  let builder;
  try {
    builder = createRootBuilder({ size: range.start, frontier: (range.frontier ?? []).map(fromHex) });
  } catch (error) {
    problems.add('range_mismatch', `range.json: ${(error as Error).message}`);
    return verdict({
      month: header.month,
      environment: header.environment,
      rows,
      citedEntries: citedCount,
      checkpointSize: size,
    });
  }
  /** Per deployment of the environment seen in the run: its earliest event time and its event indexes. */
  const seen = new Map<string, { first: number; events: number[] }>();
  let rangeEntries = 0;
  let retired = 0;
  const leaves = lines(member('leaves.jsonl'));
  for (let next = await leaves.next(); !next.done; next = await leaves.next()) {
    let leaf: { index: number; leafHash: string; data: string | null };
    try {
      leaf = JSON.parse(next.value) as typeof leaf;
    } catch {
      problems.add('bundle_malformed', `leaves.jsonl: line ${rangeEntries + 1} is not JSON`);
      break;
    }
    if (leaf.index !== range.start + rangeEntries) {
      problems.add(
        'range_mismatch',
        `leaves.jsonl: expected entry ${range.start + rangeEntries}, found ${leaf.index}`,
      );
      break;
    }
    rangeEntries += 1;
    let hash = fromHex(leaf.leafHash);
    if (leaf.data === null) {
      retired += 1;
    } else {
      const own = leafHash(utf8.encode(leaf.data));
      if (Buffer.compare(Buffer.from(own), Buffer.from(hash)) !== 0) {
        problems.add('range_mismatch', `entry ${leaf.index}: its bytes do not hash to its leaf hash`);
        hash = own;
      }
      const record = parseRecord(leaf.data);
      if (record?.recordType === 'event' && record.environment === header.environment) {
        const deployment = String(record.deployment);
        const entry = seen.get(deployment) ?? { first: Infinity, events: [] };
        entry.first = Math.min(entry.first, Date.parse(String(record.time)));
        entry.events.push(leaf.index);
        seen.set(deployment, entry);
      }
    }
    builder.append(hash);
  }
  if (range.start + rangeEntries !== size) {
    problems.add(
      'range_mismatch',
      `leaves.jsonl holds ${rangeEntries} entries, the run has ${size - range.start}`,
    );
  } else if (Buffer.compare(Buffer.from(builder.root()), Buffer.from(root)) !== 0) {
    problems.add('range_mismatch', "the run of leaves does not hash to the checkpoint's root");
  }
  for (const [deployment, { first, events }] of seen) {
    const start = Math.min(first, earliest.get(deployment) ?? Infinity);
    const inMonth = start >= fromMs && start < toMs;
    if (inMonth && !reported.has(deployment)) {
      problems.add(
        'row_missing',
        `deployment ${deployment} of ${header.environment} started in ${header.month} (entry ${events[0]}) but is not in the report`,
      );
    } else if (reported.has(deployment)) {
      const uncited = events.filter((index) => !citedEvents.has(index));
      if (uncited.length > 0) {
        problems.add(
          'row_mismatch',
          `deployment ${deployment}: event entr${uncited.length === 1 ? 'y' : 'ies'} ${uncited.slice(0, 5).join(', ')} not cited by its row`,
        );
      }
    }
  }
  return verdict({
    month: header.month,
    environment: header.environment,
    rows,
    citedEntries: citedCount,
    rangeEntries,
    retired,
    checkpointSize: size,
  });
}

function checkBoundary(
  range: RangeFile,
  header: AuditReportHeader,
  proven: (entry: ProvenEntry) => boolean,
  problems: Problems,
): void {
  const receivedFrom = Date.parse(range.receivedFrom);
  if (!(receivedFrom <= Date.parse(header.from))) {
    problems.add(
      'range_start_unproven',
      `the run starts with events received from ${range.receivedFrom}, after the month began`,
    );
  }
  if (range.start === 0) return;
  const boundary = range.boundary;
  if (boundary === null || boundary.index !== range.start - 1 || !proven(boundary)) {
    problems.add(
      'range_start_unproven',
      `the entry before the run (${range.start - 1}) is not in the bundle with a valid proof`,
    );
    return;
  }
  const record = parseRecord(boundary.data);
  if (record?.recordType !== 'event' || !(Date.parse(String(record.receivedAt)) < receivedFrom)) {
    problems.add(
      'range_start_unproven',
      `entry ${boundary.index} before the run is not an event received before ${range.receivedFrom}`,
    );
  }
}

function parseRecord(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The first field of the row whose value differs from the recomputed one. */
function firstDifference(expected: AuditRow, actual: AuditRow): string | undefined {
  const have = actual as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(expected), ...Object.keys(have)]);
  for (const key of keys) {
    const a = (expected as unknown as Record<string, unknown>)[key];
    if (canonicalJson(a ?? null) !== canonicalJson(have[key] ?? null)) return key;
  }
  return undefined;
}
