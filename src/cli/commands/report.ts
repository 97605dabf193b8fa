/**
 * `shiplog report audit|access|coverage`: pulls a report from the server (docs/audit.md) and
 * streams it to `-o FILE` (or stdout). `report audit --bundle -o FILE.tar.gz` pulls the
 * evidence bundle that `shiplog verify --bundle` checks offline.
 */
import fs from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import { ApiError } from '../client.js';
import { CliError } from '../output.js';

interface ClientFlags {
  url?: string;
  token?: string;
  output?: string;
}

interface AuditFlags extends ClientFlags {
  month: string;
  env?: string;
  format?: string;
  bundle?: boolean;
}

const FORMATS = ['json', 'csv', 'html', 'pdf'];

export function registerReport(program: Command): void {
  const report = program
    .command('report')
    .description('pull audit evidence: monthly audit report, access and coverage reviews');
  const client = (command: Command) =>
    command
      .option('-o, --output <file>', 'write to FILE (default: stdout)')
      .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
      .option('--token <token>', 'an auditor or admin token (or SHIPLOG_TOKEN)');

  client(
    report
      .command('audit')
      .description(
        'every deployment of a month with approvers, justification and gate decision; --bundle for the evidence bundle',
      )
      .requiredOption('--month <YYYY-MM>', "the month, in the server's reports.timeZone")
      .option('--env <environment>', 'the environment (default production)')
      .option('--format <format>', 'json, csv, html or pdf (default json)')
      .option('--bundle', 'the evidence bundle (.tar.gz) instead: check it with shiplog verify --bundle'),
  ).action(async (flags: AuditFlags) => {
    if (!/^[0-9]{4}-(0[1-9]|1[0-2])$/.test(flags.month)) throw new CliError('--month must be YYYY-MM', 2);
    if (flags.format !== undefined && !FORMATS.includes(flags.format)) {
      throw new CliError(`--format must be one of ${FORMATS.join(', ')}`, 2);
    }
    if (flags.bundle && flags.format !== undefined)
      throw new CliError('--bundle and --format exclude each other', 2);
    if ((flags.bundle || flags.format === 'pdf') && flags.output === undefined) {
      throw new CliError(`${flags.bundle ? '--bundle' : 'pdf'} is binary: give -o FILE`, 2);
    }
    const query = new URLSearchParams({ month: flags.month });
    if (flags.env !== undefined) query.set('environment', flags.env);
    if (!flags.bundle) query.set('format', flags.format ?? 'json');
    await download(flags, `/v1/reports/audit${flags.bundle ? '/bundle' : ''}?${query}`);
  });

  client(
    report
      .command('access')
      .description('every token with role, scopes, creator, last use and findings; every approver')
      .option('--format <format>', 'json or csv (default json)'),
  ).action(async (flags: ClientFlags & { format?: string }) => {
    const format = flags.format ?? 'json';
    if (format !== 'json' && format !== 'csv') throw new CliError('--format must be json or csv', 2);
    await download(flags, `/v1/reports/access?format=${format}`);
  });

  client(
    report
      .command('coverage')
      .description('tracking gaps: silent services and sources, unregistered environments, missing tags')
      .option('--days <n>', 'the period in days (default 30)'),
  ).action(async (flags: ClientFlags & { days?: string }) => {
    const days = flags.days ?? '30';
    if (!/^[1-9][0-9]{0,3}$/.test(days)) throw new CliError('--days must be a number of days', 2);
    await download(flags, `/v1/reports/coverage?days=${days}`);
  });
}

/** GETs `path` and streams the body to the output; the timeout covers the wait for the answer, not its download. */
async function download(flags: ClientFlags, path: string): Promise<void> {
  const config = loadClientConfig(flags);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(config.timeoutMs, 60_000));
  let response: Response;
  try {
    response = await fetch(`${config.url}${path}`, {
      headers: config.token ? { authorization: `Bearer ${config.token}` } : {},
      signal: abort.signal,
    });
  } catch (error) {
    throw new ApiError(`cannot reach shiplog at ${config.url}: ${(error as Error).message}`, 0);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok || response.body === null) {
    const text = await response.text();
    let message = text.slice(0, 200);
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      message = `${body.error?.code ?? ''}: ${body.error?.message ?? ''}`;
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(`${String(response.status)} ${message}`, response.status);
  }
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  const sink: Writable = flags.output === undefined ? process.stdout : fs.createWriteStream(flags.output);
  if (flags.output === undefined) {
    for await (const chunk of body) {
      if (!process.stdout.write(chunk as Buffer))
        await new Promise((resolve) => process.stdout.once('drain', resolve));
    }
    return;
  }
  await pipeline(body, sink);
  process.stderr.write(`wrote ${flags.output} (${fs.statSync(flags.output).size} bytes)\n`);
}
