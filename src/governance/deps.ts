/**
 * What the governance services need, as one bundle: the store, the policy loaded from
 * `shiplog.yaml`, the namespace mapping of the admission webhook, the ticket checker, the
 * ledger and the clock.
 */
import type { KubernetesMapping } from '../config-file.js';
import { canonicalJson } from '../ledger/jcs.js';
import type { Kind } from '../domain/event.js';
import type { DeploymentFacts, EnvironmentPolicy, Policy } from '../policy/index.js';
import type { Store, WriteTransaction } from '../store/database.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { LedgerAppender } from '../store/event-writer.js';
import type { TicketChecker } from './ticket-check.js';

export interface GovernanceDeps {
  readonly store: Store;
  readonly policy: Policy;
  readonly kubernetes: KubernetesMapping;
  /** When set, every approval and recorded gate decision is appended in its transaction. */
  readonly ledger?: LedgerAppender | undefined;
  /** `tickets:` of shiplog.yaml: confirms tickets with Jira or ServiceNow; absent: not checked. */
  readonly tickets?: TicketChecker | undefined;
  readonly now: () => number;
}

/** The policy of `environment`, undefined when it is not configured. */
export function policyOf(deps: GovernanceDeps, environment: string): EnvironmentPolicy | undefined {
  return Object.hasOwn(deps.policy.environments, environment)
    ? deps.policy.environments[environment]
    : undefined;
}

/** Environments whose gate decisions are enforced (`protected: true`). */
export function protectedEnvironments(deps: GovernanceDeps): string[] {
  return Object.entries(deps.policy.environments)
    .filter(([, env]) => env.protected === true)
    .map(([name]) => name);
}

/**
 * Appends one ledger entry (the RFC 8785 canonical JSON of `record`, which carries its
 * `recordType`) inside `trx`; returns its index, or null when no ledger is wired.
 */
export async function appendToLedger(
  deps: GovernanceDeps,
  trx: WriteTransaction,
  record: { readonly recordType: string } & Record<string, unknown>,
): Promise<number | null> {
  if (!deps.ledger) return null;
  return deps.ledger.append(trx, [canonicalJson(record)]);
}

/** The gate's view of a stored deployment; `version` is the one asked about. */
export function factsOf(row: DeploymentRow, version: string, ticket?: string): DeploymentFacts {
  const labels = row.labels ? (JSON.parse(row.labels) as Record<string, string>) : undefined;
  const chosenTicket = ticket ?? row.ticket ?? undefined;
  const justification = labels?.justification;
  return {
    service: row.service,
    environment: row.environment,
    version,
    actor: row.actor,
    kind: row.kind as Kind,
    ...(chosenTicket === undefined ? {} : { ticket: chosenTicket }),
    ...(row.commit_sha === null ? {} : { commit: row.commit_sha }),
    ...(labels === undefined ? {} : { labels }),
    ...(justification === undefined ? {} : { justification }),
  };
}

/** The bundle, from the app's store and ledger and the loaded configuration (defaults: none). */
export function createGovernance(input: {
  readonly store: Store;
  readonly ledger?: LedgerAppender | undefined;
  readonly policy?: Policy | undefined;
  readonly kubernetes?: KubernetesMapping | undefined;
  readonly tickets?: TicketChecker | undefined;
  readonly now?: (() => number) | undefined;
}): GovernanceDeps {
  return Object.freeze({
    store: input.store,
    ledger: input.ledger,
    policy: input.policy ?? { environments: {} },
    kubernetes: input.kubernetes ?? { namespaces: {} },
    tickets: input.tickets,
    now: input.now ?? Date.now,
  });
}
