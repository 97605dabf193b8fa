/**
 * `shiplog gate`: asks the gate whether a deployment may go ahead, prints every reason and
 * exits 0 on allow, 1 on deny, so a pipeline step fails closed. An unreachable server or a
 * rejected token also exits non-zero (through the CLI's one error wrapper).
 */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import { request } from '../client.js';
import { CliError } from '../output.js';

interface Flags {
  service: string;
  env: string;
  version: string;
  deployment: string;
  ticket?: string;
  kind?: string;
  at?: string;
  override?: string;
  json?: boolean;
  url?: string;
  token?: string;
}

interface GateAnswer {
  allow: boolean;
  reasons: { code: string; message: string }[];
  decisionId: string | null;
  enforced: boolean;
  overridden: boolean;
  simulated?: boolean;
}

export function registerGate(program: Command): void {
  program
    .command('gate')
    .description('ask the gate whether a deployment may go ahead: exit 0 on allow, 1 on deny')
    .requiredOption('--service <name>', 'the service')
    .requiredOption('--env <name>', 'the environment')
    .requiredOption('--version <version>', 'the version to deploy')
    .requiredOption('--deployment <id>', 'the deployment key (as in its events)')
    .option('--ticket <ticket>', 'the change ticket')
    .option(
      '--kind <kind>',
      'release, hotfix, config, migration or rollback (when shiplog has no events yet)',
    )
    .option('--at <rfc3339>', 'what-if: evaluate at this instant, not recorded')
    .option('--override <justification>', 'admin only: emergency override, recorded and flagged')
    .option('--json', 'print the JSON answer')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(runGate);
}

/** The action of `shiplog gate`; exported so tests can run it against a real server. */
export async function runGate(flags: Flags): Promise<void> {
  const config = loadClientConfig(flags);
  const body = {
    deployment: flags.deployment,
    service: flags.service,
    environment: flags.env,
    version: flags.version,
    ...(flags.ticket === undefined ? {} : { ticket: flags.ticket }),
    ...(flags.kind === undefined ? {} : { kind: flags.kind }),
    ...(flags.override === undefined ? {} : { override: { justification: flags.override } }),
  };
  const query = flags.at === undefined ? '' : `?at=${encodeURIComponent(flags.at)}`;
  const answer = await request<GateAnswer>(config, 'POST', `/v1/gate${query}`, body);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  } else {
    const what = `${flags.service} ${flags.version} to ${flags.env}`;
    const verdict = answer.allow ? (answer.overridden ? 'allowed (OVERRIDDEN)' : 'allowed') : 'denied';
    const note = answer.simulated ? ' (what-if, not recorded)' : '';
    const advice =
      !answer.enforced && answer.reasons.length > 0 ? ' (advisory: environment not protected)' : '';
    process.stdout.write(`gate: ${what} ${verdict}${note}${advice}\n`);
    for (const reason of answer.reasons) process.stdout.write(`  ${reason.code}: ${reason.message}\n`);
    if (answer.decisionId) process.stdout.write(`  decision ${answer.decisionId}\n`);
  }
  if (!answer.allow) throw new CliError(`gate denied ${flags.deployment}`, 1);
}
