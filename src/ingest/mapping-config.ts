/**
 * The `mappings:` section of shiplog.yaml: per-source rules (repository → service, stage / job /
 * branch → environment, cluster → region) and the generic adapter's field selectors.
 *
 * ```yaml
 * mappings:
 *   github:
 *     services: [{ match: 'octo-org/*-api', service: api }]
 *     environments: [{ match: '/^prod(uction)?$/i', environment: production }]
 *   generic:
 *     source: acme-deployer
 *     fields: { type: status, deployment: run.id, service: app, environment: '=production' }
 *     typeMap: { ok: deployment.succeeded }
 * ```
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { EVENT_TYPES, NAME_PATTERN } from '../domain/event.js';
import { patternProblem } from '../domain/pattern.js';
import type { GenericMapping } from './generic.js';
import type { IncidentMapping } from './generic-incident.js';
import { INCIDENT_SEVERITIES, INCIDENT_STATUSES } from '../domain/incident.js';
import { INCIDENT_SOURCES, type IncidentSource } from './incident-source.js';
import type { MappingRules } from './mapping.js';
import { WEBHOOK_SOURCES, type IngestMappings, type WebhookSource } from './sources.js';

const Name = (description: string) => Type.String({ pattern: NAME_PATTERN, description });
const Match = Type.String({
  minLength: 1,
  description: 'An exact name, a glob (* and ?), or a regular expression written /.../flags',
});

const RULE_KEYS = {
  services: Type.Array(
    Type.Object({ match: Match, service: Name('The shiplog service') }, { additionalProperties: false }),
  ),
  environments: Type.Array(
    Type.Object(
      { match: Match, environment: Name('The shiplog environment') },
      { additionalProperties: false },
    ),
  ),
  regions: Type.Array(
    Type.Object({ match: Match, region: Name('The region') }, { additionalProperties: false }),
  ),
};

const RulesSchema = Type.Object(
  {
    services: Type.Optional(RULE_KEYS.services),
    environments: Type.Optional(RULE_KEYS.environments),
    regions: Type.Optional(RULE_KEYS.regions),
  },
  { additionalProperties: false },
);

const Selector = Type.String({ minLength: 1, description: 'A JSON pointer, a dotted path, or =constant' });

const GenericSchema = Type.Object(
  {
    source: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' })),
    fields: Type.Object(
      {
        type: Selector,
        deployment: Selector,
        service: Selector,
        environment: Selector,
        version: Type.Optional(Selector),
        commit: Type.Optional(Selector),
        time: Type.Optional(Selector),
        actor: Type.Optional(Selector),
        region: Type.Optional(Selector),
        ticket: Type.Optional(Selector),
        id: Type.Optional(Selector),
        buildId: Type.Optional(Selector),
        buildUrl: Type.Optional(Selector),
      },
      { additionalProperties: false },
    ),
    typeMap: Type.Optional(Type.Record(Type.String(), Type.Enum([...EVENT_TYPES]))),
    services: Type.Optional(RULE_KEYS.services),
    environments: Type.Optional(RULE_KEYS.environments),
    regions: Type.Optional(RULE_KEYS.regions),
  },
  { additionalProperties: false },
);

const IncidentSchema = Type.Object(
  {
    source: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' })),
    fields: Type.Object(
      {
        key: Selector,
        title: Selector,
        service: Selector,
        environment: Type.Optional(Selector),
        region: Type.Optional(Selector),
        severity: Type.Optional(Selector),
        status: Type.Optional(Selector),
        startedAt: Type.Optional(Selector),
        resolvedAt: Type.Optional(Selector),
        url: Type.Optional(Selector),
        ticket: Type.Optional(Selector),
        causedBy: Type.Optional(Selector),
      },
      { additionalProperties: false },
    ),
    statusMap: Type.Optional(Type.Record(Type.String(), Type.Enum([...INCIDENT_STATUSES]))),
    severityMap: Type.Optional(Type.Record(Type.String(), Type.Enum([...INCIDENT_SEVERITIES]))),
    services: Type.Optional(RULE_KEYS.services),
    environments: Type.Optional(RULE_KEYS.environments),
    regions: Type.Optional(RULE_KEYS.regions),
  },
  { additionalProperties: false },
);

const MappingsSchema = Type.Object(
  {
    github: Type.Optional(RulesSchema),
    gitlab: Type.Optional(RulesSchema),
    jenkins: Type.Optional(RulesSchema),
    argocd: Type.Optional(RulesSchema),
    cdevents: Type.Optional(RulesSchema),
    pagerduty: Type.Optional(RulesSchema),
    opsgenie: Type.Optional(RulesSchema),
    alertmanager: Type.Optional(RulesSchema),
    grafana: Type.Optional(RulesSchema),
    jira: Type.Optional(RulesSchema),
    generic: Type.Optional(GenericSchema),
    incident: Type.Optional(IncidentSchema),
  },
  { additionalProperties: false },
);

const check = Compile(MappingsSchema);

/** One problem in the section, as a path from the top of the file. */
export interface MappingProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly atKey?: boolean;
}

