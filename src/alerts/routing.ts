/**
 * Alertmanager's routing tree (prometheus.io/docs/alerting/latest/configuration/#route): an
 * alert enters at the root, which matches everything; it descends into the first child whose
 * matchers it satisfies and, unless that child says `continue: true`, stops looking at the
 * siblings after it. The deepest matching routes are the ones that notify; a route none of
 * whose children match notifies itself. Alerts of one route with equal values of its
 * `group_by` labels form one aggregation group.
 */
import type { Route } from './alerts-config.js';
import { matchesAll, type Labels } from './matchers.js';

/** The routes that notify for an alert with these labels, in tree order. */
export function matchRoutes(route: Route, labels: Labels): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const matched: Route[] = [];
  for (const child of route.routes) {
    const found = matchRoutes(child, labels);
    matched.push(...found);
    if (found.length > 0 && !child.continue) break;
  }
  return matched.length > 0 ? matched : [route];
}

/** The values of the route's `group_by` labels (every label for `...`). */
export function groupLabels(route: Route, labels: Labels): Record<string, string> {
  if (route.groupBy.includes('...')) return { ...labels };
  const out: Record<string, string> = {};
  for (const name of route.groupBy) {
    const value = labels[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The key of the aggregation group: route, receiver and group labels. */
export function groupKey(route: Route, group: Readonly<Record<string, string>>): string {
  const parts = Object.keys(group)
    .sort()
    .map((k) => `${k}=${JSON.stringify(group[k])}`);
  return `${route.id}:${route.receiver}:{${parts.join(',')}}`;
}

/** Finds the route with `id` (`0.1.2`) in the tree. */
export function routeById(root: Route, id: string): Route | undefined {
  if (root.id === id) return root;
  for (const child of root.routes) {
    if (id === child.id || id.startsWith(`${child.id}.`)) return routeById(child, id);
  }
  return undefined;
}
