/**
 * `shiplog verify`: check the ledger (DESIGN.md §4, docs/ledger.md §6).
 *
 * - Offline, on a data folder or a database URL: every leaf, node, the sequencer and the
 *   latest checkpoint (and `--checkpoint FILE`, if given) are recomputed from the stored
 *   records. Exit 0 when all holds, 1 naming the first bad index otherwise.
 * - As a witness (`--url URL --checkpoint FILE`): the server's checkpoint must be signed and
 *   extend the one saved in FILE; then it replaces it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadClientConfig, loadRuntimeConfig } from '../../config.js';
import { parseVerifierKey, type NoteVerifier } from '../../ledger/note.js';
import { CliError } from '../output.js';
import { createProgress } from '../progress.js';
import { witnessCheckpoint } from '../witness.js';

interface VerifyFlags {
  data?: string;
  database?: string;
  key: string[];
  keys?: string;
  checkpoint?: string;
  url?: string;
  token?: string;
  json?: boolean;
  quiet?: boolean;
  bundle?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify the ledger offline (--data or --database), or as a witness (--url and --checkpoint)')
    .option('--data <dir>', 'data folder of an embedded (SQLite) shiplog')
    .option('--database <url>', 'PostgreSQL URL (or SHIPLOG_DATABASE_URL)')
    .option(
      '--key <key>',
      'a trusted verifier key (repeatable; default: the keys in the data folder)',
      collect,
      [],
    )
    .option('--keys <file>', 'a file of trusted verifier keys, one per line')
    .option('--checkpoint <file>', 'a saved signed checkpoint: the log must extend it (witness: updated)')
    .option('--url <url>', 'witness mode: the shiplog server to check (or SHIPLOG_URL)')
    .option('--token <token>', 'witness mode: a token that may read (or SHIPLOG_TOKEN)')
    .option(
      '--bundle <file>',
      'verify an evidence bundle of shiplog report audit --bundle, offline (docs/audit.md)',
    )
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress on stderr')
    .action(async (flags: VerifyFlags) => {
      const keys = [...flags.key, ...(flags.keys ? readKeyFile(flags.keys) : [])];
      if (flags.bundle !== undefined) {
        await runBundle(flags.bundle, keys, flags.json === true);
        return;
      }
      if (flags.url !== undefined) {
        await runWitness(flags, keys);
        return;
      }
      await runOffline(flags, keys);
    });
}

function readKeyFile(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Checks an evidence bundle with nothing but the bundle (and `--key`, when the auditor pins the
 * ledger's key): exit 0 when it holds, 1 naming each problem by its code.
 */
async function runBundle(file: string, keys: readonly string[], json: boolean): Promise<void> {
  if (!fs.existsSync(file)) throw new CliError(`no such file: ${file}`, 2);
  const { verifyBundle } = await import('../../reports/bundle-verify.js');
  const verdict = await verifyBundle(file, keys);
  if (json) process.stdout.write(`${JSON.stringify(verdict)}\n`);
  if (!verdict.ok) {
    const [first, ...rest] = verdict.problems;
    throw new CliError(
      `the bundle does NOT verify: ${first?.code ?? ''}: ${first?.message ?? ''}`,
      1,
      rest.map((p) => ({ path: p.code, message: p.message })),
    );
  }
  if (!json) {
    if (keys.length === 0) {
      process.stderr.write(
        'note: checked against the key in the bundle; pass --key with the key the ledger publishes to pin it\n',
      );
    }
    if (verdict.retired > 0) {
      process.stderr.write(
        `note: ${verdict.retired} entries of the run have retired payloads and were not classified\n`,
      );
    }
    process.stdout.write(
      `ok: ${verdict.environment} ${verdict.month}: ${verdict.rows} rows, ${verdict.citedEntries} cited entries proven, ` +
        `${verdict.rangeEntries} entries of the run complete against checkpoint ${verdict.checkpointSize}\n`,
    );
  }
}

async function runWitness(flags: VerifyFlags, keys: readonly string[]): Promise<void> {
  if (!flags.checkpoint)
    throw new CliError('witness mode needs --checkpoint FILE to keep the last checkpoint', 2);
  const config = loadClientConfig({ url: flags.url, token: flags.token });
  const result = await witnessCheckpoint(config, flags.checkpoint, keys);
  if (result.trustedServerKey && !flags.json) {
    process.stderr.write(
      `warning: no --key given; trusted the server's own key ${result.trustedServerKey}\n`,
    );
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ ok: true, ...result })}\n`);
  else if (result.from === null)
    process.stdout.write(
      `saved the checkpoint of ${result.origin} at size ${result.to} to ${flags.checkpoint}\n`,
    );
  else
    process.stdout.write(
      `consistent: ${result.origin} grew from ${result.from} to ${result.to} entries without rewriting history; saved\n`,
    );
}

async function runOffline(flags: VerifyFlags, keys: readonly string[]): Promise<void> {
  const config = loadRuntimeConfig({ data: flags.data, database: flags.database });
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'shiplog.db'))) {
    throw new CliError(`no shiplog database in ${config.dataDir} (give --data DIR or --database URL)`, 2);
  }
  const { openStore } = await import('../../store/database.js');
  const { auditLedger } = await import('../../store/ledger-audit.js');
  const { readKnownVerifiers } = await import('../../store/ledger-keys.js');
  let verifiers: NoteVerifier[];
  try {
    verifiers = keys.length > 0 ? keys.map((k) => parseVerifierKey(k)) : readKnownVerifiers(config.dataDir);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const checkpoints = flags.checkpoint ? [fs.readFileSync(flags.checkpoint, 'utf8')] : [];
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, migrate: false });
  const progress = flags.quiet ? undefined : createProgress('verifying');
  let report;
  try {
    report = await auditLedger(store, {
      verifiers,
      checkpoints,
      onProgress: (done, total) => progress?.update(done, total),
    });
  } catch (error) {
    const message = (error as Error).message;
    if (/ledger_|no such table|does not exist/.test(message)) {
      throw new CliError(`${store.location} holds no ledger (is it a shiplog database?): ${message}`, 2);
    }
    throw error;
  } finally {
    progress?.finish();
    await store.close();
  }
  const root = Buffer.from(report.rootHash).toString('hex');
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        ok: report.ok,
        entries: report.entries,
        rootHash: root,
        checkpointSizes: report.checkpointSizes,
        retired: report.retired,
        problems: report.problems,
        notes: report.notes,
      })}\n`,
    );
  }
  if (!report.ok) {
    const [first, ...rest] = report.problems;
    throw new CliError(
      `the ledger does NOT verify: ${first?.index === null || first === undefined ? '' : `index ${first.index}: `}${first?.message ?? ''}`,
      1,
      rest.map((p) => ({ path: p.index === null ? 'ledger' : `index ${p.index}`, message: p.message })),
    );
  }
  if (!flags.json) {
    for (const note of report.notes) process.stderr.write(`note: ${note}\n`);
    const signed =
      report.checkpointSizes.length > 0
        ? `; checkpoint signature and root verified at size ${report.checkpointSizes.join(', ')}`
        : '';
    process.stdout.write(`ok: ${report.entries} entries, root ${root}${signed}\n`);
  }
}