function segments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Problems of a `mappings:` section (empty when it is valid). */
export function validateMappings(section: unknown): MappingProblem[] {
  const base = ['mappings'];
  if (section === undefined || section === null) return [];
  const problems: MappingProblem[] = [];
  for (const error of check.Errors(section)) {
    const params = (error as { params?: Record<string, unknown> }).params ?? {};
    const extra = params.additionalProperties ?? params.additionalProperty;
    const path = [...base, ...segments(error.instancePath)];
    if (error.keyword === 'additionalProperties' && Array.isArray(extra)) {
      for (const key of extra as string[]) {
        const known =
          path.length === 1 ? ` (known: ${[...WEBHOOK_SOURCES, ...INCIDENT_SOURCES].join(', ')})` : '';
        problems.push({ path: [...path, key], atKey: true, message: `is not a known key${known}` });
      }
    } else if (error.keyword === 'required' && Array.isArray(params.requiredProperties)) {
      for (const key of params.requiredProperties as string[])
        problems.push({ path: [...path, key], message: 'is required' });
    } else if (error.keyword === 'pattern') {
      problems.push({
        path,
        message: 'must be 1-63 characters of a-z 0-9 . _ - (lower case), starting alphanumeric',
      });
    } else {
      problems.push({ path, message: error.message });
    }
  }
  if (problems.length === 0 && typeof section === 'object') {
    for (const [source, rules] of Object.entries(section as Record<string, Record<string, unknown>>)) {
      for (const key of ['services', 'environments', 'regions']) {
        const list = rules[key];
        if (!Array.isArray(list)) continue;
        list.forEach((rule: { match: string }, i) => {
          const literal = /^\/(.+)\/([a-z]*)$/s.exec(rule.match);
          if (!literal) return;
          const problem = patternProblem(literal[1] ?? '', literal[2] ?? '');
          if (problem !== undefined) {
            problems.push({
              path: [...base, source, key, i, 'match'],
              message: `is not a valid regular expression: ${problem}`,
            });
          }
        });
      }
    }
  }
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${JSON.stringify(p.path)} ${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A valid `mappings:` section as the adapters take it. Call {@link validateMappings} first. */
export function parseMappings(section: unknown): IngestMappings {
  if (section === undefined || section === null) return {};
  const value = section as Static<typeof MappingsSchema>;
  const rules: Partial<Record<WebhookSource | IncidentSource, MappingRules>> = {};
  for (const source of [...WEBHOOK_SOURCES, ...INCIDENT_SOURCES]) {
    const entry = value[source];
    if (entry === undefined) continue;
    const { services, environments, regions } = entry;
    rules[source] = {
      ...(services && { services }),
      ...(environments && { environments }),
      ...(regions && { regions }),
    };
  }
  const generic = value.generic;
  const mapping: GenericMapping | undefined = generic && {
    ...(generic.source !== undefined && { source: generic.source }),
    fields: generic.fields,
    ...(generic.typeMap !== undefined && { typeMap: generic.typeMap }),
  };
  const incident = value.incident;
  const incidentMapping: IncidentMapping | undefined = incident && {
    ...(incident.source !== undefined && { source: incident.source }),
    fields: incident.fields,
    ...(incident.statusMap !== undefined && { statusMap: incident.statusMap }),
    ...(incident.severityMap !== undefined && { severityMap: incident.severityMap }),
  };
  return {
    rules,
    ...(mapping && { generic: mapping }),
    ...(incidentMapping && { incident: incidentMapping }),
  };
}
