/** `shiplog deployments`: list deployments as a table, or `--json` for scripts. */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import type { DeploymentView, Page } from '../../store/deployments-repository.js';
import { queryOf, request } from '../client.js';
import { printTable } from '../output.js';

interface Flags {
  service?: string;
  env?: string;
  region?: string;
  status?: string;
  kind?: string;
  actor?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
  url?: string;
  token?: string;
}

export function registerDeployments(program: Command): void {
  program
    .command('deployments')
    .description('list deployments, newest first')
    .option('--service <name>', 'only this service')
    .option('--env <name>', 'only this environment')
    .option('--region <name>', 'only this region')
    .option('--status <status>', 'only this status')
    .option('--kind <kind>', 'only this kind')
    .option('--actor <name>', 'only this actor')
    .option('--since <rfc3339>', 'only deployments from this time on')
    .option('--until <rfc3339>', 'only deployments before this time')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print the JSON answer')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (flags: Flags) => {
      const config = loadClientConfig(flags);
      const query = queryOf({
        service: flags.service,
        environment: flags.env,
        region: flags.region,
        status: flags.status,
        kind: flags.kind,
        actor: flags.actor,
        since: flags.since,
        until: flags.until,
        limit: flags.limit,
      });
      const page = await request<Page<DeploymentView>>(config, 'GET', `/v1/deployments${query}`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return;
      }
      printTable(
        page.items.map((d) => ({
          deployment: d.deployment,
          service: d.service,
          environment: d.region ? `${d.environment}/${d.region}` : d.environment,
          version: d.version ?? '',
          status: d.status,
          actor: d.actor,
          started: d.startedAt ?? d.requestedAt ?? '',
          duration: d.durationMs === null ? '' : `${(d.durationMs / 1000).toFixed(1)}s`,
        })),
        ['deployment', 'service', 'environment', 'version', 'status', 'actor', 'started', 'duration'],
      );
    });
}
