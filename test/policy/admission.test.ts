/**
 * The Kubernetes validating admission webhook with real AdmissionReview documents
 * (../shared/fixtures/kubernetes) and documents derived from them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImage } from '../../src/governance/image-ref.js';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { CONFIG } from './policy-config.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/kubernetes');

function fixture(name: string): Record<string, unknown> {
  let text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  if (name.endsWith('.jsonc')) {
    // Strip whole-line comments and the documentation's `...` placeholders.
    text = text
      .split('\n')
      .filter((line) => !line.trim().startsWith('#') && !line.trim().startsWith('//'))
      .join('\n')
      .replaceAll(/,\s*\.\.\.\s*}/g, '}');
  }
  return JSON.parse(text) as Record<string, unknown>;
}

interface Review {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string } };
}

/** The whorf Deployment with another image, kind, namespace or operation. */
function variant(
  changes: { image?: string; kind?: string; namespace?: string; operation?: string; oldImage?: string } = {},
) {
  const review = structuredClone(fixture('admissionreview-v1.request.deployment-create.whorf.json')) as {
    request: Record<string, unknown> & {
      uid: string;
      kind: { kind: string };
      object: { spec: { template: { spec: { containers: { image: string }[] } } } };
    };
  };
  const { request } = review;
  request.uid = `uid-${Math.random().toString(36).slice(2)}`;
  if (changes.image) {
    const container = request.object.spec.template.spec.containers[0];
    if (container) container.image = changes.image;
  }
  if (changes.kind) request.kind.kind = changes.kind;
  if (changes.namespace) request.namespace = changes.namespace;
  if (changes.operation) request.operation = changes.operation;
  if (changes.oldImage) {
    const old = structuredClone(request.object);
    const container = old.spec.template.spec.containers[0];
    if (container) container.image = changes.oldImage;
    request.oldObject = old;
  }
  return review;
}

describe('parseImage', () => {
  it('splits registry, repository, tag and digest', () => {
    expect(parseImage('nginx')).toEqual({
      image: 'nginx',
      repository: 'docker.io/library/nginx',
      name: 'nginx',
    });
    expect(parseImage('acme/api:1')).toMatchObject({ repository: 'docker.io/acme/api' });
    expect(parseImage('index.docker.io/acme/api:1')).toMatchObject({ repository: 'docker.io/acme/api' });
    expect(parseImage('localhost:5000/API:1')).toMatchObject({ repository: 'localhost:5000/api', tag: '1' });
    expect(parseImage('registry:5000/acme/checkout-api:1.2.3')).toMatchObject({
      name: 'checkout-api',
      tag: '1.2.3',
    });
    expect(parseImage('ghcr.io/acme/api@sha256:abc')).toMatchObject({ name: 'api', digest: 'sha256:abc' });
    expect(parseImage('ghcr.io/acme/api:v2@sha256:abc')).toMatchObject({ tag: 'v2', digest: 'sha256:abc' });
  });
});

