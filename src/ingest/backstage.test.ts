import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBackstage } from './backstage.js';

const DIR = new URL('../../../shared/fixtures/backstage/', import.meta.url);
const file = (name: string) => ({ name, text: readFileSync(new URL(name, DIR), 'utf8') });

describe('parseBackstage', () => {
  it('reads every Backstage fixture together: components and resources, with owners and dependencies', () => {
    const names = readdirSync(DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const result = parseBackstage(names.map(file));
    expect(result.problems).toEqual([]);
    const byName = Object.fromEntries(result.entities.map((e) => [e.name, e]));
    expect(byName['backstage-demo']).toEqual({
      name: 'backstage-demo',
      team: 'backstage/maintainers',
      dependsOn: ['demo-graphql'],
      repository: 'backstage/demo',
    });
    // wayback-search consumes the wayback-archive API, which the wayback-archive component provides.
    expect(byName['wayback-search']).toMatchObject({ team: 'team-a', dependsOn: ['wayback-archive'] });
    expect(byName['artist-web']).toMatchObject({ team: 'artist-relations-team', dependsOn: [] });
    expect(byName['artists-db']).toMatchObject({ name: 'artists-db', dependsOn: [] });
    expect(result.skipped).toMatchObject({ API: 3, System: 2, Domain: 1 });
  });

  it('reads several documents per file and every form of dependsOn reference', () => {
    const text = [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata: {name: checkout-api}',
      'spec: {owner: group:default/payments, dependsOn: [resource:artists-db, component:default/Auth-API, "resource:default/payments-db"]}',
      '---',
      'kind: Component',
      'metadata: {}',
      '---',
      '- not an entity',
    ].join('\n');
    const result = parseBackstage([{ name: 'catalog-info.yaml', text }]);
    expect(result.entities).toEqual([
      {
        name: 'checkout-api',
        team: 'default/payments',
        dependsOn: ['artists-db', 'auth-api', 'payments-db'],
      },
    ]);
    expect(result.problems).toEqual([
      { path: 'catalog-info.yaml#2 metadata.name', message: 'is required (a name of a-z 0-9 . _ -)' },
      { path: 'catalog-info.yaml#3', message: 'must be a mapping (a Backstage entity)' },
    ]);
  });
});
