/** The webhook sources shiplog receives, without their adapters (cheap to import). */
export const WEBHOOK_SOURCES = ['github', 'gitlab', 'jenkins', 'argocd', 'cdevents', 'generic'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

export function isWebhookSource(value: string): value is WebhookSource {
  return (WEBHOOK_SOURCES as readonly string[]).includes(value);
}
