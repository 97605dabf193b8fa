/**
 * The Kubernetes validating admission webhook (admission.k8s.io/v1 AdmissionReview; see
 * https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/).
 *
 * A CREATE or UPDATE of a Deployment, StatefulSet, DaemonSet or Job in a namespace mapped to a
 * protected environment is admitted only when one of its container images matches a shiplog
 * deployment to that environment that is approved or was allowed by the gate: same service
 * (the image's repository name, the workload's name, its `app.kubernetes.io/name` or `app`
 * label, or its `shiplog.io/service` annotation) and a version equal to the image's tag or
 * digest. An UPDATE that leaves every image as it was (scaling, a label) is admitted: it
 * changes nothing that runs. Everything else is admitted untouched.
 */
import { ShiplogError } from '../errors.js';
import { policyOf, type GovernanceDeps } from './deps.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const GOVERNED_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

export interface AdmissionResponse {
  readonly apiVersion: string;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason?: string; readonly message: string };
    readonly warnings?: readonly string[];
  };
}

/** An image reference split into the parts that are matched. */
export interface ImageRef {
  readonly image: string;
  /** Last path segment of the repository: `ghcr.io/acme/checkout-api:1.2` → `checkout-api`. */
  readonly name: string;
  readonly tag?: string;
  /** `sha256:...` */
  readonly digest?: string;
}

/** Splits `registry:5000/org/name:tag@sha256:...`. */
export function parseImage(image: string): ImageRef {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = withoutDigest.lastIndexOf(':');
  const slash = withoutDigest.lastIndexOf('/');
  const hasTag = colon > slash;
  const repository = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = hasTag ? withoutDigest.slice(colon + 1) : undefined;
  const name = repository.slice(repository.lastIndexOf('/') + 1);
  return {
    image,
    name,
    ...(tag === undefined || tag === '' ? {} : { tag }),
    ...(digest === undefined || digest === '' ? {} : { digest }),
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
  }
  if (problems.length > 0 || !request) {
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', 'The body is not an AdmissionReview', problems);
  }
  return { apiVersion: ADMISSION_API_VERSION, request };
}

/** Reviews one AdmissionReview and answers with another, echoing `request.uid`. */
export async function reviewAdmission(deps: GovernanceDeps, body: unknown): Promise<AdmissionResponse> {
  const { apiVersion, request } = parseReview(body);
  const uid = request.uid as string;
  const answer = (allowed: boolean, message?: string, warnings?: string[]): AdmissionResponse => ({
    apiVersion,
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed,
      ...(allowed || message === undefined ? {} : { status: { code: 403, reason: 'Forbidden', message } }),
      ...(warnings && warnings.length > 0 ? { warnings } : {}),
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
  const images = imagesOf(object);
  const workload = `${kind} ${namespace}/${String(request.name ?? metadataOf(object).name ?? '')}`;
  if (images.length === 0) return answer(true);
  if (operation === 'UPDATE' && isObject(request.oldObject)) {
    const before = new Set(imagesOf(request.oldObject));
    if (images.every((image) => before.has(image))) return answer(true);
  }

  const refs = images.map(parseImage);
  const services = serviceNames(object, refs);
  const versions = refs.flatMap(versionsOf);
  const match = await deps.store.gateDecisions.findAdmissible(environment, services, versions);
  if (match) return answer(true);

  const unpinned = refs.filter((ref) => ref.tag === undefined && ref.digest === undefined);
  const service = services[0] ?? 'SERVICE';
  const version = refs.find((ref) => ref.tag !== undefined)?.tag ?? 'VERSION';
  const message =
    `shiplog: ${workload} is denied: namespace ${namespace} deploys to protected environment ` +
    `${environment}, and no approved shiplog deployment of ${services.join(' or ')} matches ` +
    `${images.join(', ')}. ` +
    (unpinned.length > 0
      ? `Pin ${unpinned.map((r) => r.image).join(', ')} to a version tag or digest, then `
      : 'To fix: ') +
    `record the deployment (POST /v1/events with type deployment.requested, service ${service}, ` +
    `environment ${environment}, version ${version}), get it approved (shiplog approve) and ask the ` +
    `gate (shiplog gate --service ${service} --env ${environment} --version ${version} --deployment <id>), ` +
    `then apply again. Only the image tag or digest is matched against the deployment's version.`;
  return answer(false, message);
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

function serviceNames(object: Record<string, unknown>, refs: readonly ImageRef[]): string[] {
  const metadata = metadataOf(object);
  const labels = isObject(metadata.labels) ? metadata.labels : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const names = [
    annotations['shiplog.io/service'],
    labels['app.kubernetes.io/name'],
    labels.app,
    metadata.name,
    ...refs.map((ref) => ref.name),
  ].filter((name): name is string => typeof name === 'string' && name !== '');
  return [...new Set(names)];
}

function versionsOf(ref: ImageRef): string[] {
  const out: string[] = [];
  if (ref.digest) out.push(ref.digest);
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
