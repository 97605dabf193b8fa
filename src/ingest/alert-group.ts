/**
 * Alert notifications in the Alertmanager webhook format (version "4"), also spoken by Grafana
 * alerting (version "1", with extra fields): one incident per alert, of kind `alert`, keyed by
 * the alert's fingerprint, resolved when the alert resolves. A grouped notification is split
 * into its alerts. https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 *
 * A fingerprint identifies a label set, not one firing episode: the same fingerprint comes
 * back each time the alert fires again, which re-triggers the incident with the new start. A
 * firing notification of an episode already resolved (a retried delivery arriving late) does
 * not re-open it: see `mergeIncident`.
 */
import type { IncidentReport, IncidentStatus } from '../domain/incident.js';
import { toSeverity } from '../domain/incident.js';
import type { AdapterOptions } from './mapping.js';
import { PayloadReader, cleanText, isRecord, jsonBody } from './payload.js';
import { type IncidentAdapterResult, incidentKey, placeOf, stringLabels, timeMs } from './incident-source.js';
import type { WebhookRequest } from './types.js';

/**
 * Alertmanager's `model.LabelSet.Fingerprint`: FNV-1a 64 over the sorted label names and
 * values, each followed by the byte 0xFF; 16 lower-case hex digits. Bodies from before
 * Alertmanager 0.19 carry no fingerprint, so it is computed.
 */
export function labelFingerprint(labels: Readonly<Record<string, string>>): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  const feed = (bytes: Uint8Array) => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * prime) & mask;
  };
  const encoder = new TextEncoder();
  const separator = new Uint8Array([0xff]);
  for (const name of Object.keys(labels).sort()) {
    feed(encoder.encode(name));
    feed(separator);
    feed(encoder.encode(labels[name] ?? ''));
    feed(separator);
  }
  return hash.toString(16).padStart(16, '0');
}

/** Reads one notification of `source` (`alertmanager` or `grafana`). */
export function adaptAlertGroup(
  source: 'alertmanager' | 'grafana',
  req: WebhookRequest,
  options: AdapterOptions = {},
): IncidentAdapterResult {
  const body = jsonBody(req);
  const p = new PayloadReader(body);
  const version = p.text(['version']);
  const expected = source === 'alertmanager' ? '4' : '1';
  if (version !== undefined && version !== expected) {
    return {
      kind: 'ignored',
      reason: `${source} webhook version ${version} is not supported (${expected} is)`,
    };
  }
  const alerts = p.value(['alerts']);
  if (!Array.isArray(alerts)) {
    p.fail(['alerts'], alerts === undefined ? 'is required' : 'must be an array of alerts');
    return p.raise();
  }
  const groupStatus = p.text(['status']);
  const common = stringLabels(p.value(['commonLabels']));
  const reports: IncidentReport[] = [];
  alerts.forEach((alert: unknown, i) => {
    if (!isRecord(alert)) {
      p.fail(['alerts', i], 'must be an object');
      return;
    }
    const labels = isRecord(alert.labels)
      ? (stringLabels(alert.labels) ?? {})
      : alert.labels === undefined
        ? common
        : undefined;
    if (labels === undefined) {
      p.fail(
        ['alerts', i, 'labels'],
        alert.labels === undefined ? 'is required' : 'must be an object of labels',
      );
      return;
    }
    const startedMs = timeMs(alert.startsAt);
    if (startedMs === undefined) {
      p.fail(
        ['alerts', i, 'startsAt'],
        alert.startsAt === undefined ? 'is required' : 'must be an RFC 3339 time',
      );
      return;
    }
    const given = p.text(['alerts', i, 'fingerprint']);
    const fingerprint =
      given !== undefined && /^[0-9a-fA-F]{1,64}$/.test(given)
        ? given.toLowerCase()
        : labelFingerprint(labels);
    const state = p.text(['alerts', i, 'status']) ?? groupStatus;
    let status: IncidentStatus;
    if (state === 'firing') status = 'triggered';
    else if (state === 'resolved') status = 'resolved';
    else {
      p.fail(['alerts', i, 'status'], 'must be firing or resolved');
      return;
    }
    const annotations = stringLabels(alert.annotations);
    const title =
      cleanText(
        annotations?.summary ?? annotations?.title ?? labels.alertname ?? `alert ${fingerprint}`,
        512,
      ) ?? `alert ${fingerprint}`;
    const url = [alert.generatorURL, alert.panelURL, alert.dashboardURL].find(
      (u): u is string => typeof u === 'string' && /^https?:\/\//.test(u) && u.length <= 2048,
    );
    const resolvedMs = status === 'resolved' ? timeMs(alert.endsAt) : undefined;
    reports.push({
      key: incidentKey(source, fingerprint),
      kind: 'alert',
      title,
      ...placeOf(options.rules, labels),
      severity: toSeverity(labels.severity ?? labels.priority),
      status,
      startedMs,
      resolvedMs,
      url,
      labels,
      source: `webhook:${source}`,
    });
  });
  p.check();
  if (reports.length === 0) return { kind: 'ignored', reason: 'the notification holds no alerts' };
  return { kind: 'incidents', incidents: reports };
}
