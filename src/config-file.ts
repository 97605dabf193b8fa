/**
 * The configuration file `shiplog.yaml` (DESIGN.md §5), read once at start-up by
 * `shiplog serve --config FILE`. Every problem in it is collected before start-up fails, each
 * named `<file>:<line>:<col> <path>: <message>`, so one run shows everything to fix.
 *
 * Validated now: the top-level keys, `server:` (the settings of src/config.ts that have a file
 * key, parsed by the same parsers), `environments:` (the governance policy, through
 * src/policy/load-policy.ts), `kubernetes:` (namespace → environment, for the admission
 * webhook) and `tickets:` (the gate's Jira or ServiceNow check, through
 * src/governance/ticket-config.ts), `alerts:` (src/alerts/alerts-config.ts). The other sections (services, retention, webhooks,
 * webhook), `tickets:` (the gate's Jira or ServiceNow check, through
 * src/governance/ticket-config.ts) and `retention:` (src/retention/retention-config.ts). The other sections (services, alerts, retention, webhooks,
 * mappings) belong to capabilities that validate their own shape; here they only have to be
 * mappings.
 */
import fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { NAME_PATTERN } from './domain/event.js';
import {
  SERVER_FILE_KEYS,
  configFileName,
  loadRuntimeConfig,
  parseServerFileValue,
  type RuntimeConfig,
  type ServeFlags,
  type ServerFileSettings,
} from './config.js';
import { ShiplogError } from './errors.js';
import { normalizeRepository } from './governance/image-ref.js';
import { parseTickets, validateTickets, type TicketCheckConfig } from './governance/ticket-config.js';
import {
  parseCorrelation,
  parseServices,
  validateCorrelation,
  validateServices,
} from './correlate/correlation-config.js';
import type { ServiceConfig } from './correlate/incidents.js';
import type { CorrelationSettings } from './domain/correlation.js';
import { parseDora, validateDora, type DoraConfig } from './metrics/dora-config.js';
import { DEFAULT_ALERTS, parseAlerts, validateAlerts, type AlertsConfig } from './alerts/alerts-config.js';
import { parseMappings, validateMappings } from './ingest/mapping-config.js';
import type { IngestMappings } from './ingest/sources.js';
import { parseOutbound, validateOutbound, type OutboundSinkConfig } from './outbound/outbound-config.js';
import { parsePolicy, validatePolicy, type Policy } from './policy/index.js';
import { isValidTimeZone } from './policy/local-time.js';
import { validateSuppression } from './alerts/suppression-config.js';
import {
  parseVerification,
  validateVerification,
  type VerificationCheck,
} from './verification/verification-config.js';
import { parseRetention, validateRetention, type RetentionConfig } from './retention/retention-config.js';
import {
  isRecord,
  jsonPath,
  jsonPointer,
  yamlSource,
  type PolicyProblem,
  type PolicySource,
} from './policy/policy-problems.js';

/** Top-level sections of `shiplog.yaml`; anything else is a typo and an error. */
const SECTIONS = [
  'server',
  'environments',
  'kubernetes',
  'tickets',
  'services',
  'alerts',
  'retention',
  'webhooks',
  'mappings',
  'correlation',
  'reports',
  'verification',
  'dora',
] as const;

/** `reports:` of shiplog.yaml (docs/audit.md). */
export interface ReportsConfig {
  /** IANA zone whose local midnights bound a report month; default `UTC`. */
  readonly timeZone: string;
}

/** Kubernetes namespaces and the shiplog environment each one deploys to; services and their image repositories. */
export interface KubernetesMapping {
  readonly namespaces: Readonly<Record<string, string>>;
  /**
   * Service → the image repositories it ships from, normalized as Docker resolves them
   * (`nginx` → `docker.io/library/nginx`). The admission webhook denies any image from a
   * repository that is not listed here.
   */
  readonly repositories?: Readonly<Record<string, readonly string[]>>;
}

