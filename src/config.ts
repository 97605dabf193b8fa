/**
 * Runtime configuration: command-line flags and the environment, parsed once into a frozen,
 * typed object. Nothing else in shiplog reads `process.env`.
 */
import path from 'node:path';
import { ShiplogError } from './errors.js';

export interface RuntimeConfig {
  /** Folder for the embedded SQLite database and the ledger signing key. Default `./.shiplog`. */
  readonly dataDir: string;
  /** PostgreSQL URL (`SHIPLOG_DATABASE_URL` or `--database`); unset means embedded SQLite. */
  readonly databaseUrl: string | undefined;
  /** Port to listen on. Default 7350. */
  readonly port: number;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host: string;
  /** `SHIPLOG_BOOTSTRAP_TOKEN`: creates (once) an admin token with this value. */
  readonly bootstrapToken: string | undefined;
  /** pino level (`SHIPLOG_LOG_LEVEL`). Default info. */
  readonly logLevel: string;
  /** The YAML config file (`--config`). */
  readonly configFile: string | undefined;
  /** Ledger signing key (`SHIPLOG_SIGNING_KEY`, a note signer key); default: generated into the data folder. */
  readonly signingKey: string | undefined;
  /** Ledger origin line (`SHIPLOG_LEDGER_ORIGIN`). Default `shiplog.local/ledger`. */
  readonly ledgerOrigin: string;
  /** Webhook secrets, by source (`SHIPLOG_<SOURCE>_WEBHOOK_TOKEN` / `_SECRET`). */
  readonly webhookSecrets: Readonly<Record<string, string>>;
}

export interface ServeFlags {
  readonly data?: string;
  readonly database?: string;
  readonly port?: string | number;
  readonly host?: string;
  readonly config?: string;
  readonly logLevel?: string;
}

const WEBHOOK_SOURCES = [
  'github',
  'gitlab',
  'jenkins',
  'argocd',
  'cdevents',
  'pagerduty',
  'opsgenie',
  'alertmanager',
  'grafana',
  'jira',
  'generic',
];

export function loadRuntimeConfig(
  flags: ServeFlags = {},
  env: NodeJS.ProcessEnv = process.env,
): RuntimeConfig {
  const port = Number(flags.port ?? env.SHIPLOG_PORT ?? 7350);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ShiplogError(
      'SHIPLOG_CONFIG',
      `--port must be a whole number from 0 to 65535, got "${String(flags.port)}"`,
    );
  }
  const databaseUrl = flags.database ?? env.SHIPLOG_DATABASE_URL ?? undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ShiplogError(
      'SHIPLOG_CONFIG',
      'the database URL must start with postgres:// (SHIPLOG_DATABASE_URL or --database)',
    );
  }
  const webhookSecrets: Record<string, string> = {};
  for (const source of WEBHOOK_SOURCES) {
    const upper = source.toUpperCase();
    const value = env[`SHIPLOG_${upper}_WEBHOOK_SECRET`] ?? env[`SHIPLOG_${upper}_WEBHOOK_TOKEN`];
    if (value) webhookSecrets[source] = value;
  }
  return Object.freeze({
    dataDir: path.resolve(flags.data ?? env.SHIPLOG_DATA ?? '.shiplog'),
    databaseUrl: databaseUrl || undefined,
    port,
    host: flags.host ?? env.SHIPLOG_HOST ?? '127.0.0.1',
    bootstrapToken: env.SHIPLOG_BOOTSTRAP_TOKEN || undefined,
    logLevel: flags.logLevel ?? env.SHIPLOG_LOG_LEVEL ?? 'info',
    configFile: flags.config ?? env.SHIPLOG_CONFIG ?? undefined,
    signingKey: env.SHIPLOG_SIGNING_KEY || undefined,
    ledgerOrigin: env.SHIPLOG_LEDGER_ORIGIN ?? 'shiplog.local/ledger',
    webhookSecrets: Object.freeze(webhookSecrets),
  });
}

export interface ClientConfig {
  /** Server URL (`--url` or `SHIPLOG_URL`). Default http://127.0.0.1:7350. */
  readonly url: string;
  /** Bearer token (`--token` or `SHIPLOG_TOKEN`). */
  readonly token: string | undefined;
  /** Where `shiplog run` keeps events it could not send (`SHIPLOG_SPOOL`). */
  readonly spoolFile: string;
  /** Per-request timeout in ms (`SHIPLOG_TIMEOUT_MS`). Default 5000. */
  readonly timeoutMs: number;
}

export function loadClientConfig(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): ClientConfig {
  const url = (flags.url ?? env.SHIPLOG_URL ?? 'http://127.0.0.1:7350').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url))
    throw new ShiplogError('SHIPLOG_CONFIG', `--url must start with http:// or https://, got "${url}"`);
  const home = env.HOME ?? '.';
  return Object.freeze({
    url,
    token: flags.token ?? env.SHIPLOG_TOKEN ?? undefined,
    spoolFile: env.SHIPLOG_SPOOL ?? path.join(home, '.shiplog-spool.jsonl'),
    timeoutMs: Number(env.SHIPLOG_TIMEOUT_MS ?? 5000),
  });
}

export interface SyncConfig {
  /** GitHub token for `shiplog sync github` (`SHIPLOG_GITHUB_TOKEN`, else `GITHUB_TOKEN`). */
  readonly githubToken: string | undefined;
  /** GitLab token for `shiplog sync gitlab` (`SHIPLOG_GITLAB_TOKEN`, else `GITLAB_TOKEN`). */
  readonly gitlabToken: string | undefined;
}

/** Provider API tokens for `shiplog sync`; never the webhook secrets. */
export function loadSyncConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  return Object.freeze({
    githubToken: env.SHIPLOG_GITHUB_TOKEN || env.GITHUB_TOKEN || undefined,
    gitlabToken: env.SHIPLOG_GITLAB_TOKEN || env.GITLAB_TOKEN || undefined,
  });
}

/** The values of the environment variables the config file names for secrets (unset ones left out). */
export function loadSecretVariables(
  names: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value) values[name] = value;
  }
  return Object.freeze(values);
}
