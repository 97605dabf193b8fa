/**
 * The webhook sources shiplog receives, without their adapters (cheap to import), and the one
 * derivation of the environment variable that holds each source's secret (DESIGN.md §7).
 */
export const WEBHOOK_SOURCES = ['github', 'gitlab', 'jenkins', 'argocd', 'cdevents', 'generic'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

export function isWebhookSource(value: string): value is WebhookSource {
  return (WEBHOOK_SOURCES as readonly string[]).includes(value);
}

/** Sources that sign the body with an HMAC secret; the others present a shared token. */
const SIGNING_SOURCES: ReadonlySet<string> = new Set(['github', 'pagerduty']);

/**
 * The environment variable holding a source's secret: `SHIPLOG_<SOURCE>_WEBHOOK_SECRET` for the
 * tools that sign (GitHub, PagerDuty), `SHIPLOG_<SOURCE>_WEBHOOK_TOKEN` for the others.
 */
export function secretVariable(source: WebhookSource): string {
  const kind = SIGNING_SOURCES.has(source) ? 'SECRET' : 'TOKEN';
  return `SHIPLOG_${source.toUpperCase()}_WEBHOOK_${kind}`;
}
