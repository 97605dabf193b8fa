/**
 * Backstage catalog descriptors (`catalog-info.yaml`, several YAML documents per file) → the
 * service catalog (DESIGN.md §9). Components and Resources become services; `spec.owner` is the
 * team, `spec.dependsOn` and `spec.consumesApis` the dependencies (an API is replaced by the
 * component of the same import that provides it), `github.com/project-slug` the repository.
 * Entity references are `[kind:][namespace/]name`, compared case-insensitively.
 * https://backstage.io/docs/features/software-catalog/descriptor-format
 */
import { parseAllDocuments } from 'yaml';
import { toName } from './mapping.js';
import { isRecord } from './payload.js';

export interface CatalogEntity {
  readonly name: string;
  readonly team?: string;
  readonly dependsOn: string[];
  readonly repository?: string;
}

export interface CatalogImport {
  readonly entities: CatalogEntity[];
  /** Kinds that are not services (API, System, Group, ...), by count. */
  readonly skipped: Record<string, number>;
  readonly problems: { readonly path: string; readonly message: string }[];
}

/** `component:default/artist-web` → `artist-web`. */
function refName(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined;
  const withoutKind = ref.includes(':') ? ref.slice(ref.indexOf(':') + 1) : ref;
  return withoutKind.split('/').pop()?.trim().toLowerCase();
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Reads the descriptors of several files; every problem is named `<file>#<document> <field>`. */
export function parseBackstage(files: readonly { name: string; text: string }[]): CatalogImport {
  const problems: { path: string; message: string }[] = [];
  const skipped: Record<string, number> = {};
  const components: { at: string; doc: Record<string, unknown> }[] = [];
  const providers = new Map<string, string>();
  for (const file of files) {
    const docs = parseAllDocuments(file.text);
    const all = Array.isArray(docs) ? docs : [docs];
    all.forEach((doc, i) => {
      const at = `${file.name}#${String(i + 1)}`;
      if (doc.errors.length > 0) {
        problems.push({
          path: at,
          message: `is not valid YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`,
        });
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      if (!isRecord(value)) {
        problems.push({ path: at, message: 'must be a mapping (a Backstage entity)' });
        return;
      }
      const kind = typeof value.kind === 'string' ? value.kind : '';
      if (kind.toLowerCase() !== 'component' && kind.toLowerCase() !== 'resource') {
        skipped[kind || 'unknown'] = (skipped[kind || 'unknown'] ?? 0) + 1;
        return;
      }
      const metadata = isRecord(value.metadata) ? value.metadata : {};
      const name = toName(typeof metadata.name === 'string' ? metadata.name : undefined);
      if (name === undefined) {
        problems.push({ path: `${at} metadata.name`, message: 'is required (a name of a-z 0-9 . _ -)' });
        return;
      }
      const spec = isRecord(value.spec) ? value.spec : {};
      for (const api of list(spec.providesApis)) {
        const apiName = refName(api);
        if (apiName !== undefined) providers.set(apiName, name);
      }
      components.push({ at, doc: { ...value, metadata: { ...metadata, name } } });
    });
  }
  const entities: CatalogEntity[] = components.map(({ doc }) => {
    const metadata = doc.metadata as Record<string, unknown>;
    const spec = isRecord(doc.spec) ? doc.spec : {};
    const name = metadata.name as string;
    const depends = new Set<string>();
    for (const ref of list(spec.dependsOn)) {
      const dep = toName(refName(ref));
      if (dep !== undefined && dep !== name) depends.add(dep);
    }
    for (const ref of list(spec.consumesApis)) {
      const api = refName(ref);
      const dep = toName(api === undefined ? undefined : (providers.get(api) ?? api));
      if (dep !== undefined && dep !== name) depends.add(dep);
    }
    const owner = typeof spec.owner === 'string' ? spec.owner.replace(/^group:/i, '') : undefined;
    const annotations = isRecord(metadata.annotations) ? metadata.annotations : {};
    const slug = annotations['github.com/project-slug'] ?? annotations['gitlab.com/project-slug'];
    return {
      name,
      ...(owner !== undefined && owner !== '' && { team: owner }),
      dependsOn: [...depends].sort(),
      ...(typeof slug === 'string' && { repository: slug }),
    };
  });
  return { entities, skipped, problems };
}
