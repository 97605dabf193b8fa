/**
 * `shiplog sync github|gitlab --since ...`: fills the gaps missed webhooks leave, by polling
 * the provider's deployments API and posting what it finds to shiplog. Idempotent: the events
 * carry the ids the webhook path gives them, so what shiplog already has is a duplicate.
 */
import type { Command } from 'commander';
import { configFileName, loadClientConfig, loadSyncConfig } from '../../config.js';
import type { EventInput } from '../../domain/event.js';
import type { SyncBatch } from '../../ingest/sync-payloads.js';
import { callOut, type OutboundResponse } from '../../outbound/http-client.js';
import { request } from '../client.js';
import { CliError } from '../output.js';

interface Flags {
  since: string;
  repo?: string[];
  project?: string[];
  apiUrl?: string;
  config?: string;
  dryRun?: boolean;
  url?: string;
  token?: string;
}

const MAX_PAGES = 50;
const BATCH = 1000;

/** `2026-11-01T00:00:00Z`, or a duration back from now: `90m`, `24h`, `7d`. */
export function parseSince(value: string, nowMs = Date.now()): number {
  const relative = /^(\d+)([mhd])$/.exec(value);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return nowMs - Number(relative[1]) * unit;
  }
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new CliError(`--since must be an RFC 3339 time or a duration like 24h or 7d, got "${value}"`, 2);
  }
  return ms;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The URL of `rel="next"` in an RFC 8288 Link header. */
function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/** How to ask a provider's API: its headers, and the largest answer read (SHIPLOG_OUTBOUND_MAX_BYTES). */
interface ProviderApi {
  readonly headers: Record<string, string>;
  readonly maxBytes: number;
}

