/**
 * `shiplog archive run | verify | restore` (DESIGN.md §14, docs/retention.md).
 *
 * - `run`: the retention job, offline like `shiplog verify`, on a data folder or a database
 *   URL with the `retention:` of `--config` (defaults without one): archive the months past
 *   `hot`, retire what is past `archive` and the non-production records past
 *   `purgeNonProduction`. Progress on stderr.
 * - `verify [DIR]`: proves every segment of a folder (or, without DIR, of the configured
 *   storage) without the database: records against leaf hashes, leaf hashes against the signed
 *   checkpoint's root. Exit 0 when all hold, 1 naming the first segment that does not.
 * - `restore MONTH`: proves the month's segment, then brings its payloads back.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadServeConfig } from '../../config-file.js';
import { parseVerifierKey, type NoteVerifier } from '../../ledger/note.js';
import { CliError } from '../output.js';
import { createProgress, type Progress } from '../progress.js';
import type { SegmentVerdict } from '../../retention/segment-verify.js';

interface StoreFlags {
  data?: string;
  database?: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

interface VerifyFlags extends StoreFlags {
  key: string[];
  keys?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function storeOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'data folder of an embedded (SQLite) shiplog')
    .option('--database <url>', 'PostgreSQL URL (or SHIPLOG_DATABASE_URL)')
    .option('--config <file>', 'shiplog.yaml with the retention: section (or SHIPLOG_CONFIG)')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress on stderr');
}

export function registerArchive(program: Command): void {
  const archive = program
    .command('archive')
    .description('archive segments: run the retention job, verify segments, restore a month');
  storeOptions(
    archive
      .command('run')
      .description('archive months past retention.hot and retire payloads past their age'),
  ).action(runArchive);
  storeOptions(
    archive
      .command('verify')
      .argument('[dir]', 'a folder of segments (default: the configured archive)')
      .description('prove every segment against its signed checkpoint, without the database'),
  )
    .option(
      '--key <key>',
      'a trusted verifier key (repeatable; default: the keys in the data folder)',
      collect,
      [],
    )
    .option('--keys <file>', 'a file of trusted verifier keys, one per line')
    .action(verifyArchive);
  storeOptions(
    archive
      .command('restore')
      .argument('<month>', 'the month to bring back, YYYY-MM')
      .description("prove a month's segment and bring its payloads back into the database"),
  ).action(restoreArchive);
}

/** One progress line per phase (`archiving 2026-01`, `verifying 2026-01`). */
function phases(quiet: boolean | undefined): {
  update: (phase: string, done: number, total: number) => void;
  finish: () => void;
} {
  let current: { phase: string; progress: Progress } | undefined;
  return {
    update(phase, done, total) {
      if (quiet) return;
      if (current?.phase !== phase) {
        current?.progress.finish();
        current = { phase, progress: createProgress(phase) };
      }
      current.progress.update(done, total);
    },
    finish: () => current?.progress.finish(),
  };
}

