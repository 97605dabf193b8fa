/**
 * Regression: the event writer told `onCommit` about a group from inside its transaction, so on
 * PostgreSQL a listener that read the deployment back (the silences of alerts.suppression) saw
 * it as it was before the group and left a finished deployment's silence in place.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentEvent } from '../../src/domain/event.js';
import { createEventWriter } from '../../src/store/event-writer.js';
import { DIALECTS, freshDatabase } from '../helpers/dialects.js';

describe.each(DIALECTS)('the event writer (%s)', (dialect) => {
  it('tells onCommit after the commit: a listener reads what the group wrote', async () => {
    const database = await freshDatabase(dialect);
    const store = await database.open();
    try {
      const seen: (string | undefined)[] = [];
      const reads: Promise<void>[] = [];
      const writer = createEventWriter(store, {
        onCommit: (stored) => {
          for (const s of stored) {
            reads.push(
              store.deployments.find(s.event.deployment).then((row) => {
                seen.push(`${s.event.type}:${row?.status}`);
              }),
            );
          }
        },
      });
      const event = (type: DeploymentEvent['type'], timeMs: number): DeploymentEvent => ({
        id: `d-1-${type}`,
        type,
        timeMs,
        deployment: 'd-1',
        service: 's',
        environment: 'e',
        version: '1.0.0',
        actor: 'ci',
        kind: 'release',
      });
      const submit = (e: DeploymentEvent) =>
        writer.write({ events: [e], source: 'test', receivedMs: e.timeMs, timed: [true], pointers: [''] });
      await submit(event('deployment.started', 1000));
      await submit(event('deployment.succeeded', 2000));
      await writer.drain();
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all(reads);
      expect(seen).toEqual(['deployment.started:in_progress', 'deployment.succeeded:succeeded']);
    } finally {
      await store.close();
      await database.destroy();
    }
  });
});
