/**
 * `shiplog run --service S --env E --version V -- <command...>`: records a deployment around a
 * deploy command. Sends `started`, runs the command with its output passing through, sends
 * `succeeded` or `failed` with the exit code and duration, and exits with the command's own
 * code. It never fails a deploy because shiplog is unreachable: it warns and spools the events,
 * and resends them on the next call.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { loadClientConfig, type ClientConfig } from '../../config.js';
import { request } from '../client.js';
import { shippedCommits } from '../git-commits.js';
import { flushSpool, spool } from '../spool.js';
import { eventFromFlags, type EventFlags } from './event.js';
import { collectPairs } from '../output.js';

type RunFlags = Omit<EventFlags, 'type' | 'deployment'> & {
  deployment?: string;
  repo: string;
  commits: boolean;
};

const warn = (line: string) => process.stderr.write(`${line}\n`);

async function send(config: ClientConfig, event: Record<string, unknown>): Promise<void> {
  try {
    await request(config, 'POST', '/v1/events', event);
  } catch (error) {
    warn(
      `shiplog: warning: could not record ${String(event.type)} (${(error as Error).message}); spooled to ${config.spoolFile}`,
    );
    try {
      spool(config, event);
    } catch (spoolError) {
      warn(`shiplog: warning: could not spool either: ${(spoolError as Error).message}`);
    }
  }
}

function runCommand(argv: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', (error) => {
      warn(`shiplog: cannot run ${file}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

/**
 * The commits this deployment ships (DESIGN.md §10): from the previous succeeded deployment's
 * commit of the service and environment (asked from the server) to HEAD. Never fails a deploy:
 * outside a git work tree there are none, and an unreachable server gives HEAD alone.
 */
async function commitsOf(config: ClientConfig, flags: RunFlags, repo: string) {
  let previous: string | null = null;
  try {
    const query = new URLSearchParams({
      service: flags.service,
      environment: flags.env,
      status: 'succeeded',
      limit: '1',
    });
    if (flags.region) query.set('region', flags.region);
    const page = await request<{ items: { commit: string | null }[] }>(
      config,
      'GET',
      `/v1/deployments?${query.toString()}`,
    );
    previous = page.items[0]?.commit ?? null;
  } catch (error) {
    warn(`shiplog: warning: could not ask for the previous deployment (${(error as Error).message})`);
  }
  const shipped = shippedCommits(repo, previous);
  if (shipped?.note) warn(`shiplog: commits: HEAD only (${shipped.note})`);
  return shipped;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'record a deployment around a deploy command: shiplog run --service S --env E --version V -- <command...>',
    )
    .argument('<command...>', 'the deploy command and its arguments (after --)')
    .requiredOption('--service <name>', 'service name')
    .requiredOption('--env <name>', 'environment name')
    .requiredOption('--version <version>', 'version deployed')
    .option('--deployment <key>', 'deployment key (default: generated and printed)')
    .option('--commit <sha>', 'commit deployed')
    .option('--actor <name>', 'who deployed (default: the token name)')
    .option('--region <name>', 'region')
    .option('--instance <id>', 'instance')
    .option('--cohort <name>', 'canary or blue-green cohort')
    .option('--kind <kind>', 'release, hotfix, config, migration or rollback')
    .option('--ticket <id>', 'change ticket')
    .option('--build-id <id>', 'CI build id')
    .option('--build-url <url>', 'CI build URL')
    .option('--label <key=value>', 'a label (repeatable)', collectPairs)
    .option('--repo <dir>', 'the git repository the commits are read from', '.')
    .option('--no-commits', 'do not read the commits shipped from git')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (command: string[], flags: RunFlags) => {
      const config = loadClientConfig(flags);
      const sent = await flushSpool(config, warn);
      if (sent > 0) warn(`shiplog: resent ${sent} spooled event(s)`);
      const deployment = flags.deployment ?? `cli:${flags.service}:${randomUUID()}`;
      if (!flags.deployment) warn(`shiplog: deployment ${deployment}`);
      const { repo, commits: readCommits, ...eventFlags } = flags;
      const shipped = readCommits ? await commitsOf(config, flags, repo) : null;
      const base = { ...eventFlags, deployment, commit: flags.commit ?? shipped?.head };
      const startedMs = Date.now();
      await send(config, {
        ...eventFromFlags({
          ...base,
          type: 'started',
          id: `${deployment}/started`,
          time: new Date(startedMs).toISOString(),
        }),
        ...(shipped && shipped.commits.length > 0 ? { commits: shipped.commits } : {}),
      });
      const exitCode = await runCommand(command);
      const endMs = Date.now();
      await send(
        config,
        eventFromFlags({
          ...base,
          type: exitCode === 0 ? 'succeeded' : 'failed',
          id: `${deployment}/finished`,
          time: new Date(endMs).toISOString(),
          label: { ...flags.label, exitCode: String(exitCode), durationMs: String(endMs - startedMs) },
        }),
      );
      process.exitCode = exitCode;
    });
}
