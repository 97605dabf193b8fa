/**
 * `shiplog blame --env E --path PATH`: which deployment into E introduced a change to PATH. It
 * lists E's deployments through the API, oldest first, and for each one reads with `git`, in the
 * local repository, whether the commits it brought (previous deployment's commit .. its commit)
 * touched PATH. Exit 0 with the first such deployment, 1 when none did.
 */
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import type { DeploymentView, Page } from '../../store/deployments-repository.js';
import { ApiError, request } from '../client.js';
import { CliError } from '../output.js';

interface Flags {
  env: string;
  path: string;
  service?: string;
  repo?: string;
  json?: boolean;
  url?: string;
  token?: string;
}

/** Only a hex object name goes to git: a commit field from the server is never an option. */
const COMMIT = /^[0-9a-f]{4,64}$/i;
/** Statuses whose deployment changed what ran in the environment. */
const LANDED = new Set(['succeeded', 'rolled_back']);

export interface BlameHit {
  deployment: string;
  service: string;
  region: string | null;
  version: string | null;
  commit: string;
  previousCommit: string | null;
  actor: string;
  finishedAt: string | null;
  commits: string[];
}

/** The commits of `range` (`a..b`, or `b` for all history up to b) that touched `file`. */
function commitsTouching(repo: string, range: string, file: string, deployment: string): string[] {
  try {
    const out = execFileSync('git', ['-C', repo, 'log', '--format=%H', range, '--', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.split('\n').filter((line) => line !== '');
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new CliError(`git cannot read the commits of deployment ${deployment} in ${repo}`, 2, [
      { path: 'range', message: `${range}: ${stderr.split('\n')[0] ?? 'git failed'}` },
    ]);
  }
}

export function registerBlame(program: Command): void {
  program
    .command('blame')
    .description('name the first deployment into an environment whose commits changed a path')
    .requiredOption('--env <name>', 'the environment')
    .requiredOption('--path <path>', 'the file or folder, relative to the repository')
    .option('--service <name>', 'only this service')
    .option('--repo <dir>', 'the local git repository', '.')
    .option('--json', 'print the JSON answer')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (flags: Flags) => {
      const config = loadClientConfig(flags);
      const repo = flags.repo ?? '.';
      const newestFirst: DeploymentView[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ environment: flags.env, limit: '1000' });
        if (flags.service) query.set('service', flags.service);
        if (cursor) query.set('cursor', cursor);
        let page: Page<DeploymentView>;
        try {
          page = await request<Page<DeploymentView>>(config, 'GET', `/v1/deployments?${query.toString()}`);
        } catch (error) {
          // Exit 1 means "no deployment changed PATH": a failed look-up must not read as that.
          if (error instanceof ApiError) throw new CliError(error.message, 2, error.details);
          throw error;
        }
        newestFirst.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      // Oldest first; each service and region is its own line of commits.
      const previous = new Map<string, string>();
      let hit: BlameHit | undefined;
      for (const d of newestFirst.reverse()) {
        if (!LANDED.has(d.status) || !d.commit) continue;
        if (!COMMIT.test(d.commit)) {
          throw new CliError(`deployment ${d.deployment} has a commit that is not a git object name`, 2, [
            { path: 'commit', message: JSON.stringify(d.commit.slice(0, 80)) },
          ]);
        }
        const line = JSON.stringify([d.service, d.region]);
        const before = previous.get(line) ?? null;
        previous.set(line, d.commit);
        if (before === d.commit) continue;
        const commits = commitsTouching(
          repo,
          before ? `${before}..${d.commit}` : d.commit,
          flags.path,
          d.deployment,
        );
        if (commits.length > 0) {
          hit = {
            deployment: d.deployment,
            service: d.service,
            region: d.region,
            version: d.version,
            commit: d.commit,
            previousCommit: before,
            actor: d.actor,
            finishedAt: d.finishedAt,
            commits,
          };
          break;
        }
      }
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ path: flags.path, environment: flags.env, deployment: hit ?? null }, null, 2)}\n`,
        );
      } else if (hit) {
        process.stdout.write(
          [
            `${flags.path} was changed in ${flags.env} by deployment ${hit.deployment}`,
            `  service:  ${hit.region ? `${hit.service}/${hit.region}` : hit.service}`,
            `  version:  ${hit.version ?? ''}`,
            `  commit:   ${hit.commit}${hit.previousCommit ? ` (after ${hit.previousCommit})` : ' (first recorded deployment)'}`,
            `  actor:    ${hit.actor}`,
            `  finished: ${hit.finishedAt ?? ''}`,
            `  commits that touched it: ${hit.commits.join(' ')}`,
            '',
          ].join('\n'),
        );
      } else {
        process.stdout.write(`no deployment into ${flags.env} changed ${flags.path}\n`);
      }
      if (!hit) process.exitCode = 1;
    });
}