/** The parsed, validated and frozen configuration file. */
export interface ConfigFile {
  /** `server:`: settings of `shiplog serve`; its flags and environment variables take precedence. */
  readonly server: ServerFileSettings;
  readonly policy: Policy;
  readonly kubernetes: KubernetesMapping;
  /** `tickets:`: the gate's ticket check against Jira or ServiceNow; absent: tickets are not checked. */
  readonly tickets?: TicketCheckConfig | undefined;
  /** `mappings:`: webhook mapping rules per source and the generic field mapping. */
  readonly mappings: IngestMappings;
  /** `webhooks.outbound:`: CDEvents sinks shiplog forwards its events to. */
  readonly outbound: readonly OutboundSinkConfig[];
  /** `correlation:`: the suspect window, lookback and dependency depth (defaults 15 min, 24 h, 1). */
  readonly correlation: CorrelationSettings;
  /** `services:`: teams, dependencies and repositories of services. */
  readonly services: Readonly<Record<string, ServiceConfig>>;
  /** `reports:`: the time zone of report months. */
  readonly reports: ReportsConfig;
  /** `verification:`: health checks after a deployment succeeds or is rolled back. */
  readonly verification: readonly VerificationCheck[];
  /** `dora:`: the incident severity that makes a change failed (default sev2). */
  readonly dora: DoraConfig;
  /** `alerts:`: rules, the routing tree, receivers, escalation and suppression (DESIGN.md §11). */
  readonly alerts: AlertsConfig;
  /** `retention:`: archive tiers and purge ages (DESIGN.md §14); absent: no scheduled archiving. */
  readonly retention?: RetentionConfig | undefined;
  /** Sections not validated here yet, as parsed. */
  readonly sections: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The configuration when no file is given: nothing governed, nothing mapped. */
export const DEFAULT_CONFIG: ConfigFile = Object.freeze({
  server: Object.freeze({}),
  policy: Object.freeze({ environments: Object.freeze({}) }),
  kubernetes: Object.freeze({ namespaces: Object.freeze({}) }),
  mappings: Object.freeze({}),
  outbound: Object.freeze([]),
  correlation: Object.freeze(parseCorrelation(undefined)),
  services: Object.freeze({}),
  reports: Object.freeze({ timeZone: 'UTC' }),
  verification: Object.freeze([]),
  dora: Object.freeze(parseDora(undefined)),
  alerts: DEFAULT_ALERTS,
  sections: Object.freeze({}),
});

/** What `shiplog serve` runs with: its settings, and the configuration file they name. */
export interface ServeConfig {
  readonly runtime: RuntimeConfig;
  readonly file: ConfigFile;
}

/**
 * Reads flags, environment and configuration file once: the file named by `--config` or
 * `SHIPLOG_CONFIG` supplies the settings that neither a flag nor a variable gives.
 */
export function loadServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const file = loadConfigFile(configFileName(flags, env));
  return { runtime: loadRuntimeConfig(flags, env, file.server), file };
}

/**
 * Reads and validates the file at `fileName`; no file name gives {@link DEFAULT_CONFIG}. A
 * file name that cannot be read is an error: a missing policy must never silently mean none.
 */
export function loadConfigFile(fileName: string | undefined): ConfigFile {
  if (fileName === undefined) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = fs.readFileSync(fileName, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ShiplogError('SHIPLOG_CONFIG', `${fileName}: cannot read the configuration file (${reason})`);
  }
  return parseConfigFile(text, fileName);
}

