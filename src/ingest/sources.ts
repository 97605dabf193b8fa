/**
 * The webhook sources shiplog receives (DESIGN.md §7): for each one, how a delivery is
 * authenticated and which adapter reads it. Pure: the HTTP layer hands over the request and
 * the secret, and stores what comes back.
 */
import { adaptArgocd } from './argocd.js';
import { adaptCdevents } from './cdevents.js';
import { adaptGeneric, type GenericMapping } from './generic.js';
import type { IncidentMapping } from './generic-incident.js';
import { adaptGithub } from './github.js';
import { adaptGitlab } from './gitlab.js';
import { adaptJenkins } from './jenkins.js';
import type { IncidentSource } from './incident-source.js';
import type { MappingRules } from './mapping.js';
import { header } from './payload.js';
import { verifyGithubSignature, verifySharedToken } from './signature.js';
import type { AdapterResult, WebhookRequest } from './types.js';

import { WEBHOOK_SOURCES, isWebhookSource, secretVariable, type WebhookSource } from '../domain/sources.js';

export { WEBHOOK_SOURCES, isWebhookSource, secretVariable, type WebhookSource };

/** The `mappings:` section of shiplog.yaml: rules per source, and the generic field mapping. */
export interface IngestMappings {
  readonly rules?: Readonly<Partial<Record<WebhookSource | IncidentSource, MappingRules>>>;
  readonly generic?: GenericMapping;
  /** The generic incident receiver's field mapping (`mappings.incident`). */
  readonly incident?: IncidentMapping;
}

/** Headers that carry secrets: never stored, never shown. */
export const SECRET_HEADERS = new Set([
  'authorization',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitlab-token',
  'x-pagerduty-signature',
  'webhook-signature',
  'cookie',
  'proxy-authorization',
]);

/**
 * A shared secret as `Authorization: Bearer <secret>`, or as the password of HTTP Basic auth
 * (the Jenkins Notification plugin and Argo CD can only send `user:secret@` in the URL).
 */
export function presentedToken(req: WebhookRequest): string | undefined {
  const auth = header(req, 'authorization');
  if (auth === undefined) return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Whether the delivery carries the source's signature or token (constant-time checks). */
export function authenticateWebhook(source: WebhookSource, req: WebhookRequest, secret: string): boolean {
  switch (source) {
    case 'github':
      return verifyGithubSignature(req.rawBody, header(req, 'x-hub-signature-256'), secret);
    case 'gitlab':
      return verifySharedToken(header(req, 'x-gitlab-token'), secret);
    default:
      return verifySharedToken(presentedToken(req), secret);
  }
}

/** Runs the source's adapter with the configured mapping rules. */
export function adaptWebhook(
  source: WebhookSource,
  req: WebhookRequest,
  mappings: IngestMappings = {},
): AdapterResult {
  const rules = mappings.rules?.[source];
  const options = rules === undefined ? {} : { rules };
  switch (source) {
    case 'github':
      return adaptGithub(req, options);
    case 'gitlab':
      return adaptGitlab(req, options);
    case 'jenkins':
      return adaptJenkins(req, options);
    case 'argocd':
      return adaptArgocd(req, options);
    case 'cdevents':
      return adaptCdevents(req, options);
    case 'generic':
      if (mappings.generic === undefined) {
        return {
          kind: 'ignored',
          reason: 'no generic mapping is configured: add mappings.generic to shiplog.yaml',
        };
      }
      return adaptGeneric(req, mappings.generic, options);
  }
}