async function openAll(flags: StoreFlags) {
  const { runtime, file } = loadServeConfig({
    data: flags.data,
    database: flags.database,
    config: flags.config,
  });
  if (!runtime.databaseUrl && !fs.existsSync(path.join(runtime.dataDir, 'shiplog.db'))) {
    throw new CliError(`no shiplog database in ${runtime.dataDir} (give --data DIR or --database URL)`, 2);
  }
  const { openStore } = await import('../../store/database.js');
  const { loadLedgerSigner, readKnownVerifiers } = await import('../../store/ledger-keys.js');
  const { createLedger } = await import('../../store/ledger-repository.js');
  const { setUpRetention } = await import('../../retention/retention-setup.js');
  const store = await openStore({ dataDir: runtime.dataDir, databaseUrl: runtime.databaseUrl });
  try {
    const signer = loadLedgerSigner({
      dataDir: runtime.dataDir,
      signingKey: runtime.signingKey,
      origin: runtime.ledgerOrigin,
    });
    const ledger = createLedger(store, { signer, origin: runtime.ledgerOrigin });
    const progress = phases(flags.quiet);
    const setup = await setUpRetention({
      store,
      ledger,
      file,
      dataDir: runtime.dataDir,
      verifiers: readKnownVerifiers(runtime.dataDir),
      onProgress: progress.update,
    });
    return { store, setup, progress };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function runArchive(flags: StoreFlags): Promise<void> {
  const { store, setup, progress } = await openAll(flags);
  let report;
  try {
    report = await setup.retention.runArchive(Date.now());
  } finally {
    progress.finish();
    await store.close();
  }
  if (flags.json)
    process.stdout.write(`${JSON.stringify({ ok: report.failures.length === 0, ...report })}\n`);
  else {
    for (const a of report.archived) {
      process.stdout.write(
        `archived ${a.month}: entries ${a.first}..${a.end - 1} (${a.entries}), ${a.deployments} deployments, ${a.bytes} bytes to ${setup.storage.location}\n`,
      );
    }
    for (const p of report.purged) {
      process.stdout.write(
        `retired ${p.month}: ${p.entries} payloads (${p.events} events), ${p.deployments} deployment rows\n`,
      );
    }
    const np = report.nonProduction;
    if (np.entries > 0)
      process.stdout.write(`retired non-production: ${np.entries} payloads (${np.events} events)\n`);
    if (report.archived.length + report.purged.length + np.entries === 0)
      process.stdout.write('nothing to archive or retire\n');
  }
  const [first] = report.failures;
  if (first) {
    throw new CliError(
      `the segment of ${first.month} does NOT verify (nothing of it was deleted): ${first.problem ?? ''}`,
      1,
    );
  }
}

function trustedKeys(flags: VerifyFlags): NoteVerifier[] | undefined {
  const given = [
    ...flags.key,
    ...(flags.keys
      ? fs
          .readFileSync(flags.keys, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#'))
      : []),
  ];
  try {
    if (given.length > 0) return given.map((k) => parseVerifierKey(k));
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  return undefined;
}

async function verifyArchive(dir: string | undefined, flags: VerifyFlags): Promise<void> {
  const { createFolderStorage, storageFor } = await import('../../retention/segment-storage.js');
  const { readKnownVerifiers } = await import('../../store/ledger-keys.js');
  const { monthsOf, manifestFile } = await import('../../retention/segment-format.js');
  const { verifySegment } = await import('../../retention/segment-verify.js');
  const { runtime, file } = loadServeConfig({
    data: flags.data,
    database: flags.database,
    config: flags.config,
  });
  const { DEFAULT_RETENTION } = await import('../../retention/retention-config.js');
  const storage =
    dir !== undefined
      ? createFolderStorage(dir)
      : await storageFor(file.retention ?? DEFAULT_RETENTION, runtime.dataDir);
  const months = monthsOf(await storage.list());
  if (months.length === 0) throw new CliError(`no archive segments in ${storage.location}`, 2);
  let verifiers = trustedKeys(flags) ?? readKnownVerifiers(runtime.dataDir);
  if (verifiers.length === 0) {
    // No key given and none in a data folder: trust the key the first manifest names, and say so.
    const { readText } = await import('../../retention/segment-storage.js');
    const manifest = JSON.parse(await readText(storage, manifestFile(months[0] ?? ''))) as {
      verifierKey: string;
    };
    verifiers = [parseVerifierKey(manifest.verifierKey)];
    if (!flags.json) {
      process.stderr.write(
        `warning: no --key given and no data folder keys; trusted the key the segments name, ${manifest.verifierKey}\n`,
      );
    }
  }
  const progress = phases(flags.quiet);
  const verdicts: SegmentVerdict[] = [];
  try {
    for (const month of months) {
      verdicts.push(
        await verifySegment(storage, month, verifiers, (d, t) => progress.update(`verifying ${month}`, d, t)),
      );
    }
  } finally {
    progress.finish();
  }
  // Segments tile the log: each starts where the one before ended.
  const gaps = verdicts.slice(1).flatMap((v, i) => {
    const before = verdicts[i];
    return before && before.ok && v.ok && v.first !== before.end
      ? [
          `entries ${before.end}..${v.first - 1} between ${before.month} and ${v.month} are in no segment here`,
        ]
      : [];
  });
  const bad = verdicts.find((v) => !v.ok);
  if (flags.json)
    process.stdout.write(`${JSON.stringify({ ok: bad === undefined, segments: verdicts, notes: gaps })}\n`);
  if (bad) throw new CliError(`the segment of ${bad.month} does NOT verify: ${bad.problem ?? ''}`, 1);
  if (!flags.json) {
    for (const note of gaps) process.stderr.write(`note: ${note}\n`);
    for (const v of verdicts) {
      const retired = v.retired > 0 ? `, ${v.retired} retired before archiving (leaf hash only)` : '';
      process.stdout.write(
        `ok: ${v.month}: entries ${v.first}..${v.end - 1} (${v.entries}${retired}), ${v.deployments} deployments; included in the signed checkpoint of size ${v.checkpointSize}\n`,
      );
    }
  }
}

async function restoreArchive(month: string, flags: StoreFlags): Promise<void> {
  const { isMonth } = await import('../../retention/segment-format.js');
  if (!isMonth(month)) throw new CliError(`${month} is not a month (YYYY-MM)`, 2);
  const { store, setup, progress } = await openAll(flags);
  const { restoreMonth } = await import('../../retention/restore.js');
  let report;
  try {
    report = await restoreMonth(store, setup.storage, month, setup.verifiers, Date.now(), (d, t) =>
      progress.update(`restoring ${month}`, d, t),
    );
  } finally {
    progress.finish();
    await store.close();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ ok: true, ...report })}\n`);
  else {
    process.stdout.write(
      `restored ${report.month}: ${report.restored} of ${report.entries} payloads back in the database, ${report.deployments} deployment rows; it stays for retention.hot before it is retired again\n`,
    );
  }
}