/** Validates the YAML `text` of a configuration file named `fileName` (for messages). */
export function parseConfigFile(text: string, fileName: string): ConfigFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((error) => {
      const pos = lineCounter.linePos(error.pos[0]);
      return `${fileName}:${pos.line}:${pos.col} (yaml): ${error.message.split('\n')[0] ?? ''}`;
    });
    throw configError(fileName, lines, []);
  }
  const source = yamlSource(doc, lineCounter, fileName);
  const root: unknown = doc.toJS() ?? {};
  if (!isRecord(root)) throw configError(fileName, [`${fileName}:1:1 $: must be a mapping of sections`], []);

  const problems: PolicyProblem[] = [];
  const sections: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(root)) {
    if (!(SECTIONS as readonly string[]).includes(key)) {
      problems.push({ path: [key], atKey: true, message: `is not a known section (${SECTIONS.join(', ')})` });
    } else if (key === 'verification') {
      continue; // a list, validated below
    } else if (value !== null && !isRecord(value)) {
      problems.push({ path: [key], message: 'must be a mapping' });
    } else if (
      !['server', 'environments', 'kubernetes', 'tickets', 'reports'].includes(key) &&
      value !== null
    ) {
      sections[key] = value as Record<string, unknown>;
    }
  }
  const server = serverSection(root.server, problems);
  const environments = root.environments ?? {};
  if (isRecord(environments)) problems.push(...validatePolicy(environments));
  problems.push(...kubernetesProblems(root.kubernetes, environments));
  if (isRecord(root.tickets)) problems.push(...validateTickets(root.tickets, environments));
  if (isRecord(root.mappings)) problems.push(...validateMappings(root.mappings));
  const outbound = isRecord(root.webhooks) ? root.webhooks.outbound : undefined;
  problems.push(...validateOutbound(outbound));
  problems.push(...validateCorrelation(root.correlation));
  problems.push(...validateServices(root.services));
  problems.push(...reportsProblems(root.reports));
  const suppression = isRecord(root.alerts) ? root.alerts.suppression : undefined;
  problems.push(...validateSuppression(suppression));
  problems.push(...validateVerification(root.verification));
  problems.push(...validateDora(root.dora));
  problems.push(...validateAlerts(root.alerts));
  problems.push(...validateRetention(root.retention));
  if (problems.length > 0) throw located(problems, source);

  const kubernetes = isRecord(root.kubernetes) ? root.kubernetes : {};
  const namespaces = isRecord(kubernetes.namespaces) ? (kubernetes.namespaces as Record<string, string>) : {};
  const repositories = isRecord(kubernetes.repositories)
    ? (kubernetes.repositories as Record<string, string[]>)
    : {};
  return deepFreeze({
    server,
    policy: parsePolicy(environments, source),
    kubernetes: {
      namespaces: { ...namespaces },
      repositories: Object.fromEntries(
        Object.entries(repositories).map(([service, list]) => [service, list.map(normalizeRepository)]),
      ),
    },
    tickets: parseTickets(root.tickets, environments),
    mappings: parseMappings(isRecord(root.mappings) ? structuredClone(root.mappings) : undefined),
    outbound: parseOutbound(outbound),
    correlation: parseCorrelation(root.correlation),
    services: parseServices(root.services),
    reports: {
      timeZone:
        isRecord(root.reports) && typeof root.reports.timeZone === 'string' ? root.reports.timeZone : 'UTC',
    },
    verification: parseVerification(root.verification),
    dora: parseDora(root.dora),
    alerts: parseAlerts(root.alerts),
    retention: parseRetention(root.retention),
    sections: structuredClone(sections),
  });
}

/** The `server:` section, each value parsed as its flag would be; problems are added to `problems`. */
function serverSection(section: unknown, problems: PolicyProblem[]): ServerFileSettings {
  if (!isRecord(section)) return {};
  const settings: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(section)) {
    const name = SERVER_FILE_KEYS[key];
    if (name === undefined) {
      const known = Object.keys(SERVER_FILE_KEYS).join(', ');
      problems.push({ path: ['server', key], atKey: true, message: `is not a known setting (${known})` });
      continue;
    }
    const parsed = parseServerFileValue(name, raw);
    if ('problem' in parsed) problems.push({ path: ['server', key], message: parsed.problem });
    else settings[name] = parsed.value;
  }
  if (typeof section.database === 'string' && /^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(section.database)) {
    problems.push({
      path: ['server', 'database'],
      message: 'must not carry a password: give the URL in SHIPLOG_DATABASE_URL instead',
    });
  }
  return settings as ServerFileSettings;
}

/** `reports: {timeZone}`: an IANA zone name. */
function reportsProblems(reports: unknown): PolicyProblem[] {
  if (!isRecord(reports)) return [];
  const problems: PolicyProblem[] = [];
  for (const key of Object.keys(reports)) {
    if (key !== 'timeZone')
      problems.push({ path: ['reports', key], atKey: true, message: 'is not a known key (timeZone)' });
  }
  const zone = reports.timeZone;
  if (zone !== undefined && (typeof zone !== 'string' || !isValidTimeZone(zone))) {
    problems.push({
      path: ['reports', 'timeZone'],
      message: 'must be an IANA time zone such as UTC or Europe/Berlin',
    });
  }
  return problems;
}

