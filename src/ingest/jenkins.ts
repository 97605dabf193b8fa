/**
 * Jenkins Notification plugin (jenkinsci/notification-plugin, JSON format) → deployment events.
 * Jenkins knows jobs, not environments: the environment comes from a build parameter
 * (`ENVIRONMENT`, `DEPLOY_ENV`, ...) or from the config's mapping rules; a build with neither is
 * ignored with a reason that says what to set.
 */
import type { EventInput, EventType } from '../domain/event.js';
import {
  type AdapterOptions,
  resolveEnvironment,
  resolveRegion,
  resolveService,
  resolveVersion,
  shortName,
} from './mapping.js';
import {
  PayloadReader,
  buildOf,
  cleanText,
  deploymentKey,
  eventId,
  finalizeEvent,
  isRecord,
  jsonBody,
  asText,
} from './payload.js';
import { fromEpochMs } from './time.js';
import type { AdapterResult, WebhookRequest } from './types.js';

/** Build parameters read, in order of preference (names compared case-insensitively). */
const JENKINS_PARAMETERS = {
  environment: ['ENVIRONMENT', 'DEPLOY_ENV', 'DEPLOY_ENVIRONMENT', 'TARGET_ENV', 'ENV'],
  service: ['SERVICE', 'SHIPLOG_SERVICE'],
  version: ['VERSION', 'RELEASE_VERSION', 'TAG'],
  region: ['REGION', 'DEPLOY_REGION'],
  actor: ['BUILD_USER_ID', 'BUILD_USER'],
  ticket: ['TICKET', 'CHANGE_TICKET'],
} as const;

const RESULT_TYPES: Readonly<Record<string, EventType>> = {
  SUCCESS: 'deployment.succeeded',
  FAILURE: 'deployment.failed',
  UNSTABLE: 'deployment.failed',
  ABORTED: 'deployment.canceled',
  NOT_BUILT: 'deployment.canceled',
};

/** Maps one Notification plugin delivery to events. */
export function adaptJenkins(req: WebhookRequest, options: AdapterOptions = {}): AdapterResult {
  const p = new PayloadReader(jsonBody(req));
  const job = p.requireText(['name']);
  p.requireObject(['build']);
  const number = p.requireText(['build', 'number']);
  const phase = p.requireText(['build', 'phase']).toUpperCase();
  p.check();

  const status = p.text(['build', 'status'])?.toUpperCase();
  let type: EventType | undefined;
  if (phase === 'QUEUED') type = 'deployment.requested';
  else if (phase === 'STARTED') type = 'deployment.started';
  else if (phase === 'COMPLETED' || phase === 'FINALIZED') {
    if (status === undefined)
      return { kind: 'ignored', reason: `Jenkins ${phase} notification without build.status` };
    type = RESULT_TYPES[status];
    if (type === undefined)
      return { kind: 'ignored', reason: `Jenkins build status "${cleanText(status, 40)}" is not known` };
  } else {
    return {
      kind: 'ignored',
      reason: `Jenkins phase "${cleanText(phase, 40)}" is not a lifecycle transition`,
    };
  }

  const params = parameters(p.value(['build', 'parameters']));
  const branch = p.text(['build', 'scm', 'branch']);
  const toolEnvironment = params.get('environment');
  const environment = resolveEnvironment(options.rules, [toolEnvironment, job, branch], toolEnvironment);
  if (environment === undefined) {
    const names = JENKINS_PARAMETERS.environment.slice(0, 2).join(' or ');
    return {
      kind: 'ignored',
      reason: `no environment for Jenkins job "${cleanText(job, 100)}": add a build parameter ${names}, or an environments mapping rule matching the job name`,
    };
  }
  const fullJob =
    p
      .text(['url'])
      ?.replace(/^\/?job\//, '')
      .replaceAll('/job/', '/')
      .replace(/\/$/, '') ?? job;
  const scmUrl = p.text(['build', 'scm', 'url']);
  const service = resolveService(
    options.rules,
    [params.get('service'), scmUrl, fullJob, job],
    params.get('service') ?? shortName(scmUrl) ?? shortName(job),
  );
  if (service === undefined) {
    p.fail(['name'], 'does not give a usable service name');
    return p.raise();
  }
  const commit = p.text(['build', 'scm', 'commit']);
  const key = deploymentKey('jenkins', fullJob, number);
  const regionParam = params.get('region');
  const out: EventInput = {
    // COMPLETED and FINALIZED report the same outcome: one id, so the second is a duplicate.
    id: eventId(`${key}:${type}`),
    type,
    deployment: key,
    service,
    environment,
    version: cleanText(params.get('version') ?? resolveVersion([branch], commit)),
    commit: cleanText(commit),
    actor: cleanText(params.get('actor')),
    region: resolveRegion(options.rules, [regionParam], regionParam),
    ticket: cleanText(params.get('ticket')),
    build: buildOf(number, p.text(['build', 'full_url']), 'jenkins'),
  };
  const time = phaseTime(p, phase);
  if (time !== undefined) out.time = time;
  return { kind: 'events', events: [finalizeEvent(out)] };
}

/**
 * Jenkins sends no time per phase. Newer plugin versions send `build.timestamp` (start, epoch
 * ms) and `build.duration` (ms, once finished): STARTED/QUEUED use the timestamp, COMPLETED and
 * FINALIZED the timestamp plus the duration. Without them (the wiki example), no time is set
 * and the server stamps the time of receipt, which the plugin sends right at the transition.
 */
function phaseTime(p: PayloadReader, phase: string): string | undefined {
  const start = p.value(['build', 'timestamp']);
  if (typeof start !== 'number') return undefined;
  const duration = p.value(['build', 'duration']);
  const finished = phase === 'COMPLETED' || phase === 'FINALIZED';
  return fromEpochMs(finished && typeof duration === 'number' && duration > 0 ? start + duration : start);
}

/** Build parameters (a name → value object; a list of `{name, value}` is accepted too). */
function parameters(value: unknown): Map<keyof typeof JENKINS_PARAMETERS, string> {
  const given = new Map<string, string>();
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      const text = asText(v);
      if (text !== undefined) given.set(k.toUpperCase(), text);
    }
  } else if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      const name = isRecord(item) ? asText(item.name) : undefined;
      const text = isRecord(item) ? asText(item.value) : undefined;
      if (name !== undefined && text !== undefined) given.set(name.toUpperCase(), text);
    }
  }
  const out = new Map<keyof typeof JENKINS_PARAMETERS, string>();
  for (const [field, names] of Object.entries(JENKINS_PARAMETERS) as [
    keyof typeof JENKINS_PARAMETERS,
    readonly string[],
  ][]) {
    const found = names.map((n) => given.get(n)).find((v) => v !== undefined);
    if (found !== undefined) out.set(field, found);
  }
  return out;
}
