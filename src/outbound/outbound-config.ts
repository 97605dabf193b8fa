/**
 * `webhooks.outbound:` of shiplog.yaml: where shiplog tells what it records. CDEvents sinks get
 * every event; PagerDuty (change events) and Grafana (annotations) get each deployment's final
 * state. Tokens are named by environment variable, never written in the file (DESIGN.md §5).
 *
 * ```yaml
 * webhooks:
 *   outbound:
 *     - name: tekton
 *       url: https://events.example.com/cdevents
 *       tokenVariable: SHIPLOG_TEKTON_SINK_TOKEN
 *     - name: pagerduty-changes
 *       format: pagerduty
 *       url: https://events.pagerduty.com/v2/change/enqueue
 *       tokenVariable: SHIPLOG_PAGERDUTY_CHANGE_ROUTING_KEY   # the integration's routing key
 *       environments: [production]
 *     - name: grafana
 *       format: grafana
 *       url: https://grafana.example.com/api/annotations
 *       tokenVariable: SHIPLOG_GRAFANA_TOKEN                   # a service account token
 * ```
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const FORMATS = ['cdevents', 'pagerduty', 'grafana'] as const;

const SinkSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }),
    url: Type.String({ pattern: '^https?://' }),
    tokenVariable: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
    format: Type.Optional(Type.Enum(FORMATS)),
    environments: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    dashboardUid: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
const OutboundSchema = Type.Array(SinkSchema);
const check = Compile(OutboundSchema);

export type OutboundSinkConfig = Static<typeof SinkSchema>;

/** Problems of `webhooks.outbound` as (path, message), paths from the top of the file. */
export function validateOutbound(value: unknown): { path: (string | number)[]; message: string }[] {
  if (value === undefined || value === null) return [];
  const base = ['webhooks', 'outbound'];
  const problems = [...check.Errors(value)].map((error) => ({
    path: [
      ...base,
      ...error.instancePath
        .split('/')
        .slice(1)
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
    ],
    message:
      error.keyword === 'enum' && error.instancePath.endsWith('/format')
        ? `must be one of ${FORMATS.join(', ')}`
        : error.keyword === 'pattern'
          ? `must match ${String((error as { params?: { pattern?: string } }).params?.pattern ?? 'the pattern')}`
          : error.message,
  }));
  if (problems.length === 0) {
    const seen = new Set<string>();
    (value as OutboundSinkConfig[]).forEach((sink, i) => {
      if (seen.has(sink.name))
        problems.push({ path: [...base, i, 'name'], message: 'is used by another sink' });
      seen.add(sink.name);
      if (sink.format === 'pagerduty' && sink.tokenVariable === undefined)
        problems.push({
          path: [...base, i, 'tokenVariable'],
          message: 'is required for format pagerduty: the variable holding the integration routing key',
        });
      if (sink.dashboardUid !== undefined && sink.format !== 'grafana')
        problems.push({ path: [...base, i, 'dashboardUid'], message: 'applies only to format grafana' });
    });
  }
  return problems;
}

/** A valid `webhooks.outbound` (call {@link validateOutbound} first). */
export function parseOutbound(value: unknown): OutboundSinkConfig[] {
  return Array.isArray(value) ? (structuredClone(value) as OutboundSinkConfig[]) : [];
}
