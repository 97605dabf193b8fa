/**
 * Starts shiplog: opens the store (migrating it), creates the bootstrap token, listens, and
 * on SIGTERM/SIGINT stops accepting, lets in-flight requests finish, commits what was
 * acknowledged and closes the database.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { RuntimeConfig } from '../config.js';
import { loadConfigFile, type ConfigFile } from '../config-file.js';
import { loadSecretVariables } from '../config.js';
import type { ReceiverSecrets } from '../alerts/receivers.js';
import { ShiplogError } from '../errors.js';
import { createTicketChecker, type TicketChecker } from '../governance/ticket-check.js';
import type { OutboundSink } from '../outbound/cdevents-forwarder.js';
import { openStore, type Store } from '../store/database.js';
import { loadLedgerSigner } from '../store/ledger-keys.js';
import { createLedger, type Ledger } from '../store/ledger-repository.js';
import { buildApp } from './app.js';
import type { Leader } from './leader.js';
import { createLogger } from './logger.js';

/** How often the leader runs the retention job (docs/retention.md); a month is cut at most once. */
const RETENTION_EVERY_MS = 60 * 60 * 1000;

export interface Running {
  readonly server: FastifyInstance;
  readonly store: Store;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `file` is the configuration file when the caller has read it already (`shiplog serve` reads
 * it once, with the settings); otherwise it is read from `config.configFile`.
 */
export async function startServer(config: RuntimeConfig, file?: ConfigFile): Promise<Running> {
  const logger = createLogger(config.logLevel);
  // Before the database: an invalid configuration file stops start-up naming file, line and field.
  file ??= loadConfigFile(config.configFile);
  const sinks = outboundSinks(file);
  const tickets = ticketChecker(file, config.outboundMaxBytes);
  const alertSecrets = receiverSecrets(file);
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    onConnectionError: (error) =>
      logger.warn({ err: error }, 'PostgreSQL closed an idle connection; the pool opens a new one'),
  });
  let ledger: Ledger;
  try {
    const signer = loadLedgerSigner({
      dataDir: config.dataDir,
      signingKey: config.signingKey,
      origin: config.ledgerOrigin,
    });
    ledger = createLedger(store, { signer, origin: config.ledgerOrigin });
    if (config.bootstrapToken) {
      await store.tokens.ensureBootstrap(config.bootstrapToken, ledger);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const { server, leader } = await buildApp({
    store,
    logger,
    ledger,
    policy: file.policy,
    kubernetes: file.kubernetes,
    tickets,
    correlation: file.correlation,
    services: file.services,
    reports: file.reports,
    verification: file.verification,
    dora: file.dora,
    rateLimit: config.rateLimit,
    timeouts: config.timeouts,
    alerts: file.alerts,
    alertSecrets,
    webhooks: {
      secrets: config.webhookSecrets,
      mappings: file.mappings,
      outbound: { sinks },
    },
  });
  if (file.retention)
    await scheduleRetention(leader, { store, ledger, file, dataDir: config.dataDir }, logger);
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

/** The gate's ticket checker with its token read from the variable the config names; none without `tickets:`. */
function ticketChecker(file: ConfigFile, maxBytes: number): TicketChecker | undefined {
  const config = file.tickets;
  if (config === undefined) return undefined;
  const variable = config.tokenVariable;
  if (variable === undefined) return createTicketChecker(config, { maxBytes });
  const token = loadSecretVariables([variable])[variable];
  if (token === undefined) {
    throw new ShiplogError(
      'SHIPLOG_CONFIG',
      `tickets.tokenVariable names ${variable}, which is not set in the environment`,
    );
  }
  return createTicketChecker(config, { token, maxBytes });
}

/** The config's CDEvents sinks with their tokens read from the variables it names. */
function outboundSinks(file: ConfigFile): OutboundSink[] {
  const names = file.outbound.flatMap((s) => (s.tokenVariable ? [s.tokenVariable] : []));
  const secrets = loadSecretVariables(names);
  return file.outbound.map((sink) => {
    if (sink.tokenVariable && secrets[sink.tokenVariable] === undefined) {
      throw new ShiplogError(
        'SHIPLOG_CONFIG',
        `webhooks.outbound "${sink.name}" names ${sink.tokenVariable}, which is not set in the environment`,
      );
    }
    return {
      name: sink.name,
      url: sink.url,
      format: sink.format,
      environments: sink.environments,
      dashboardUid: sink.dashboardUid,
      token: sink.tokenVariable ? secrets[sink.tokenVariable] : undefined,
      tokenVariable: sink.tokenVariable,
    };
  });
}

/**
 * Each alert receiver's secrets, read from the variables the config names (never the file). A
 * variable that is not set stops start-up: a page that cannot be sent must not be a surprise.
 */
function receiverSecrets(file: ConfigFile): Record<string, ReceiverSecrets> {
  const out: Record<string, ReceiverSecrets> = {};
  for (const receiver of Object.values(file.alerts.receivers)) {
    const variable =
      receiver.type === 'pagerduty'
        ? receiver.routingKeyEnv
        : receiver.type === 'slack'
          ? receiver.urlEnv
          : receiver.type === 'opsgenie'
            ? receiver.apiKeyEnv
            : receiver.secretEnv;
    if (variable === undefined) {
      out[receiver.name] = {};
      continue;
    }
    const value = loadSecretVariables([variable])[variable];
    if (value === undefined) {
      throw new ShiplogError(
        'SHIPLOG_CONFIG',
        `alerts.receivers "${receiver.name}" names ${variable}, which is not set in the environment`,
      );
    }
    out[receiver.name] =
      receiver.type === 'pagerduty'
        ? { routingKey: value }
        : receiver.type === 'slack'
          ? { url: value }
          : receiver.type === 'opsgenie'
            ? { apiKey: value }
            : { secret: value };
  }
  return out;
}

/**
 * The retention job (src/retention/archiver.ts), run by the leader every hour when shiplog.yaml
 * has a `retention:` section: archives the months past `hot`, retires what is past its age.
 */
async function scheduleRetention(
  leader: Leader,
  deps: { store: Store; ledger: Ledger; file: ConfigFile; dataDir: string },
  logger: FastifyBaseLogger,
): Promise<void> {
  const { setUpRetention } = await import('../retention/retention-setup.js');
  const { readKnownVerifiers } = await import('../store/ledger-keys.js');
  const { retention, storage } = await setUpRetention({
    ...deps,
    verifiers: readKnownVerifiers(deps.dataDir),
  });
  leader.every('retention', RETENTION_EVERY_MS, async function runRetention() {
    const report = await retention.runArchive(Date.now());
    for (const month of report.archived)
      logger.info({ ...month, location: storage.location }, 'archived a month');
    for (const month of report.purged) logger.info(month, 'retired the payloads of an archived month');
    if (report.nonProduction.entries > 0)
      logger.info(report.nonProduction, 'retired non-production payloads');
    for (const failure of report.failures) {
      logger.error(
        { month: failure.month, problem: failure.problem },
        'an archive segment does not verify; nothing of it was deleted',
      );
    }
  });
}
