/**
 * The webhook sources shiplog receives deployments from (DESIGN.md §7), and the namespaces they
 * own: a deployment key or event id that starts with `<source>:` belongs to that source. Only
 * its webhook receiver (and admins, for `shiplog sync`) may write such keys and ids, so a
 * deployer cannot pre-create `jenkins:billing-deploy:42` and turn billing's real delivery into
 * a 409, nor take the id a delivery will arrive with (docs/security.md).
 */
export const WEBHOOK_SOURCES = ['github', 'gitlab', 'jenkins', 'argocd', 'cdevents', 'generic'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

export function isWebhookSource(value: string): value is WebhookSource {
  return (WEBHOOK_SOURCES as readonly string[]).includes(value);
}

/** The webhook source whose reserved prefix `key` carries, if any. */
export function reservedSourceOf(key: string): WebhookSource | undefined {
  const colon = key.indexOf(':');
  if (colon < 0) return undefined;
  const prefix = key.slice(0, colon);
  return isWebhookSource(prefix) ? prefix : undefined;
}

/**
 * The namespace an event id is unique in: the webhook source whose prefix it carries, else the
 * sender (a token's name). Webhook deliveries and `shiplog sync` of one tool share the tool's
 * namespace, so they dedupe against each other; one token cannot take another's ids.
 */
export function idScope(id: string, sender: string): string {
  return reservedSourceOf(id) ?? sender;
}

/** Sources that sign the body with an HMAC secret; the others present a shared token. */
const SIGNING_SOURCES: ReadonlySet<string> = new Set(['github', 'pagerduty']);

/**
 * The one derivation of the environment variable holding a source's secret (DESIGN.md §7):
 * `SHIPLOG_<SOURCE>_WEBHOOK_SECRET` for the tools that sign (GitHub, PagerDuty),
 * `SHIPLOG_<SOURCE>_WEBHOOK_TOKEN` for the others.
 */
export function secretVariable(source: WebhookSource): string {
  const kind = SIGNING_SOURCES.has(source) ? 'SECRET' : 'TOKEN';
  return `SHIPLOG_${source.toUpperCase()}_WEBHOOK_${kind}`;
}
