/**
 * The Kubernetes validating admission webhook (admission.k8s.io/v1 AdmissionReview; see
 * https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/).
 *
 * A CREATE or UPDATE of a Deployment, StatefulSet, DaemonSet or Job in a namespace mapped to a
 * protected environment is admitted only when **every** container image (containers, init and
 * ephemeral containers) is accounted for: its repository is mapped to a service
 * (`kubernetes.repositories`), it is pinned to a version tag or a digest, and a shiplog
 * deployment of that service to that environment at that version did not fail and is either
 * allowed by a gate decision made for exactly it or approved for exactly that version (one
 * rule with the gate: src/governance/approval-state.ts). An image that an UPDATE leaves as it
 * was is already running and is accounted for by that. Every such review is recorded with a
 * ledger entry, like a gate decision. Everything else is admitted untouched.
 */
import { randomBytes } from 'node:crypto';
import { ShiplogError } from '../errors.js';
import { canonicalJson } from '../ledger/jcs.js';
import { toAdmissionDecisionView, type AdmissionImageView } from '../store/gate-decisions-repository.js';
import type { AdmissionDecisionsTable } from '../store/schema.js';
import { approvalStateOf } from './approval-state.js';
import { parseImage, type ImageRef } from './image-ref.js';
import { factsOf, policyOf, type GovernanceDeps } from './deps.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const GOVERNED_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
/** Longer image references are denied unread (Docker's limit on a name is 255 characters, plus tag and digest). */
const MAX_IMAGE_LENGTH = 512;

export interface AdmissionResponse {
  readonly apiVersion: string;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason?: string; readonly message: string };
  };
}

/** Validates the envelope; a malformed review is a 400 (the API server then applies failurePolicy). */
export function parseReview(body: unknown): { apiVersion: string; request: Record<string, unknown> } {
  const review = isObject(body) ? body : {};
  const request = isObject(review.request) ? review.request : undefined;
  const problems: { path: string; message: string }[] = [];
  if (review.kind !== 'AdmissionReview') problems.push({ path: '/kind', message: 'must be AdmissionReview' });
  if (review.apiVersion !== ADMISSION_API_VERSION) {
    problems.push({ path: '/apiVersion', message: `must be ${ADMISSION_API_VERSION}` });
  }
  if (!request) problems.push({ path: '/request', message: 'is required' });
  else if (typeof request.uid !== 'string' || request.uid === '') {
    problems.push({ path: '/request/uid', message: 'is required' });
  } else if (request.uid.length > 128) {
    problems.push({ path: '/request/uid', message: 'must be at most 128 characters' });
  }
  if (problems.length > 0 || !request) {
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', 'The body is not an AdmissionReview', problems);
  }
  return { apiVersion: ADMISSION_API_VERSION, request };
}

/** Reviews one AdmissionReview and answers with another, echoing `request.uid`. */
export async function reviewAdmission(
  deps: GovernanceDeps,
  body: unknown,
  askedBy: string,
): Promise<AdmissionResponse> {
  const { apiVersion, request } = parseReview(body);
  const uid = request.uid as string;
  const answer = (allowed: boolean, message?: string): AdmissionResponse => ({
    apiVersion,
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed,
      ...(allowed || message === undefined ? {} : { status: { code: 403, reason: 'Forbidden', message } }),
    },
  });

  const kind = isObject(request.kind) ? request.kind.kind : undefined;
  const operation = request.operation;
  if (
    (operation !== 'CREATE' && operation !== 'UPDATE') ||
    typeof kind !== 'string' ||
    !GOVERNED_KINDS.includes(kind) ||
    (typeof request.subResource === 'string' && request.subResource !== '')
  ) {
    return answer(true);
  }
  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  const environment = Object.hasOwn(deps.kubernetes.namespaces, namespace)
    ? deps.kubernetes.namespaces[namespace]
    : undefined;
  if (environment === undefined || policyOf(deps, environment)?.protected !== true) return answer(true);

  const object = isObject(request.object) ? request.object : {};
  const images = [...new Set(imagesOf(object))];
  // Kubernetes names are at most 253 characters; the review is recorded, so nothing longer is kept.
  const name = String(request.name ?? metadataOf(object).name ?? '').slice(0, 253);
  if (images.length === 0) return answer(true);
  const before = new Set(
    operation === 'UPDATE' && isObject(request.oldObject) ? imagesOf(request.oldObject) : [],
  );
  if (images.every((image) => before.has(image))) return answer(true);

  const verdicts: AdmissionImageView[] = [];
  for (const image of images) {
    verdicts.push(before.has(image) ? unchanged(image) : await accountFor(deps, environment, image));
  }
  const problems = verdicts.filter((v) => v.accountedBy === null);
  const allow = problems.length === 0;
  const message = allow
    ? undefined
    : denyMessage(`${kind} ${namespace}/${name}`, namespace, environment, problems);
  const row: AdmissionDecisionsTable = {
    id: `adm_${randomBytes(9).toString('base64url')}`,
    uid,
    operation,
    namespace,
    environment,
    workload_kind: kind,
    workload_name: name,
    allow: allow ? 1 : 0,
    images: JSON.stringify(verdicts),
    message: message ?? null,
    asked_by: askedBy,
    created_ms: deps.now(),
  };
  await deps.store.writeTransaction(async function recordAdmission(trx) {
    await deps.store.gateDecisions.insertAdmission(row, trx);
    const entry = canonicalJson({ recordType: 'admission_decision', ...toAdmissionDecisionView(row) });
    await deps.ledger?.append(trx, [entry], 'admission_decision');
  });
  return answer(allow, message);
}

