/**
 * `shiplog metrics dora [--env E] [--service S] [--team T] [--since T] [--until T] [--tz Z]`:
 * the DORA figures of `GET /v1/metrics/dora` as a table, each with the counts behind it, or
 * `--json` for scripts.
 */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import type { DoraFigures } from '../../domain/dora-summary.js';
import { queryOf, request } from '../client.js';
import { printTable } from '../output.js';

interface Flags {
  env?: string;
  service?: string;
  team?: string;
  since?: string;
  until?: string;
  tz?: string;
  explain?: boolean;
  json?: boolean;
  url?: string;
  token?: string;
}

/** `2d 4h`, `3h 20m`, `45m`, `12s`: two units at most. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.round(ms / 1000);
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

const percent = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);
const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** The table rows of one answer. */
export function doraRows(f: DoraFigures): Record<string, string>[] {
  const changes = f.deploymentFrequency.count;
  return [
    {
      metric: 'deployment frequency',
      value: `${f.deploymentFrequency.perDay.toFixed(2)}/day`,
      tier: f.deploymentFrequency.tier ?? '-',
      'based on': `${plural(changes, 'change')} in ${f.window.days} days`,
    },
    {
      metric: 'lead time for changes',
      value: formatDuration(f.leadTime.medianMs),
      tier: f.leadTime.tier ?? '-',
      'based on': `median of ${plural(f.leadTime.count, 'change')} with commits; p90 ${formatDuration(f.leadTime.p90Ms)}`,
    },
    {
      metric: 'change failure rate',
      value: percent(f.changeFailureRate.rate),
      tier: f.changeFailureRate.tier ?? '-',
      'based on': `${f.changeFailureRate.failed} failed of ${plural(f.changeFailureRate.total, 'change')} (rollbacks excluded)`,
    },
    {
      metric: 'recovery time',
      value: formatDuration(f.recoveryTime.medianMs),
      tier: f.recoveryTime.tier ?? '-',
      'based on': `median of ${plural(f.recoveryTime.count, 'recovered failure', 'recovered failures')}${
        f.changeFailureRate.failed > f.recoveryTime.count
          ? ` (${f.changeFailureRate.failed - f.recoveryTime.count} not recovered yet)`
          : ''
      }`,
    },
    {
      metric: 'rework rate',
      value: percent(f.reworkRate.rate),
      tier: '-',
      'based on': `${f.reworkRate.rework} unplanned of ${plural(f.reworkRate.total, 'change')}`,
    },
  ];
}

export function registerMetrics(program: Command): void {
  const metrics = program.command('metrics').description('delivery metrics');
  metrics
    .command('dora')
    .description('DORA metrics of an environment: frequency, lead time, failure rate, recovery, rework')
    .option('--env <name>', 'environment', 'production')
    .option('--service <name>', 'only this service')
    .option('--team <name>', "only this team's services (from the service catalog)")
    .option('--since <rfc3339>', 'window start (default: 30 days before --until)')
    .option('--until <rfc3339>', 'window end (default: now)')
    .option('--tz <zone>', 'IANA time zone for day boundaries (default: UTC)')
    .option('--explain', 'print the deployment and incident keys behind each figure (JSON)')
    .option('--json', 'print the JSON answer')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (flags: Flags) => {
      const config = loadClientConfig(flags);
      const query = queryOf({
        environment: flags.env,
        service: flags.service,
        team: flags.team,
        since: flags.since,
        until: flags.until,
        tz: flags.tz,
        explain: flags.explain ? 'true' : undefined,
      });
      const figures = await request<DoraFigures>(config, 'GET', `/v1/metrics/dora${query}`);
      if (flags.json || flags.explain) {
        process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
        return;
      }
      const scope = [flags.env ?? 'production', flags.service, flags.team && `team ${flags.team}`]
        .filter(Boolean)
        .join(', ');
      process.stdout.write(
        `DORA metrics of ${scope}, ${figures.window.since} to ${figures.window.until} (${figures.window.days} days, ${figures.window.tz})\n\n`,
      );
      printTable(doraRows(figures), ['metric', 'value', 'tier', 'based on']);
    });
}
