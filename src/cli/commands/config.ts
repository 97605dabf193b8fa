/**
 * `shiplog config test-mapping <source> <payload-file>`: prints the events a webhook payload
 * becomes under the config file's mapping rules, without a server, so a mapping can be checked
 * (and put in CI) before any tool is pointed at shiplog.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { configFileName } from '../../config.js';
import { WEBHOOK_SOURCES, isWebhookSource } from '../../domain/sources.js';
import { CliError } from '../output.js';

interface Flags {
  header: string[];
  config?: string;
}

/** Repeatable `--header 'Name: value'`. */
function collectHeader(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('check the configuration file');
  config
    .command('test-mapping')
    .description('print the events a webhook payload becomes (no server needed)')
    .argument('<source>', WEBHOOK_SOURCES.join(' | '))
    .argument('<payload-file>', 'the body the tool sends (JSON)')
    .option(
      '--header <name:value>',
      'a header the tool sends, e.g. "X-GitHub-Event: deployment" (repeatable)',
      collectHeader,
      [],
    )
    .option('--config <file>', 'shiplog.yaml with the mappings: section (or SHIPLOG_CONFIG)')
    .action(async (source: string, payloadFile: string, flags: Flags) => {
      if (!isWebhookSource(source)) {
        throw new CliError(`unknown source "${source}": use one of ${WEBHOOK_SOURCES.join(', ')}`, 2);
      }
      // Loaded here so that other commands (run, event, ...) start without the adapters.
      const { loadConfigFile } = await import('../../config-file.js');
      const { adaptWebhook } = await import('../../ingest/sources.js');
      const file = loadConfigFile(configFileName(flags));
      let rawBody: Buffer;
      try {
        rawBody = fs.readFileSync(payloadFile);
      } catch (error) {
        throw new CliError(
          `cannot read ${payloadFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
          2,
        );
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const h of flags.header) {
        const colon = h.indexOf(':');
        if (colon <= 0) throw new CliError(`--header must be "Name: value", got "${h}"`, 2);
        headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
      }
      const result = adaptWebhook(source, { headers, rawBody, body: undefined }, file.mappings);
      const printable =
        result.kind === 'events'
          ? { events: result.events }
          : result.kind === 'ignored'
            ? { ignored: result.reason }
            : {
                record: { type: result.recordType, id: result.id, source: result.source, time: result.time },
              };
      process.stdout.write(`${JSON.stringify(printable, null, 2)}\n`);
    });
}
