/**
 * `shiplog catalog import FILE...`: reads Backstage descriptors (`catalog-info.yaml`, several
 * documents per file) and sends their components and resources to `POST /v1/catalog` (admin).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import { request } from '../client.js';
import { CliError } from '../output.js';

interface Flags {
  url?: string;
  token?: string;
  dryRun?: boolean;
}

export function registerCatalog(program: Command): void {
  const catalog = program.command('catalog').description('the service catalog');
  catalog
    .command('import')
    .description('import Backstage catalog-info.yaml files: owners and dependencies of services')
    .argument('<files...>', 'Backstage descriptor files')
    .option('--dry-run', 'print what would be imported, send nothing')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (files: string[], flags: Flags) => {
      const { parseBackstage } = await import('../../ingest/backstage.js');
      const read = files.map((name) => {
        try {
          return { name, text: fs.readFileSync(name, 'utf8') };
        } catch (error) {
          throw new CliError(
            `cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
          );
        }
      });
      const result = parseBackstage(read);
      if (result.problems.length > 0) {
        throw new CliError(
          `${String(result.problems.length)} problem(s) in the descriptors; nothing was imported`,
          1,
          result.problems,
        );
      }
      if (result.entities.length === 0) throw new CliError('the files hold no Component or Resource');
      if (flags.dryRun) {
        process.stdout.write(`${JSON.stringify({ entities: result.entities }, null, 2)}\n`);
        return;
      }
      const config = loadClientConfig(flags);
      const answer = await request<{ imported: number }>(config, 'POST', '/v1/catalog', {
        entities: result.entities,
      });
      const skipped = Object.entries(result.skipped)
        .map(([kind, n]) => `${String(n)} ${kind}`)
        .join(', ');
      process.stdout.write(
        `imported ${String(answer.imported)} services${skipped ? ` (skipped: ${skipped})` : ''}\n`,
      );
    });
}
