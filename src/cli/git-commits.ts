/**
 * The commits a deployment ships, read from the local git history (DESIGN.md §10): those
 * reachable from HEAD and not from the previous deployment's commit, newest first, at most
 * {@link MAX_COMMITS}, each with its committer time (when it landed on the branch; an author
 * time survives rebases and cherry-picks, and would date a change before it existed here).
 */
import { execFileSync } from 'node:child_process';
import { MAX_COMMITS, type Commit } from '../domain/event.js';

/** Only a hex object name goes to git: a commit field from the server is never an option. */
const SHA = /^[0-9a-f]{4,64}$/i;

function git(repo: string, args: readonly string[]): string | null {
  try {
    return execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  } catch {
    return null;
  }
}

export interface ShippedCommits {
  readonly head: string;
  readonly commits: Commit[];
  /** Why the range is HEAD alone when a previous commit was given but cannot be used. */
  readonly note?: string;
}

/**
 * HEAD and the commits since `previous` in `repo`; null when `repo` is not in a git work tree
 * (or git is missing). Without a usable `previous` (first deployment, a commit this clone does
 * not have, a history rewritten since), the range is HEAD alone; `note` says why for the last two.
 */
export function shippedCommits(repo: string, previous: string | null): ShippedCommits | null {
  const head = git(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (head === null || !SHA.test(head)) return null;
  let range = ['-n', '1', head];
  let note: string | undefined;
  if (previous === null) {
    // The first deployment (with a commit) of the service: it ships HEAD.
  } else if (!SHA.test(previous) || git(repo, ['cat-file', '-e', `${previous}^{commit}`]) === null)
    note = `the previous deployment's commit ${previous.slice(0, 12)} is not in this repository`;
  else if (git(repo, ['merge-base', '--is-ancestor', previous, head]) === null)
    note = `the previous deployment's commit ${previous.slice(0, 12)} is not an ancestor of HEAD`;
  else range = ['-n', String(MAX_COMMITS), `${previous}..${head}`];
  const log = git(repo, ['log', '--format=%H %cI', ...range]) ?? '';
  const commits = log
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [sha = '', time = ''] = line.split(' ');
      return { sha, time: new Date(time).toISOString() };
    });
  return { head, commits, ...(note === undefined ? {} : { note }) };
}
