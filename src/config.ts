/**
 * Runtime configuration, parsed once into frozen, typed objects. Nothing else in shiplog reads
 * `process.env` (src/config-file.ts passes it in for `shiplog serve`).
 *
 * The settings of `shiplog serve` are one table, {@link SERVE_SETTINGS}: each names its flag,
 * its environment variable, its key under `server:` in shiplog.yaml (where it has one), its
 * default and its parser. A value is taken from the flag, else the variable, else the file,
 * else the default (DESIGN.md §5). Commander gets no defaults, so that a flag the user did not
 * give never hides the environment; `shiplog serve --help` and the README's table are written
 * from this table.
 */
import { parseDuration } from './domain/duration.js';
import path from 'node:path';
import { ShiplogError } from './errors.js';
import { WEBHOOK_SOURCES, secretVariable } from './domain/sources.js';
import { INCIDENT_SOURCES } from './ingest/incident-source.js';

/** At most `requests` requests per token (or client address) in any window of `perMs`. */
export interface RateLimit {
  readonly requests: number;
  readonly perMs: number;
}

export interface RuntimeConfig {
  /** Folder for the embedded SQLite database and the ledger signing key. Default `./.shiplog`. */
  readonly dataDir: string;
  /** PostgreSQL URL; unset means embedded SQLite. */
  readonly databaseUrl: string | undefined;
  /** Port to listen on. Default 7350. */
  readonly port: number;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host: string;
  /** The YAML configuration file. */
  readonly configFile: string | undefined;
  /** Creates (once) an admin token with this value. */
  readonly bootstrapToken: string | undefined;
  /** pino level. Default info. */
  readonly logLevel: string;
  /** Requests per token (or client address) and window; `null`: not limited. Default 600 per minute. */
  readonly rateLimit: RateLimit | null;
  /** Ledger signing key (a note signer key); default: generated into the data folder. */
  readonly signingKey: string | undefined;
  /** Ledger origin line. Default `shiplog.local/ledger`. */
  readonly ledgerOrigin: string;
  /** Webhook secrets, by source, from the variables {@link secretVariable} names. */
  readonly webhookSecrets: Readonly<Record<string, string>>;
  /** The four timeouts below, together (the form Fastify and Node take). */
  readonly timeouts: ServerTimeouts;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Largest answer shiplog reads from a service it calls (`SHIPLOG_OUTBOUND_MAX_BYTES`). Default 4 MiB. */
  readonly outboundMaxBytes: number;
}

/** Limits on slow or idle clients (docs/security.md, Limits). */
export interface ServerTimeouts {
  /** Whole request, headers and body (`SHIPLOG_REQUEST_TIMEOUT_MS`). Default 30 000; past it: 408, closed. */
  readonly requestMs: number;
  /** Request line and headers (`SHIPLOG_HEADERS_TIMEOUT_MS`). Default 10 000; at most requestMs. */
  readonly headersMs: number;
  /** A connection that sends nothing for this long is closed (`SHIPLOG_IDLE_TIMEOUT_MS`). Default 30 000. */
  readonly idleMs: number;
  /** A kept-alive connection waits this long for its next request (`SHIPLOG_KEEP_ALIVE_TIMEOUT_MS`). Default 5000. */
  readonly keepAliveMs: number;
}

/** The defaults of {@link ServerTimeouts}. */
export const DEFAULT_TIMEOUTS: ServerTimeouts = Object.freeze({
  requestMs: 30_000,
  headersMs: 10_000,
  idleMs: 30_000,
  keepAliveMs: 5000,
});

/** The default of `SHIPLOG_OUTBOUND_MAX_BYTES`. */
export const DEFAULT_OUTBOUND_MAX_BYTES = 4 * 1024 * 1024;

/** The flags of `shiplog serve` (and `verify`), as commander gives them: strings, never defaults. */
export interface ServeFlags {
  readonly data?: string | undefined;
  readonly database?: string | undefined;
  readonly port?: string | number | undefined;
  readonly host?: string | undefined;
  readonly config?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly rateLimit?: string | undefined;
}

/** Settings read from the table below (the webhook secrets are derived from the sources). */
type Settings = Omit<RuntimeConfig, 'webhookSecrets' | 'timeouts'>;

/** Values of the `server:` section of shiplog.yaml, already parsed by the same parsers. */
export type ServerFileSettings = Partial<
  Pick<Settings, 'dataDir' | 'databaseUrl' | 'port' | 'host' | 'logLevel' | 'rateLimit'>
>;

/** Thrown by a parser: what the value must be; the caller says where it came from. */
class Invalid extends Error {}

