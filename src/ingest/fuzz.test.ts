/**
 * Property-style robustness test: every adapter, on every fixture mutated one field at a time
 * (removed, replaced by a value of another type) and on truncated raw JSON, returns a result
 * or throws AdapterInputError, never anything else; every event it produces is valid.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../domain/event.js';
import { ARGOCD_TEMPLATE_MARKER, adaptArgocd } from './argocd.js';
import { adaptCdevents } from './cdevents.js';
import { adaptGeneric } from './generic.js';
import { adaptGithub } from './github.js';
import { adaptGitlab } from './gitlab.js';
import { adaptJenkins } from './jenkins.js';
import { AdapterInputError, type AdapterResult, type WebhookRequest } from './types.js';

const fixtures = new URL('../../../shared/fixtures/', import.meta.url);
type Adapter = (req: WebhookRequest) => AdapterResult;

interface Case {
  name: string;
  adapter: Adapter;
  headers: Record<string, string>;
  raw: Buffer;
}

const WRONG: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  '',
  ' ',
  'x',
  'Ω \u0000\u001f/..',
  '9'.repeat(300),
  true,
  [],
  [1, 'a'],
  {},
  { id: 1 },
  'x'.repeat(5000),
  '2021-04-28 21:50:00 +9999',
];

function jsonFile(dir: string, file: string): Buffer {
  return readFileSync(new URL(`${dir}/${file}`, fixtures));
}

function cases(): Case[] {
  const out: Case[] = [];
  const dirFiles = (dir: string) =>
    readdirSync(new URL(`${dir}/`, fixtures)).filter((f) => f.endsWith('.json'));
  for (const file of dirFiles('github')) {
    const headers = { 'x-github-event': file.split('.')[0] ?? '', 'x-github-delivery': 'd-1' };
    out.push({ name: `github/${file}`, adapter: adaptGithub, headers, raw: jsonFile('github', file) });
  }
  const gitlabEvents: Record<string, string> = {
    'deployment_event.json': 'Deployment Hook',
    'pipeline_event.json': 'Pipeline Hook',
    'job_event.json': 'Job Hook',
    'push_event.json': 'Push Hook',
  };
  for (const [file, event] of Object.entries(gitlabEvents)) {
    out.push({
      name: `gitlab/${file}`,
      adapter: adaptGitlab,
      headers: { 'x-gitlab-event': event, 'idempotency-key': 'k' },
      raw: jsonFile('gitlab', file),
    });
  }
  const rules = { environments: [{ match: 'asgard', environment: 'production' }] };
  const jenkins = jsonFile('jenkins', 'notification-plugin.completed.json');
  out.push({
    name: 'jenkins (rules)',
    adapter: (r) => adaptJenkins(r, { rules }),
    headers: {},
    raw: jenkins,
  });
  const withParams = JSON.parse(jenkins.toString('utf8')) as { build: Record<string, unknown> };
  Object.assign(withParams.build, {
    parameters: { ENVIRONMENT: 'prod', VERSION: '1.2.3', REGION: 'eu' },
    timestamp: 1.7e12,
    duration: 5000,
  });
  out.push({
    name: 'jenkins (parameters)',
    adapter: (r) => adaptJenkins(r),
    headers: {},
    raw: Buffer.from(JSON.stringify(withParams)),
  });

  const syncResult = JSON.parse(jsonFile('argocd', 'on-deployed.syncResult.json').toString('utf8')) as {
    revision: string;
  };
  for (const [phase, health] of [
    ['Running', 'Progressing'],
    ['Succeeded', 'Degraded'],
  ] as const) {
    // The shape ARGOCD_WEBHOOK_TEMPLATE renders to (argocd.test.ts renders it for real).
    const body = JSON.stringify({
      shiplog: ARGOCD_TEMPLATE_MARKER,
      app: 'checkout-api',
      project: 'default',
      destination: { namespace: 'production', server: 'https://kubernetes.default.svc', name: 'eu-1' },
      operation: {
        phase,
        startedAt: '2026-11-02T10:15:00Z',
        finishedAt: '2026-11-02T10:16:00Z',
        revision: syncResult.revision,
        initiatedBy: 'alice',
        automated: false,
        message: 'ok',
      },
      health,
      syncStatus: 'Synced',
      syncRevision: syncResult.revision,
      reconciledAt: '2026-11-02T10:20:00Z',
    });
    out.push({
      name: `argocd (${phase}/${health})`,
      adapter: (r) => adaptArgocd(r),
      headers: {},
      raw: Buffer.from(body),
    });
  }
  out.push({
    name: 'argocd syncResult',
    adapter: (r) => adaptArgocd(r),
    headers: {},
    raw: jsonFile('argocd', 'on-deployed.syncResult.json'),
  });

  for (const dir of ['cdevents', 'cdevents/v0.4.1']) {
    for (const file of dirFiles(dir)) {
      const raw = jsonFile(dir, file);
      const event = JSON.parse(raw.toString('utf8')) as { context: Record<string, string> };
      const c = event.context;
      const binary = {
        'content-type': 'application/json',
        'ce-id': c.id ?? '',
        'ce-source': c.source ?? '',
        'ce-type': c.type ?? '',
      };
      out.push({ name: `${dir}/${file} (binary)`, adapter: (r) => adaptCdevents(r), headers: binary, raw });
      if (/service_(deployed|rolledback)|incident_detected/.test(file)) {
        const ce = {
          specversion: '1.0',
          id: c.id,
          source: c.source,
          type: c.type,
          time: c.timestamp,
          data: event,
        };
        out.push({
          name: `${dir}/${file} (structured)`,
          adapter: (r) => adaptCdevents(r),
          headers: { 'content-type': 'application/cloudevents+json' },
          raw: Buffer.from(JSON.stringify(ce)),
        });
      }
    }
  }

  const generic = {
    result: 'ok',
    run: { id: 4711, finished: 1_762_078_500, by: 'alice', url: 'https://deploy.example/runs/4711' },
    app: { repo: 'octo-org/checkout-api', tag: 'v1.42.0', sha: '9f2c1e0a7b3d' },
    target: { name: 'Production', zones: ['eu-west-1'] },
  };
  const mapping = {
    fields: {
      type: 'result',
      deployment: '/run/id',
      service: 'app.repo',
      environment: 'target.name',
      version: 'app.tag',
      commit: 'app.sha',
      time: 'run.finished',
      actor: 'run.by',
      region: 'target.zones.0',
      buildUrl: 'run.url',
    },
    typeMap: { ok: 'deployment.succeeded' },
  } as const;
  out.push({
    name: 'generic',
    adapter: (r) => adaptGeneric(r, mapping),
    headers: {},
    raw: Buffer.from(JSON.stringify(generic)),
  });
  return out;
}

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(path);
      paths(v, path, out);
    }
  }
  return out;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let current = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) current = current[key] as Record<string | number, unknown>;
  return current;
}

/** Runs the adapter; returns a failure description, or null when the outcome is acceptable. */
function outcome(adapter: Adapter, req: WebhookRequest): string | null {
  let result: AdapterResult;
  try {
    result = adapter(req);
  } catch (error) {
    if (!(error instanceof AdapterInputError)) return `threw ${String(error)}`;
    const ok =
      error.details.length > 0 &&
      error.details.every((d) => typeof d.path === 'string' && typeof d.message === 'string');
    return ok ? null : 'AdapterInputError without details';
  }
  if (result.kind === 'ignored')
    return typeof result.reason === 'string' && result.reason !== '' ? null : 'empty reason';
  if (result.kind === 'record')
    return typeof result.id === 'string' && !Number.isNaN(Date.parse(result.time)) ? null : 'bad record';
  if (result.events.length === 0) return 'no events';
  for (const event of result.events) {
    const errors = validateEvent(event);
    if (errors.length > 0) return `invalid event ${JSON.stringify(errors)}`;
  }
  return null;
}

