/** `shiplog alerts [--status S] [--ack ID]`: lists alerts, or acknowledges one (DESIGN.md §11). */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import type { AlertView } from '../../alerts/alert-view.js';
import { request } from '../client.js';
import { CliError, printTable } from '../output.js';

interface Flags {
  ack?: string;
  status?: string;
  limit?: string;
  json?: boolean;
  url?: string;
  token?: string;
}

const STATUSES = ['firing', 'acknowledged', 'resolved'];

export function registerAlerts(program: Command): void {
  program
    .command('alerts')
    .description('list alerts (newest first), or acknowledge one with --ack ID: its escalation stops')
    .option('--ack <id>', 'acknowledge this alert')
    .option('--status <status>', 'only alerts in this status: firing, acknowledged or resolved')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--json', 'print the JSON answer')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (flags: Flags) => {
      const config = loadClientConfig(flags);
      if (flags.ack !== undefined) {
        const answer = await request<{ alert: AlertView }>(
          config,
          'POST',
          `/v1/alerts/${encodeURIComponent(flags.ack)}/ack`,
        );
        if (flags.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
        else
          process.stdout.write(
            `acknowledged ${answer.alert.id} (${answer.alert.rule}) as ${answer.alert.acknowledgedBy ?? ''}\n`,
          );
        return;
      }
      if (flags.status !== undefined && !STATUSES.includes(flags.status))
        throw new CliError(`--status must be one of ${STATUSES.join(', ')}`, 2);
      const limit = flags.limit === undefined ? 50 : Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new CliError('--limit must be a whole number from 1 to 1000', 2);
      const query = new URLSearchParams({ limit: String(limit) });
      if (flags.status !== undefined) query.set('status', flags.status);
      const page = await request<{ items: AlertView[]; nextCursor: string | null }>(
        config,
        'GET',
        `/v1/alerts?${query.toString()}`,
      );
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return;
      }
      if (page.items.length === 0) {
        process.stdout.write('no alerts\n');
        return;
      }
      printTable(
        page.items.map((a) => ({
          id: a.id,
          status: a.status,
          severity: a.severity,
          rule: a.rule,
          since: a.startsAt,
          summary: a.summary,
        })),
        ['id', 'status', 'severity', 'rule', 'since', 'summary'],
      );
    });
}