function kubernetesProblems(kubernetes: unknown, environments: unknown): PolicyProblem[] {
  if (!isRecord(kubernetes)) return [];
  const problems: PolicyProblem[] = [];
  for (const key of Object.keys(kubernetes)) {
    if (key !== 'namespaces' && key !== 'repositories')
      problems.push({ path: ['kubernetes', key], atKey: true, message: 'is not a known key' });
  }
  problems.push(...repositoryProblems(kubernetes.repositories));
  const namespaces = kubernetes.namespaces;
  if (namespaces === undefined || namespaces === null) return problems;
  if (!isRecord(namespaces)) {
    return [
      ...problems,
      { path: ['kubernetes', 'namespaces'], message: 'must map namespaces to environments' },
    ];
  }
  const nameRule = new RegExp(NAME_PATTERN);
  for (const [namespace, environment] of Object.entries(namespaces)) {
    const path = ['kubernetes', 'namespaces', namespace];
    if (typeof environment !== 'string' || !nameRule.test(environment)) {
      problems.push({ path, message: 'must be an environment name (1-63 characters of a-z 0-9 . _ -)' });
    } else if (!isRecord(environments) || environments[environment] === undefined) {
      problems.push({
        path,
        message: `names environment "${environment}", which is not configured under environments`,
      });
    }
  }
  return problems;
}

/** `kubernetes.repositories`: service name → non-empty list of image repositories, each mapped once. */
function repositoryProblems(repositories: unknown): PolicyProblem[] {
  if (repositories === undefined || repositories === null) return [];
  const base = ['kubernetes', 'repositories'];
  if (!isRecord(repositories)) {
    return [{ path: base, message: 'must map service names to lists of image repositories' }];
  }
  const problems: PolicyProblem[] = [];
  const nameRule = new RegExp(NAME_PATTERN);
  const owner = new Map<string, string>();
  for (const [service, list] of Object.entries(repositories)) {
    const path = [...base, service];
    if (!nameRule.test(service)) {
      problems.push({
        path,
        atKey: true,
        message: 'must be a service name (1-63 characters of a-z 0-9 . _ -)',
      });
    }
    if (!Array.isArray(list) || list.length === 0) {
      problems.push({ path, message: 'must be a non-empty list of image repositories (ghcr.io/acme/api)' });
      continue;
    }
    list.forEach((repository: unknown, i) => {
      const lastSegment =
        typeof repository === 'string' ? repository.slice(repository.lastIndexOf('/') + 1) : '';
      if (
        typeof repository !== 'string' ||
        !/^[a-z0-9][a-z0-9._:/-]*$/i.test(repository) ||
        lastSegment.includes(':')
      ) {
        problems.push({
          path: [...path, i],
          message: 'must be an image repository without tag or digest (ghcr.io/acme/api)',
        });
        return;
      }
      const normalized = normalizeRepository(repository);
      const other = owner.get(normalized);
      if (other !== undefined && other !== service) {
        problems.push({ path: [...path, i], message: `${normalized} is already mapped to service ${other}` });
      }
      owner.set(normalized, service);
    });
  }
  return problems;
}

function located(problems: readonly PolicyProblem[], source: PolicySource): ShiplogError {
  const sorted = problems
    .map((problem) => ({ problem, pos: source.locate(problem.path, problem.atKey) }))
    .sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
  const lines = sorted.map(({ problem, pos }) => {
    const where = pos ? `${source.fileName}:${pos.line}:${pos.col} ` : '';
    return `${where}${jsonPath(problem.path)}: ${problem.message}`;
  });
  const details = sorted.map(({ problem }, i) => ({
    path: jsonPointer(problem.path),
    message: lines[i] ?? '',
  }));
  return configError(source.fileName, lines, details);
}

function configError(
  fileName: string,
  lines: readonly string[],
  details: { path: string; message: string }[],
): ShiplogError {
  const count = lines.length === 1 ? '1 problem' : `${lines.length} problems`;
  return new ShiplogError('SHIPLOG_CONFIG', `${fileName}: ${count}:\n${lines.join('\n')}`, details);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