async function getJson(url: string, api: ProviderApi): Promise<{ body: unknown; next?: string }> {
  let response: OutboundResponse;
  try {
    response = await callOut(url, { headers: api.headers, timeoutMs: 30_000, maxBytes: api.maxBytes });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot read ${url.split('?')[0] ?? url}: ${reason}`);
  }
  const text = response.body.toString('utf8');
  if (!response.ok) {
    throw new CliError(`${response.status} from ${url.split('?')[0] ?? url}: ${text.slice(0, 200)}`);
  }
  const next = nextLink(response.headers.get('link'));
  try {
    return { body: JSON.parse(text) as unknown, ...(next !== undefined && { next }) };
  } catch {
    throw new CliError(`${url.split('?')[0] ?? url} did not answer JSON`);
  }
}

async function* pages(first: string, api: ProviderApi): AsyncGenerator<unknown[]> {
  let url: string | undefined = first;
  for (let page = 0; url !== undefined && page < MAX_PAGES; page++) {
    const { body, next } = await getJson(url, api);
    if (!Array.isArray(body)) throw new CliError(`${url.split('?')[0] ?? url} did not answer a list`);
    yield body;
    url = next;
  }
}

const timeOf = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : Number.NaN);

async function syncGithub(
  repo: string,
  apiUrl: string,
  sinceMs: number,
  token: string | undefined,
  flags: Flags,
) {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new CliError(`--repo must be owner/name, got "${repo}"`, 2);
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'shiplog-sync',
    ...(token !== undefined && { authorization: `Bearer ${token}` }),
  };
  const api = { headers, maxBytes: loadSyncConfig().maxAnswerBytes };
  const base = `${apiUrl}/repos/${repo}`;
  const found: { deployment: unknown; statuses: unknown[] }[] = [];
  // Newest first: stop at the first page whose deployments were all last touched before --since.
  for await (const page of pages(`${base}/deployments?per_page=100`, api)) {
    let recent = false;
    for (const d of page) {
      const record = d as { id?: unknown; updated_at?: unknown; created_at?: unknown };
      const touched = timeOf(record.updated_at ?? record.created_at);
      if (!(touched >= sinceMs)) continue;
      recent = true;
      const statuses: unknown[] = [];
      for await (const s of pages(`${base}/deployments/${String(record.id)}/statuses?per_page=100`, api)) {
        statuses.push(...s);
      }
      found.push({ deployment: d, statuses });
    }
    if (!recent) break;
  }
  const { loadConfigFile } = await import('../../config-file.js');
  const { githubSyncEvents } = await import('../../ingest/sync-payloads.js');
  const rules = loadConfigFile(configFileName(flags)).mappings.rules?.github;
  return githubSyncEvents(repo, found, rules);
}

async function syncGitlab(
  project: string,
  apiUrl: string,
  sinceMs: number,
  token: string | undefined,
  flags: Flags,
) {
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(token !== undefined && { 'private-token': token }),
  };
  const api = { headers, maxBytes: loadSyncConfig().maxAnswerBytes };
  const base = `${apiUrl}/api/v4/projects/${encodeURIComponent(project)}`;
  const { body: info } = await getJson(base, api);
  if (info === null || typeof info !== 'object') throw new CliError(`${base} did not answer a project`);
  const since = new Date(sinceMs).toISOString();
  const deployments: unknown[] = [];
  const query = `updated_after=${encodeURIComponent(since)}&order_by=updated_at&sort=asc&per_page=100`;
  for await (const page of pages(`${base}/deployments?${query}`, api)) deployments.push(...page);
  const { loadConfigFile } = await import('../../config-file.js');
  const { gitlabSyncEvents } = await import('../../ingest/sync-payloads.js');
  const rules = loadConfigFile(configFileName(flags)).mappings.rules?.gitlab;
  return gitlabSyncEvents(info as Record<string, unknown>, deployments, rules);
}

async function post(flags: Flags, events: EventInput[]): Promise<{ stored: number; duplicate: number }> {
  const client = loadClientConfig(flags);
  let stored = 0;
  let duplicate = 0;
  for (let i = 0; i < events.length; i += BATCH) {
    const answer = await request<{ results: { status: string }[] }>(client, 'POST', '/v1/events', {
      events: events.slice(i, i + BATCH),
    });
    for (const r of answer.results) {
      if (r.status === 'stored') stored++;
      else duplicate++;
    }
  }
  return { stored, duplicate };
}

function report(
  label: string,
  batch: SyncBatch,
  counts: { stored: number; duplicate: number } | undefined,
): void {
  for (const s of batch.skipped) process.stderr.write(`shiplog sync: ${label}: skipped ${s}\n`);
  const summary = counts
    ? `${counts.stored} stored, ${counts.duplicate} already known`
    : `${batch.events.length} events (dry run, nothing sent)`;
  process.stdout.write(`${label}: ${summary}, ${batch.skipped.length} skipped\n`);
}

export function registerSync(program: Command): void {
  const sync = program
    .command('sync')
    .description("fill gaps left by missed webhooks from a provider's deployments API");
  const common = (command: Command) =>
    command
      .requiredOption('--since <time>', 'RFC 3339 time, or a duration back from now (24h, 7d)')
      .option('--config <file>', 'shiplog.yaml with mapping rules (or SHIPLOG_CONFIG)')
      .option('--dry-run', 'print the events instead of sending them')
      .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
      .option(
        '--token <token>',
        'shiplog API token with the admin role, since the events carry the reserved webhook keys (or SHIPLOG_TOKEN)',
      );
  common(
    sync
      .command('github')
      .description('GitHub deployments and their statuses (token: SHIPLOG_GITHUB_TOKEN or GITHUB_TOKEN)')
      .requiredOption('--repo <owner/name>', 'repository (repeatable)', collect)
      .option(
        '--api-url <url>',
        'GitHub API base URL (GitHub Enterprise: https://HOST/api/v3)',
        'https://api.github.com',
      ),
  ).action(async (flags: Flags) => {
    const sinceMs = parseSince(flags.since);
    const apiUrl = (flags.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
    for (const repo of flags.repo ?? []) {
      const batch = await syncGithub(repo, apiUrl, sinceMs, loadSyncConfig().githubToken, flags);
      if (flags.dryRun) process.stdout.write(`${JSON.stringify(batch.events, null, 2)}\n`);
      report(repo, batch, flags.dryRun ? undefined : await post(flags, batch.events));
    }
  });
  common(
    sync
      .command('gitlab')
      .description('GitLab project deployments (token: SHIPLOG_GITLAB_TOKEN or GITLAB_TOKEN)')
      .requiredOption('--project <id|path>', 'project id or path with namespace (repeatable)', collect)
      .option('--api-url <url>', 'GitLab base URL', 'https://gitlab.com'),
  ).action(async (flags: Flags) => {
    const sinceMs = parseSince(flags.since);
    const apiUrl = (flags.apiUrl ?? 'https://gitlab.com').replace(/\/+$/, '');
    for (const project of flags.project ?? []) {
      const batch = await syncGitlab(project, apiUrl, sinceMs, loadSyncConfig().gitlabToken, flags);
      if (flags.dryRun) process.stdout.write(`${JSON.stringify(batch.events, null, 2)}\n`);
      report(project, batch, flags.dryRun ? undefined : await post(flags, batch.events));
    }
  });
}
