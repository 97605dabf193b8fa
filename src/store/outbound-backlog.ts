/** How far each CDEvents sink is behind the events log (for /metrics). */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Events recorded after each sink's position, by sink name; a sink not yet started has none. */
export async function outboundBacklog(
  db: Kysely<Database>,
  sinks: readonly string[],
): Promise<Record<string, number>> {
  if (sinks.length === 0) return {};
  const [end, positions] = await Promise.all([
    db
      .selectFrom('events')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst(),
    db.selectFrom('outbound_sinks').select(['sink', 'last_seq']).where('sink', 'in', sinks).execute(),
  ]);
  const last = Number(end?.seq ?? 0);
  const backlog: Record<string, number> = {};
  for (const row of positions) backlog[row.sink] = Math.max(0, last - Number(row.last_seq));
  return backlog;
}