/** What `kubernetes.repositories` maps the repository of `ref` to; undefined: nothing. */
function serviceOf(deps: GovernanceDeps, ref: ImageRef): string | undefined {
  for (const [service, repositories] of Object.entries(deps.kubernetes.repositories ?? {})) {
    if (repositories.includes(ref.repository)) return service;
  }
  return undefined;
}

function unchanged(image: string): AdmissionImageView {
  const ref = parseImage(image);
  return {
    image,
    service: null,
    version: ref.digest ?? ref.tag ?? null,
    deployment: null,
    accountedBy: 'unchanged',
    problem: null,
  };
}

/** Whether a shiplog deployment accounts for `image` in `environment`, and which. */
async function accountFor(
  deps: GovernanceDeps,
  environment: string,
  image: string,
): Promise<AdmissionImageView> {
  if (image.length > MAX_IMAGE_LENGTH) {
    return {
      image: `${image.slice(0, 64)}...`,
      service: null,
      version: null,
      deployment: null,
      accountedBy: null,
      problem: `the image reference is longer than ${MAX_IMAGE_LENGTH} characters`,
    };
  }
  const ref = parseImage(image);
  const service = serviceOf(deps, ref) ?? null;
  const version = ref.digest ?? ref.tag ?? null;
  const view = { image, service, version, deployment: null, accountedBy: null };
  if (service === null) {
    return {
      ...view,
      problem: `repository ${ref.repository} is not mapped to a service (kubernetes.repositories in shiplog.yaml)`,
    };
  }
  if (version === null || (ref.digest === undefined && ref.tag === 'latest')) {
    return { ...view, problem: `${image} is not pinned: use a version tag or a digest (sha256:...)` };
  }
  const nowMs = deps.now();
  const candidates = await deps.store.gateDecisions.findAdmissionCandidates(
    environment,
    service,
    versionsOf(ref),
  );
  for (const { row, gateAllowed } of candidates) {
    if (gateAllowed)
      return { ...view, deployment: row.deployment, accountedBy: 'gate_decision', problem: null };
    if (row.version === null) continue;
    const state = await approvalStateOf(deps, row.deployment, factsOf(row, row.version), nowMs);
    if (state.approved)
      return { ...view, deployment: row.deployment, accountedBy: 'approvals', problem: null };
  }
  return {
    ...view,
    problem: `no shiplog deployment of ${service} ${version} to ${environment} is approved or allowed by the gate`,
  };
}

function denyMessage(
  workload: string,
  namespace: string,
  environment: string,
  problems: readonly AdmissionImageView[],
): string {
  const first = problems.find((p) => p.service !== null && p.version !== null);
  const service = first?.service ?? 'SERVICE';
  const version = first?.version ?? 'VERSION';
  return (
    `shiplog: ${workload} is denied: namespace ${namespace} deploys to protected environment ` +
    `${environment}, and every image must be accounted for by an approved shiplog deployment. ` +
    problems.map((p) => `${p.image}: ${p.problem ?? ''}.`).join(' ') +
    ` To fix: map each image repository to its service under kubernetes.repositories, pin images ` +
    `to a version tag or digest, record the deployment (POST /v1/events with type ` +
    `deployment.requested, service ${service}, environment ${environment}, version ${version}), get it ` +
    `approved (shiplog approve) or ask the gate (shiplog gate --service ${service} --env ${environment} ` +
    `--version ${version} --deployment <id>), then apply again.`
  );
}

function imagesOf(object: Record<string, unknown>): string[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  const podSpec = isObject(template.spec) ? template.spec : {};
  const images: string[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = podSpec[list];
    if (!Array.isArray(containers)) continue;
    for (const container of containers) {
      if (isObject(container) && typeof container.image === 'string' && container.image !== '') {
        images.push(container.image);
      }
    }
  }
  return images;
}

/**
 * The versions an image may match. With a digest only the digest: the runtime pulls by digest
 * and ignores the tag, so `api:1.0.0@sha256:<other>` must not pass as 1.0.0.
 */
function versionsOf(ref: ImageRef): string[] {
  if (ref.digest) return [ref.digest];
  const out: string[] = [];
  if (ref.tag) {
    out.push(ref.tag);
    out.push(ref.tag.startsWith('v') ? ref.tag.slice(1) : `v${ref.tag}`);
  }
  return out;
}

function metadataOf(object: Record<string, unknown>): Record<string, unknown> {
  return isObject(object.metadata) ? object.metadata : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