describe('adapters under mutation', () => {
  for (const c of cases()) {
    it(`never fail unexpectedly: ${c.name}`, () => {
      const failures: string[] = [];
      let runs = 0;
      const run = (label: string, req: WebhookRequest) => {
        runs += 1;
        const failure = outcome(c.adapter, req);
        if (failure !== null && failures.length < 10) failures.push(`${label}: ${failure}`);
      };
      const body = JSON.parse(c.raw.toString('utf8')) as unknown;
      const req = (b: unknown, headers = c.headers): WebhookRequest => ({ headers, rawBody: c.raw, body: b });
      run('original', req(body));

      for (const path of paths(body)) {
        const parent = parentOf(body, path);
        const key = path.at(-1) as string | number;
        const saved = parent[key];
        const label = `/${path.join('/')}`;
        if (Array.isArray(parent)) {
          parent.splice(key as number, 1);
          run(`remove ${label}`, req(body));
          parent.splice(key as number, 0, saved);
        } else {
          Reflect.deleteProperty(parent, key);
          run(`remove ${label}`, req(body));
        }
        for (const wrong of WRONG) {
          parent[key] = wrong;
          run(`${label} = ${JSON.stringify(wrong).slice(0, 40)}`, req(body));
        }
        parent[key] = saved;
      }

      for (const wrong of [...WRONG, undefined])
        run(`body = ${String(JSON.stringify(wrong)).slice(0, 20)}`, req(wrong));
      for (const name of Object.keys(c.headers)) {
        const rest = Object.fromEntries(Object.entries(c.headers).filter(([k]) => k !== name));
        run(`without header ${name}`, req(body, rest));
        run(`header ${name} garbage`, req(body, { ...c.headers, [name]: '\u0000garbage 🙂' }));
      }
      const step = Math.max(1, Math.floor(c.raw.length / 200));
      for (let n = 0; n < c.raw.length; n += step) {
        run(`truncated at ${n}`, { headers: c.headers, rawBody: c.raw.subarray(0, n), body: undefined });
      }
      expect(failures).toEqual([]);
      expect(runs).toBeGreaterThan(20);
    });
  }
});