interface Setting<K extends keyof Settings> {
  /** `--port`; the commander key is {@link flagKey}. */
  readonly flag?: `--${string}`;
  readonly flagKey?: keyof ServeFlags;
  /** Placeholder in `--help`: `--port <port>`. */
  readonly arg?: string;
  readonly env?: `SHIPLOG_${string}`;
  /** Key under `server:` in shiplog.yaml. */
  readonly fileKey?: string;
  readonly default: Settings[K];
  /** How the default reads in docs and `--help`. */
  readonly shownDefault: string;
  readonly doc: string;
  /** A flag or a variable gives a string; the file, any YAML value. */
  readonly parse: (raw: unknown) => Settings[K];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function text(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new Invalid('must be a non-empty string');
  return raw;
}

function parsePort(raw: unknown): number {
  const port =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Invalid('must be a whole number from 0 to 65535');
  }
  return port;
}

function parseDatabaseUrl(raw: unknown): string {
  const url = text(raw);
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Invalid('must start with postgres:// or postgresql://');
  return url;
}

function parseLogLevel(raw: unknown): string {
  const level = text(raw);
  if (!LOG_LEVELS.includes(level)) throw new Invalid(`must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/** A duration above zero (`30s`, `1m`, `1h30m`, `500ms`; src/domain/duration.ts) → milliseconds; throws otherwise. */
export function positiveDuration(raw: unknown): number {
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) throw new Invalid('must be a duration such as 30s, 1m or 1h');
  return ms;
}

function parseRequests(raw: unknown): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new Invalid('must be a whole number of requests, 1 or more');
  return n;
}

/**
 * `600/1m` (flag, variable) or `{requests: 600, per: 1m}` (file); `off` or `false` turns the
 * limit off.
 */
function parseRateLimit(raw: unknown): RateLimit | null {
  if (raw === false || raw === 'off') return null;
  if (typeof raw === 'string') {
    const [requests, per, ...rest] = raw.split('/');
    if (requests !== undefined && per !== undefined && rest.length === 0) {
      return Object.freeze({ requests: parseRequests(requests.trim()), perMs: positiveDuration(per) });
    }
    throw new Invalid('must be REQUESTS/DURATION (600/1m) or off');
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const { requests, per, ...rest } = raw as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0)
      throw new Invalid(`has unknown keys (${unknown.join(', ')}): only requests and per`);
    return Object.freeze({ requests: parseRequests(requests), perMs: positiveDuration(per) });
  }
  throw new Invalid('must be {requests: 600, per: 1m}, 600/1m, or off');
}

/** The settings of `shiplog serve`, in the order of the README's table. */
export const SERVE_SETTINGS: { readonly [K in keyof Settings]: Setting<K> } = {
  dataDir: {
    flag: '--data',
    flagKey: 'data',
    arg: 'dir',
    env: 'SHIPLOG_DATA',
    fileKey: 'data',
    default: '.shiplog',
    shownDefault: './.shiplog',
    doc: 'SQLite database and ledger signing key',
    parse: text,
  },
  databaseUrl: {
    flag: '--database',
    flagKey: 'database',
    arg: 'url',
    env: 'SHIPLOG_DATABASE_URL',
    fileKey: 'database',
    default: undefined,
    shownDefault: '(SQLite)',
    doc: 'postgres://... to use PostgreSQL',
    parse: parseDatabaseUrl,
  },
  port: {
    flag: '--port',
    flagKey: 'port',
    arg: 'port',
    env: 'SHIPLOG_PORT',
    fileKey: 'port',
    default: 7350,
    shownDefault: '7350',
    doc: 'port to listen on',
    parse: parsePort,
  },
  host: {
    flag: '--host',
    flagKey: 'host',
    arg: 'host',
    env: 'SHIPLOG_HOST',
    fileKey: 'host',
    default: '127.0.0.1',
    shownDefault: '127.0.0.1',
    doc: 'interface to listen on',
    parse: text,
  },
  configFile: {
    flag: '--config',
    flagKey: 'config',
    arg: 'file',
    env: 'SHIPLOG_CONFIG',
    default: undefined,
    shownDefault: 'none',
    doc: 'shiplog.yaml configuration file',
    parse: text,
  },
  bootstrapToken: {
    env: 'SHIPLOG_BOOTSTRAP_TOKEN',
    default: undefined,
    shownDefault: 'none',
    doc: 'creates (once) an admin token with this value',
    parse: text,
  },
  logLevel: {
    flag: '--log-level',
    flagKey: 'logLevel',
    arg: 'level',
    env: 'SHIPLOG_LOG_LEVEL',
    fileKey: 'logLevel',
    default: 'info',
    shownDefault: 'info',
    doc: `log level (${LOG_LEVELS.join(', ')})`,
    parse: parseLogLevel,
  },
  rateLimit: {
    flag: '--rate-limit',
    flagKey: 'rateLimit',
    arg: 'n/per',
    env: 'SHIPLOG_RATE_LIMIT',
    fileKey: 'rateLimit',
    default: Object.freeze({ requests: 600, perMs: 60_000 }),
    shownDefault: '600/1m',
    doc: 'requests per token (or client address) and window, or off',
    parse: parseRateLimit,
  },
  signingKey: {
    env: 'SHIPLOG_SIGNING_KEY',
    default: undefined,
    shownDefault: 'generated into the data folder',
    doc: 'ledger signing key (a note signer key)',
    parse: text,
  },
  ledgerOrigin: {
    env: 'SHIPLOG_LEDGER_ORIGIN',
    default: 'shiplog.local/ledger',
    shownDefault: 'shiplog.local/ledger',
    doc: 'origin line of the ledger checkpoints',
    parse: text,
  },
  requestTimeoutMs: {
    env: 'SHIPLOG_REQUEST_TIMEOUT_MS',
    default: DEFAULT_TIMEOUTS.requestMs,
    shownDefault: String(DEFAULT_TIMEOUTS.requestMs),
    doc: 'longest a client may take to send a whole request (then 408)',
    parse: parsePositive,
  },
  headersTimeoutMs: {
    env: 'SHIPLOG_HEADERS_TIMEOUT_MS',
    default: DEFAULT_TIMEOUTS.headersMs,
    shownDefault: String(DEFAULT_TIMEOUTS.headersMs),
    doc: 'longest a client may take to send the headers (at most the request timeout)',
    parse: parsePositive,
  },
  idleTimeoutMs: {
    env: 'SHIPLOG_IDLE_TIMEOUT_MS',
    default: DEFAULT_TIMEOUTS.idleMs,
    shownDefault: String(DEFAULT_TIMEOUTS.idleMs),
    doc: 'a connection that sends nothing for this long is closed',
    parse: parsePositive,
  },
  keepAliveTimeoutMs: {
    env: 'SHIPLOG_KEEP_ALIVE_TIMEOUT_MS',
    default: DEFAULT_TIMEOUTS.keepAliveMs,
    shownDefault: String(DEFAULT_TIMEOUTS.keepAliveMs),
    doc: 'how long a kept-alive connection waits for its next request',
    parse: parsePositive,
  },
  outboundMaxBytes: {
    env: 'SHIPLOG_OUTBOUND_MAX_BYTES',
    default: DEFAULT_OUTBOUND_MAX_BYTES,
    shownDefault: String(DEFAULT_OUTBOUND_MAX_BYTES),
    doc: 'largest answer read from a service shiplog calls',
    parse: parsePositive,
  },
};

function parsePositive(raw: unknown): number {
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Invalid('must be a whole number greater than 0');
  return value;
}

/** The keys of the `server:` section of shiplog.yaml, each with its setting. */
export const SERVER_FILE_KEYS: Readonly<Record<string, keyof ServerFileSettings>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SERVE_SETTINGS).flatMap(([name, setting]) =>
      setting.fileKey === undefined ? [] : [[setting.fileKey, name as keyof ServerFileSettings]],
    ),
  ),
);

/**
 * Parses one value of the `server:` section; a problem is returned as a message ("must be
 * ...") for the file loader to locate by line.
 */
export function parseServerFileValue(
  key: keyof ServerFileSettings,
  raw: unknown,
): { value: ServerFileSettings[typeof key] } | { problem: string } {
  try {
    return { value: SERVE_SETTINGS[key].parse(raw) };
  } catch (error) {
    if (error instanceof Invalid) return { problem: error.message };
    throw error;
  }
}

/** An unset or empty variable is absent: `SHIPLOG_PORT= shiplog serve` means the default. */
function fromEnv(env: NodeJS.ProcessEnv, name: string | undefined): string | undefined {
  const value = name === undefined ? undefined : env[name];
  return value === undefined || value === '' ? undefined : value;
}

function resolve<K extends keyof Settings>(
  name: K,
  flags: ServeFlags,
  env: NodeJS.ProcessEnv,
  file: ServerFileSettings,
): Settings[K] {
  const setting = SERVE_SETTINGS[name] as Setting<K>;
  const flag = setting.flagKey === undefined ? undefined : flags[setting.flagKey];
  const [raw, where] =
    flag !== undefined
      ? [flag, setting.flag]
      : fromEnv(env, setting.env) !== undefined
        ? [fromEnv(env, setting.env), setting.env]
        : [undefined, undefined];
  if (where === undefined) {
    const fromFile =
      setting.fileKey === undefined
        ? undefined
        : (file[name as keyof ServerFileSettings] as Settings[K] | undefined);
    return fromFile !== undefined ? fromFile : setting.default;
  }
  try {
    return setting.parse(raw);
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    const shown = where.startsWith('--') ? `${where} ${String(raw)}` : `${where}=${String(raw)}`;
    throw new ShiplogError('SHIPLOG_CONFIG', `${where} ${error.message} (got ${shown})`);
  }
}

/** The configuration file's name, from `--config` or `SHIPLOG_CONFIG`. */
export function configFileName(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return resolve('configFile', flags, env, {});
}

/**
 * The settings of `shiplog serve` from its flags, the environment and the `server:` section of
 * the configuration file (already parsed: src/config-file.ts `loadServeConfig` reads all three).
 */
export function loadRuntimeConfig(
  flags: ServeFlags = {},
  env: NodeJS.ProcessEnv = process.env,
  file: ServerFileSettings = {},
): RuntimeConfig {
  const settings = Object.fromEntries(
    (Object.keys(SERVE_SETTINGS) as (keyof Settings)[]).map((name) => [
      name,
      resolve(name, flags, env, file),
    ]),
  ) as unknown as Settings;
  const webhookSecrets: Record<string, string> = {};
  for (const source of WEBHOOK_SOURCES) {
    const value = fromEnv(env, secretVariable(source));
    if (value !== undefined) webhookSecrets[source] = value;
  }
  // The incident receivers (docs/incidents.md): SHIPLOG_<TOOL>_WEBHOOK_SECRET, or _TOKEN.
  for (const source of INCIDENT_SOURCES) {
    const upper = source.toUpperCase();
    const value =
      fromEnv(env, `SHIPLOG_${upper}_WEBHOOK_SECRET`) ?? fromEnv(env, `SHIPLOG_${upper}_WEBHOOK_TOKEN`);
    if (value !== undefined) webhookSecrets[source] = value;
  }
  return Object.freeze({
    ...settings,
    dataDir: path.resolve(settings.dataDir),
    webhookSecrets: Object.freeze(webhookSecrets),
    timeouts: timeoutsOf(settings),
  });
}

/** A whole number > 0 from the environment, or `fallback` when unset. */
function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ShiplogError('SHIPLOG_CONFIG', `${name} must be a whole number greater than 0, got "${raw}"`);
  }
  return value;
}

function timeoutsOf(settings: Settings): ServerTimeouts {
  // Node refuses a headers timeout longer than the request timeout that contains it.
  if (settings.headersTimeoutMs > settings.requestTimeoutMs) {
    throw new ShiplogError(
      'SHIPLOG_CONFIG',
      `SHIPLOG_HEADERS_TIMEOUT_MS (${settings.headersTimeoutMs}) must not exceed SHIPLOG_REQUEST_TIMEOUT_MS (${settings.requestTimeoutMs})`,
    );
  }
  return Object.freeze({
    requestMs: settings.requestTimeoutMs,
    headersMs: settings.headersTimeoutMs,
    idleMs: settings.idleTimeoutMs,
    keepAliveMs: settings.keepAliveTimeoutMs,
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
  /** Largest answer read from shiplog or a provider API (`SHIPLOG_OUTBOUND_MAX_BYTES`). Default 4 MiB. */
  readonly maxAnswerBytes: number;
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
    maxAnswerBytes: positiveInteger(env, 'SHIPLOG_OUTBOUND_MAX_BYTES', DEFAULT_OUTBOUND_MAX_BYTES),
  });
}

export interface SyncConfig {
  /** GitHub token for `shiplog sync github` (`SHIPLOG_GITHUB_TOKEN`, else `GITHUB_TOKEN`). */
  readonly githubToken: string | undefined;
  /** GitLab token for `shiplog sync gitlab` (`SHIPLOG_GITLAB_TOKEN`, else `GITLAB_TOKEN`). */
  readonly gitlabToken: string | undefined;
  /** Largest answer read from the provider's API (`SHIPLOG_OUTBOUND_MAX_BYTES`). Default 4 MiB. */
  readonly maxAnswerBytes: number;
}

/** Provider API tokens for `shiplog sync`; never the webhook secrets. */
export function loadSyncConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  return Object.freeze({
    githubToken: env.SHIPLOG_GITHUB_TOKEN || env.GITHUB_TOKEN || undefined,
    gitlabToken: env.SHIPLOG_GITLAB_TOKEN || env.GITLAB_TOKEN || undefined,
    maxAnswerBytes: positiveInteger(env, 'SHIPLOG_OUTBOUND_MAX_BYTES', DEFAULT_OUTBOUND_MAX_BYTES),
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
