/** `shiplog event`: send one deployment event built from flags. */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import { request } from '../client.js';
import { collectPairs } from '../output.js';

export interface EventFlags {
  type: string;
  deployment: string;
  service: string;
  env: string;
  version?: string;
  commit?: string;
  actor?: string;
  region?: string;
  instance?: string;
  cohort?: string;
  kind?: string;
  ticket?: string;
  buildId?: string;
  buildUrl?: string;
  time?: string;
  id?: string;
  label?: Record<string, string>;
  url?: string;
  token?: string;
}

/** Builds the event body from flags, leaving out what was not given. */
export function eventFromFlags(flags: EventFlags): Record<string, unknown> {
  const type = flags.type.startsWith('deployment.') ? flags.type : `deployment.${flags.type}`;
  const build = flags.buildId || flags.buildUrl ? { id: flags.buildId, url: flags.buildUrl } : undefined;
  const event: Record<string, unknown> = {
    id: flags.id,
    type,
    time: flags.time,
    deployment: flags.deployment,
    service: flags.service,
    environment: flags.env,
    version: flags.version,
    commit: flags.commit,
    actor: flags.actor,
    region: flags.region,
    instance: flags.instance,
    cohort: flags.cohort,
    kind: flags.kind,
    ticket: flags.ticket,
    build,
    labels: flags.label,
  };
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}

export function registerEvent(program: Command): void {
  program
    .command('event')
    .description('send one deployment event')
    .requiredOption('--type <type>', 'requested, started, succeeded, failed, rolled_back or canceled')
    .requiredOption('--deployment <key>', 'the key grouping the events of one deployment')
    .requiredOption('--service <name>', 'service name')
    .requiredOption('--env <name>', 'environment name')
    .option('--version <version>', 'version deployed (required on the first event)')
    .option('--commit <sha>', 'commit deployed')
    .option('--actor <name>', 'who deployed (default: the token name)')
    .option('--region <name>', 'region')
    .option('--instance <id>', 'instance')
    .option('--cohort <name>', 'canary or blue-green cohort')
    .option('--kind <kind>', 'release, hotfix, config, migration or rollback')
    .option('--ticket <id>', 'change ticket')
    .option('--build-id <id>', 'CI build id')
    .option('--build-url <url>', 'CI build URL')
    .option('--time <rfc3339>', 'when it happened (default: now)')
    .option('--id <key>', 'idempotency key')
    .option('--label <key=value>', 'a label (repeatable)', collectPairs)
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (flags: EventFlags) => {
      const config = loadClientConfig(flags);
      const answer = await request<{ results: { id: string; status: string; ledgerIndex: number | null }[] }>(
        config,
        'POST',
        '/v1/events',
        eventFromFlags(flags),
      );
      for (const r of answer.results)
        process.stdout.write(
          `${r.status} ${r.id}${r.ledgerIndex === null ? '' : ` (ledger #${r.ledgerIndex})`}\n`,
        );
    });
}