describe.each(DIALECTS)('kubernetes admission on %s', (dialect) => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const review = (body: unknown, who = 'viewer') =>
    t.call('POST', '/v1/admission/kubernetes', body, tokens[who]);
  const verdict = async (body: unknown, who = 'viewer') => {
    const answer = await review(body, who);
    expect(answer.status).toBe(200);
    return answer.json() as unknown as Review;
  };
  /** An nginx deployment to production at `version`, approved by carol. */
  const approvedNginx = async (version: string, deployment: string) => {
    await t.call('POST', '/v1/events', {
      type: 'deployment.requested',
      deployment,
      service: 'nginx',
      environment: 'production',
      version,
      actor: 'alice',
    });
    const decided = await t.call(
      'POST',
      `/v1/deployments/${deployment}/approvals`,
      { decision: 'approve', comment: 'ok' },
      tokens.carol,
    );
    expect(decided.json()).toMatchObject({ approved: true });
  };

  beforeAll(async () => {
    t = await testApp(dialect, { policy: CONFIG.policy, kubernetes: CONFIG.kubernetes });
    for (const [name, role] of [
      ['viewer', 'viewer'],
      ['deployer', 'deployer'],
      ['carol', 'approver'],
      ['auditor', 'auditor'],
    ] as const) {
      const created = await t.call('POST', '/v1/tokens', { name, role });
      tokens[name] = (created.json() as { token: string }).token;
    }
  });
  afterAll(async () => t.close());

  it('denies the real whorf Deployment (namespace nginx → production), echoing uid and apiVersion', async () => {
    const body = fixture('admissionreview-v1.request.deployment-create.whorf.json');
    const answer = await verdict(body);
    expect(answer.apiVersion).toBe('admission.k8s.io/v1');
    expect(answer.kind).toBe('AdmissionReview');
    expect(answer.response.uid).toBe('13b390aa-ea59-48ef-9fb8-069bf0430dce');
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.code).toBe(403);
    expect(answer.response.status?.message).toContain('nginx is not pinned: use a version tag or a digest');
    expect(answer.response.status?.message).toContain('shiplog gate');
  });

  it('admits the real scale-subresource update (k8s docs): scaling changes no image', async () => {
    const body = fixture('admissionreview-v1.request.deployment-scale-update.k8s-docs.jsonc');
    const answer = await verdict(body);
    expect(answer.response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
  });

  it('admits an image whose tag or digest matches an approved deployment of the service', async () => {
    await approvedNginx('1.27.3', `nginx-1273-${dialect}`);
    expect((await verdict(variant({ image: 'nginx:1.27.3' }))).response.allowed).toBe(true);
    expect((await verdict(variant({ image: 'docker.io/library/nginx:v1.27.3' }))).response.allowed).toBe(
      true,
    );
    const other = await verdict(variant({ image: 'nginx:1.27.4' }));
    expect(other.response.allowed).toBe(false);
    expect(other.response.status?.message).toContain(
      'no shiplog deployment of nginx 1.27.4 to production is approved or allowed by the gate',
    );
    expect(other.response.status?.message).toContain('version 1.27.4');

    await approvedNginx('sha256:0123abcd', `nginx-digest-${dialect}`);
    expect((await verdict(variant({ image: 'nginx@sha256:0123abcd' }))).response.allowed).toBe(true);
  });

  it('admits an image the gate allowed (by override), not one it denied', async () => {
    const gate = (version: string, override?: string) =>
      t.call('POST', '/v1/gate', {
        deployment: `nginx-gate-${version}-${dialect}`,
        service: 'nginx',
        environment: 'production',
        version,
        ...(override ? { override: { justification: override } } : {}),
      });
    expect((await gate('2.0.0')).json()).toMatchObject({ allow: false });
    await t.call('POST', '/v1/events', {
      type: 'deployment.started',
      deployment: `nginx-gate-2.0.0-${dialect}`,
      service: 'nginx',
      environment: 'production',
      version: '2.0.0',
      actor: 'alice',
    });
    expect((await verdict(variant({ image: 'nginx:2.0.0' }))).response.allowed).toBe(false);
    expect((await gate('2.0.1', 'hotfix for INC-1')).json()).toMatchObject({ allow: true, overridden: true });
    await t.call('POST', '/v1/events', {
      type: 'deployment.started',
      deployment: `nginx-gate-2.0.1-${dialect}`,
      service: 'nginx',
      environment: 'production',
      version: '2.0.1',
      actor: 'alice',
    });
    expect((await verdict(variant({ image: 'nginx:2.0.1' }))).response.allowed).toBe(true);
  });

  it('denies StatefulSet, DaemonSet and Job too, and admits other kinds and operations', async () => {
    for (const kind of ['StatefulSet', 'DaemonSet', 'Job']) {
      expect((await verdict(variant({ kind, image: 'nginx:9.9.9' }))).response.allowed, kind).toBe(false);
    }
    expect((await verdict(variant({ kind: 'ConfigMap', image: 'nginx:9.9.9' }))).response.allowed).toBe(true);
    expect((await verdict(variant({ operation: 'DELETE', image: 'nginx:9.9.9' }))).response.allowed).toBe(
      true,
    );
  });

  it('admits unmapped and unprotected namespaces', async () => {
    expect((await verdict(variant({ namespace: 'sandbox', image: 'nginx:9.9.9' }))).response.allowed).toBe(
      true,
    );
    expect((await verdict(variant({ namespace: 'stage', image: 'nginx:9.9.9' }))).response.allowed).toBe(
      true,
    );
  });

  it('admits an UPDATE that keeps the images, denies one that changes them', async () => {
    const same = variant({ operation: 'UPDATE', image: 'nginx:0.1', oldImage: 'nginx:0.1' });
    expect((await verdict(same)).response.allowed).toBe(true);
    const changed = variant({ operation: 'UPDATE', image: 'nginx:0.2', oldImage: 'nginx:0.1' });
    expect((await verdict(changed)).response.allowed).toBe(false);
  });

  it('authenticates the API server and rejects what is not an AdmissionReview', async () => {
    const body = variant({ image: 'nginx:1.27.3' });
    expect((await review(body, 'deployer')).status).toBe(200);
    expect((await review(body, 'carol')).status).toBe(403);
    expect((await review(body, 'auditor')).status).toBe(403);
    expect((await t.call('POST', '/v1/admission/kubernetes', body, null)).status).toBe(401);
    const wrongVersion = { ...body, apiVersion: 'admission.k8s.io/v1beta1' };
    const bad = await review(wrongVersion);
    expect(bad.status).toBe(400);
    expect(bad.json().error?.details.map((d) => d.path)).toEqual(['/apiVersion']);
    expect((await review({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' })).status).toBe(400);
    const longUid = structuredClone(body);
    longUid.request.uid = 'u'.repeat(129);
    const tooLong = await review(longUid);
    expect(tooLong.status).toBe(400);
    expect(tooLong.json().error?.details.map((d) => d.path)).toEqual(['/request/uid']);
  });
});
