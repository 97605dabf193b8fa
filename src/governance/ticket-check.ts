/**
 * The optional ticket check of the gate: asks Jira (`GET /rest/api/2/issue/{key}?fields=status`)
 * or ServiceNow (`GET /api/now/table/change_request?sysparm_query=number=...`) whether the
 * ticket exists and is in an allowed state. It fails closed: when the provider cannot be asked
 * (timeout, network error, 401/403, 5xx, an answer it cannot read) the verdict is
 * `ticket_unverified` and the gate denies; only an admin override gets a deploy through then.
 * Positive answers are cached briefly per ticket, and concurrent checks of one ticket share one
 * request, so a burst of gate calls asks the provider once.
 */
import type { GateReason } from '../policy/index.js';
import { DEFAULT_OUTBOUND_MAX_BYTES } from '../config.js';
import { OutboundError, callOut } from '../outbound/http-client.js';
import type { TicketCheckConfig } from './ticket-config.js';

/** How long a positive answer is reused. */
const TICKET_CACHE_MS = 60_000;
const CACHE_LIMIT = 1000;

export type TicketVerdict =
  { readonly ok: true; readonly state: string } | { readonly ok: false; readonly reason: GateReason };

export interface TicketChecker {
  /** True when gate decisions in `environment` verify the ticket. */
  covers(environment: string): boolean;
  /** Never throws and never waits longer than the configured timeout (plus a little). */
  check(ticket: string): Promise<TicketVerdict>;
}

interface TicketCheckerOptions {
  /** The bearer token, read from the variable the config names (src/config.ts). */
  readonly token?: string | undefined;
  /** Largest answer read (RuntimeConfig.outboundMaxBytes); default 4 MiB. */
  readonly maxBytes?: number;
  readonly now?: () => number;
}

const PROVIDER_NAMES = { jira: 'Jira', servicenow: 'ServiceNow' } as const;

/** A checker for the `tickets:` section of shiplog.yaml. */
export function createTicketChecker(
  config: TicketCheckConfig,
  options: TicketCheckerOptions = {},
): TicketChecker {
  const now = options.now ?? Date.now;
  const maxBytes = options.maxBytes ?? DEFAULT_OUTBOUND_MAX_BYTES;
  const provider = PROVIDER_NAMES[config.provider];
  const environments = new Set(config.environments);
  /** Ticket → its allowed state and until when that answer is reused (epoch ms). */
  const verified = new Map<string, { readonly state: string; readonly until: number }>();
  const inFlight = new Map<string, Promise<TicketVerdict>>();

  function remember(ticket: string, verdict: TicketVerdict): void {
    if (!verdict.ok) return;
    if (verified.size >= CACHE_LIMIT) {
      for (const [key, entry] of verified) if (entry.until <= now()) verified.delete(key);
      if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value as string);
    }
    verified.set(ticket, { state: verdict.state, until: now() + TICKET_CACHE_MS });
  }

  async function ask(ticket: string): Promise<TicketVerdict> {
    const unverified = (why: string): TicketVerdict => ({
      ok: false,
      reason: {
        code: 'ticket_unverified',
        message: `could not verify ticket ${ticket} with ${provider}: ${why}; the gate denies until it can`,
      },
    });
    let body: unknown;
    try {
      const response = await callOut(requestUrl(config, ticket), {
        headers: {
          accept: 'application/json',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
        timeoutMs: config.timeoutMs,
        maxBytes,
      });
      if (response.status !== 200) {
        if (response.status === 404) return notFound(ticket, provider);
        if (response.status === 401 || response.status === 403) {
          return unverified(`${provider} refused shiplog's token (HTTP ${response.status})`);
        }
        return unverified(`${provider} answered HTTP ${response.status}`);
      }
      body = JSON.parse(response.body.toString('utf8')) as unknown;
    } catch (error) {
      if (error instanceof SyntaxError)
        return unverified(`${provider} answered with something other than JSON`);
      if (error instanceof OutboundError) {
        if (error.kind === 'timeout') return unverified(`no answer within ${config.timeoutMs} ms`);
        if (error.kind === 'too_large') return unverified(`${provider} ${error.message}`);
        return unverified(`cannot reach ${provider} (${error.message})`);
      }
      return unverified(
        `cannot reach ${provider} (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const state = config.provider === 'jira' ? jiraState(body) : serviceNowState(body);
    if (state === null) return notFound(ticket, provider);
    if (state === undefined) return unverified(`${provider} answered in a shape shiplog does not know`);
    if (!config.allowedStates.includes(state)) {
      const allowed = config.allowedStates.map((s) => `"${s}"`).join(', ');
      return {
        ok: false,
        reason: {
          code: 'ticket_state',
          message: `ticket ${ticket} is "${state}" in ${provider}; deploys need one of ${allowed}`,
        },
      };
    }
    return { ok: true, state };
  }

  return {
    covers: (environment) => environments.has(environment),
    async check(ticket) {
      const known = verified.get(ticket);
      if (known !== undefined && known.until > now()) return { ok: true, state: known.state };
      let pending = inFlight.get(ticket);
      if (!pending) {
        pending = ask(ticket).then(function settle(verdict) {
          inFlight.delete(ticket);
          remember(ticket, verdict);
          return verdict;
        });
        inFlight.set(ticket, pending);
      }
      return pending;
    },
  };
}

function requestUrl(config: TicketCheckConfig, ticket: string): string {
  if (config.provider === 'jira') {
    return `${config.url}/rest/api/2/issue/${encodeURIComponent(ticket)}?fields=status`;
  }
  // In an encoded query `^` separates conditions; `^^` is a literal caret.
  const query = new URLSearchParams({
    sysparm_query: `number=${ticket.replaceAll('^', '^^')}`,
    sysparm_fields: 'number,state,sys_id',
    sysparm_limit: '1',
  });
  return `${config.url}/api/now/table/change_request?${query.toString()}`;
}

function notFound(ticket: string, provider: string): TicketVerdict {
  return {
    ok: false,
    reason: { code: 'ticket_not_found', message: `ticket ${ticket} does not exist in ${provider}` },
  };
}

/** `{key, fields: {status: {name}}}` to the status name; undefined when the shape is unknown. */
function jiraState(body: unknown): string | undefined {
  const status = field(field(field(body, 'fields'), 'status'), 'name');
  return typeof status === 'string' ? status : undefined;
}

/**
 * `{result: [{number, state, sys_id}]}` to the state (a display value or a number, compared as
 * a string); null when the result is empty, undefined when the shape is unknown.
 */
function serviceNowState(body: unknown): string | null | undefined {
  const result = field(body, 'result');
  if (!Array.isArray(result)) return undefined;
  if (result.length === 0) return null;
  const state = field(result[0], 'state');
  return typeof state === 'string' || typeof state === 'number' ? String(state) : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
