/**
 * Container image references as the admission webhook matches them: the repository resolved
 * the way Docker resolves it (distribution/reference), the tag and the digest.
 */

/** An image reference split into the parts that are matched. */
export interface ImageRef {
  readonly image: string;
  /**
   * The repository with its registry, as Docker resolves it: `nginx` → `docker.io/library/nginx`,
   * `acme/api` → `docker.io/acme/api`, `ghcr.io/acme/api:1.2` → `ghcr.io/acme/api`; lower case.
   */
  readonly repository: string;
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
    repository: normalizeRepository(repository),
    name,
    ...(tag === undefined || tag === '' ? {} : { tag }),
    ...(digest === undefined || digest === '' ? {} : { digest }),
  };
}

/**
 * A repository as Docker resolves it (distribution/reference): without a registry (a first
 * component with no `.` or `:` that is not `localhost`) it is on Docker Hub, whose official
 * images live under `library/`; `index.docker.io` is `docker.io`. Lower case.
 */
export function normalizeRepository(repository: string): string {
  const lower = repository.toLowerCase();
  const slash = lower.indexOf('/');
  const first = slash < 0 ? '' : lower.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (!hasRegistry) return `docker.io/${slash < 0 ? `library/${lower}` : lower}`;
  return first === 'index.docker.io' ? `docker.io${lower.slice(slash)}` : lower;
}
