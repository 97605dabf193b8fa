/**
 * What each receiver is sent, as pure functions of the alerts (the request), so tests can check
 * the documented shapes and the notifier only does I/O:
 *
 * - PagerDuty Events API v2 (developer.pagerduty.com/docs/events-api-v2/trigger-events):
 *   `POST /v2/enqueue` with `routing_key`, `event_action` `trigger` | `resolve`, `dedup_key`
 *   (the alert's id: stable, so a repeat or a resolve names the same PagerDuty alert) and, for
 *   a trigger, `payload` {summary, source, severity, timestamp, component, group, class,
 *   custom_details}.
 * - Opsgenie Alert API (docs.opsgenie.com/docs/alert-api): `POST /v2/alerts` with
 *   `Authorization: GenieKey <key>`, {message, alias, description, priority, tags, details,
 *   source, entity}; close: `POST /v2/alerts/<alias>/close?identifierType=alias`.
 * - Slack incoming webhook (api.slack.com/messaging/webhooks): {text, blocks}.
 * - Generic webhook: an Alertmanager-like JSON body, signed (see {@link signWebhook}).
 */
import { createHmac } from 'node:crypto';
import type { AlertSeverity, ReceiverConfig } from './alerts-config.js';

/** An alert as receivers see it. */
export interface AlertMessage {
  readonly id: string;
  readonly status: 'firing' | 'acknowledged' | 'resolved';
  readonly rule: string;
  readonly kind: string;
  readonly severity: AlertSeverity;
  readonly summary: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly resolvedAt: string | null;
  readonly acknowledgedAt?: string | null;
  readonly acknowledgedBy?: string | null;
}

export interface PreparedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Secrets of a receiver, read from the variables its config names. */
export interface ReceiverSecrets {
  readonly routingKey?: string | undefined;
  readonly url?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly secret?: string | undefined;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** What a per-alert receiver is told: a new or repeated alert, that someone took it, that it is over. */
export type AlertAction = 'trigger' | 'acknowledge' | 'resolve';

export function pagerdutyRequest(
  url: string,
  routingKey: string,
  alert: AlertMessage,
  action: AlertAction,
): PreparedRequest {
  const base = { routing_key: routingKey, event_action: action, dedup_key: alert.id };
  const body =
    action !== 'trigger'
      ? base
      : {
          ...base,
          payload: {
            summary: alert.summary.slice(0, 1024),
            source: `shiplog/${alert.labels.service ?? alert.labels.environment ?? 'shiplog'}`,
            severity: alert.severity,
            timestamp: alert.startsAt,
            component: alert.labels.service,
            group: alert.labels.environment,
            class: alert.kind,
            custom_details: { ...alert.labels, alertId: alert.id },
          },
          client: 'shiplog',
        };
  return { url, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

const PRIORITY: Readonly<Record<AlertSeverity, string>> = {
  critical: 'P1',
  error: 'P2',
  warning: 'P3',
  info: 'P5',
};

export function opsgenieRequest(
  baseUrl: string,
  apiKey: string,
  alert: AlertMessage,
  action: AlertAction,
): PreparedRequest {
  const headers = { ...JSON_HEADERS, authorization: `GenieKey ${apiKey}` };
  const root = baseUrl.replace(/\/+$/, '');
  if (action === 'resolve') {
    return {
      url: `${root}/v2/alerts/${encodeURIComponent(alert.id)}/close?identifierType=alias`,
      headers,
      body: JSON.stringify({ source: 'shiplog', note: `Resolved at ${alert.resolvedAt ?? ''}` }),
    };
  }
  if (action === 'acknowledge') {
    return {
      url: `${root}/v2/alerts/${encodeURIComponent(alert.id)}/acknowledge?identifierType=alias`,
      headers,
      body: JSON.stringify({
        source: 'shiplog',
        user: alert.acknowledgedBy ?? undefined,
        note: `Acknowledged in shiplog at ${alert.acknowledgedAt ?? ''}`,
      }),
    };
  }
  return {
    url: `${root}/v2/alerts`,
    headers,
    body: JSON.stringify({
      message: alert.summary.slice(0, 130),
      alias: alert.id,
      description: alert.summary.slice(0, 15000),
      priority: PRIORITY[alert.severity],
      tags: [alert.rule, alert.kind, ...(alert.labels.environment ? [alert.labels.environment] : [])],
      details: { ...alert.labels },
      entity: alert.labels.service ?? alert.labels.environment ?? '',
      source: 'shiplog',
    }),
  };
}

const EMOJI: Readonly<Record<string, string>> = {
  critical: ':rotating_light:',
  error: ':red_circle:',
  warning: ':warning:',
  info: ':information_source:',
};

/** One Slack message for a group's alerts: a header, then one section per alert. */
export function slackRequest(url: string, alerts: readonly AlertMessage[]): PreparedRequest {
  const firing = alerts.filter((a) => a.status !== 'resolved');
  const resolved = alerts.filter((a) => a.status === 'resolved');
  const title =
    firing.length > 0
      ? `[FIRING:${firing.length}] ${firing[0]?.rule ?? ''}${resolved.length > 0 ? ` (+${resolved.length} resolved)` : ''}`
      : `[RESOLVED:${resolved.length}] ${resolved[0]?.rule ?? ''}`;
  const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } }];
  for (const alert of alerts.slice(0, 45)) {
    const mark = alert.status === 'resolved' ? ':white_check_mark:' : (EMOJI[alert.severity] ?? '');
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${mark} *${alert.severity}* ${escapeSlack(alert.summary)}`.slice(0, 3000),
      },
    });
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `alert \`${alert.id}\` · ${alert.status} · since ${alert.startsAt}${
            alert.status === 'firing' ? ` · ack: \`shiplog alerts --ack ${alert.id}\`` : ''
          }`,
        },
      ],
    });
  }
  return { url, headers: JSON_HEADERS, body: JSON.stringify({ text: title, blocks }) };
}

function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * The generic webhook: `X-Shiplog-Timestamp: <unix seconds>` and
 * `X-Shiplog-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (docs/alerts.md
 * says how to verify).
 */
export function webhookRequest(
  url: string,
  secret: string | undefined,
  receiver: string,
  groupLabels: Readonly<Record<string, string>>,
  alerts: readonly AlertMessage[],
  nowMs: number,
): PreparedRequest {
  const body = JSON.stringify({
    version: '1',
    receiver,
    status: alerts.some((a) => a.status !== 'resolved') ? 'firing' : 'resolved',
    groupLabels,
    alerts,
  });
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (secret !== undefined) {
    const timestamp = String(Math.floor(nowMs / 1000));
    headers['x-shiplog-timestamp'] = timestamp;
    headers['x-shiplog-signature'] = signWebhook(secret, timestamp, body);
  }
  return { url, headers, body };
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Receivers that take one request per alert (and can resolve it by its key). */
export function perAlert(config: ReceiverConfig): boolean {
  return config.type === 'pagerduty' || config.type === 'opsgenie';
}
