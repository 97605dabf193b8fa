/**
 * Starts shiplog: opens the store (migrating it), creates the bootstrap token, listens, and
 * on SIGTERM/SIGINT stops accepting, lets in-flight requests finish, commits what was
 * acknowledged and closes the database.
 */
import type { FastifyInstance } from 'fastify';
import type { RuntimeConfig } from '../config.js';
import { openStore, type Store } from '../store/database.js';
import { ensureBootstrapToken } from '../store/tokens-repository.js';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';

export interface Running {
  readonly server: FastifyInstance;
  readonly store: Store;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startServer(config: RuntimeConfig): Promise<Running> {
  const logger = createLogger(config.logLevel);
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  if (config.bootstrapToken) await ensureBootstrapToken(store.db, config.bootstrapToken);
  const { server } = await buildApp({ store, logger });
  await server.listen({ port: config.port, host: config.host });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, database: store.dialect, location: store.location }, 'shiplog listening');
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      await server.close();
      await store.close();
      logger.info('stopped');
    })());
  return { server, store, url, stop };
}
