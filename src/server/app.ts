/**
 * The Fastify application, separate from `listen()` so tests drive it with `inject()` or a
 * real port. Routes are thin: they declare who may call them (src/server/access.ts), validate,
 * call the store, serialize.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { registerAccessGuard, type DeclaredRoute } from './access.js';
import { createAuthenticator } from './auth.js';
import type { AppContext } from './context.js';
import { registerErrorHandler } from './error-handler.js';
import { createMetrics, observeDora } from './metrics.js';
import { createLeader, type Leader } from './leader.js';
import { registerDeploymentRoutes } from './routes/deployments.js';
import { registerEventRoutes } from './routes/events.js';
import { registerLedgerRoutes } from './routes/ledger.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerAdmissionRoutes } from './routes/admission.js';
import { registerWebhookRoutes, type WebhookOptions } from './routes/webhooks.js';
import { registerApprovalRoutes } from './routes/approvals.js';
import { registerGateRoutes } from './routes/gate.js';
import { registerPolicyRoutes } from './routes/policies.js';
import { registerViolationRoutes } from './routes/violations.js';
import { registerIncidentRoutes } from './routes/incidents.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { createAlerts, type Alerts } from '../alerts/engine.js';
import type { AlertsConfig } from '../alerts/alerts-config.js';
import type { DispatcherOptions } from '../alerts/dispatcher.js';
import type { ReceiverSecrets } from '../alerts/receivers.js';
import { registerIncidentWebhookRoutes } from './routes/incident-webhooks.js';
import { registerDoraRoutes } from './routes/dora.js';
import { createDoraMetrics } from '../metrics/dora.js';
import type { DoraConfig } from '../metrics/dora-config.js';
import { incidentOfCdevent } from '../ingest/cdevents-incident.js';
import { createIncidents, type ServiceConfig } from '../correlate/incidents.js';
import type { CorrelationSettings } from '../domain/correlation.js';
import type { RateLimit } from '../config.js';
import type { KubernetesMapping, ReportsConfig } from '../config-file.js';
import { registerReportRoutes } from './routes/reports.js';
import { createTokenUsageRecorder } from '../reports/token-usage.js';
import { DEFAULT_TIMEOUTS, type ServerTimeouts } from '../config.js';
import { createGovernance } from '../governance/deps.js';
import type { TicketChecker } from '../governance/ticket-check.js';
import type { Policy } from '../policy/index.js';
import type { Store } from '../store/database.js';
import { createEventWriter, type EventWriter } from '../store/event-writer.js';
import { createLedger, type Ledger } from '../store/ledger-repository.js';
import { generateSigner } from '../ledger/note.js';
import { createSilences, type Silences } from '../alerts/silences.js';
import type { StoredEvent } from '../domain/write-plan.js';
import { createVerifier, type VerificationListener, type Verifier } from '../verification/verifier.js';
import type { VerificationCheck } from '../verification/verification-config.js';
import { registerSilenceRoutes } from './routes/silences.js';

/** How often the leader checks the time-based alert rules, and works through notifications. */
const ALERT_RULES_EVERY_MS = 15_000;
const ALERT_DISPATCH_EVERY_MS = 1000;
import { createStreamHub, type StreamHub } from '../stream/hub.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerStreamRoutes } from './routes/stream.js';
import { isDashboardPage, registerDashboard, type Dashboard } from './web.js';

export const BODY_LIMIT = 1024 * 1024;
const CHECKPOINT_EVERY_MS = 5000;
const DEFAULT_ORIGIN = 'shiplog.local/ledger';

export interface AppOptions {
  readonly store: Store;
  readonly logger?: FastifyBaseLogger | undefined;
  /**
   * The ledger every audit-relevant write appends to. Default: one over `store` signed by a
   * fresh in-memory key (tests); `shiplog serve` passes one with the data folder's key.
   */
  readonly ledger?: Ledger;
  readonly version?: string;
  /** The governance policy (`environments:` of shiplog.yaml); default: nothing governed. */
  readonly policy?: Policy | undefined;
  /** Namespace → environment for the Kubernetes admission webhook; default: none mapped. */
  readonly kubernetes?: KubernetesMapping | undefined;
  /** Confirms gate tickets with Jira or ServiceNow (`tickets:` of shiplog.yaml); default: not checked. */
  readonly tickets?: TicketChecker | undefined;
  /** Webhook secrets (from the environment) and mapping rules (`mappings:` of shiplog.yaml). */
  readonly webhooks?: WebhookOptions | undefined;
  /** `correlation:` of shiplog.yaml; default: 15-minute window, 24-hour lookback, depth 1. */
  readonly correlation?: CorrelationSettings | undefined;
  /** `services:` of shiplog.yaml: teams and dependencies (the imported catalog adds to it). */
  readonly services?: Readonly<Record<string, ServiceConfig>> | undefined;
  /** `dora:` of shiplog.yaml; default: incidents of sev2 or worse count. */
  readonly dora?: DoraConfig | undefined;
  /** Requests per token (or client address) and window; default: not limited (`shiplog serve` passes its setting). */
  readonly rateLimit?: RateLimit | null | undefined;
  /** `reports:` of shiplog.yaml: the time zone of report months; default UTC. */
  readonly reports?: ReportsConfig | undefined;
  /** How often counted token use is written (ms; 0: only on demand and at close); default 30 s. */
  readonly tokenUsageFlushMs?: number | undefined;
  /** Request, header and idle timeouts (RuntimeConfig.timeouts); default {@link DEFAULT_TIMEOUTS}. */
  readonly timeouts?: ServerTimeouts | undefined;
  /**
   * Who runs background work; default a leader over `store.leases`, started when the server is
   * ready and stopped when it closes.
   */
  readonly leader?: Leader | undefined;
  /** `verification:` of shiplog.yaml: checks after a deployment succeeds or is rolled back. */
  readonly verification?: readonly VerificationCheck[] | undefined;
  /** Told when a verification is decided (`failed` raises `verification_failed`). */
  readonly onVerificationFinished?: VerificationListener | undefined;
  /** `alerts:` of shiplog.yaml; default: no rules. */
  readonly alerts?: AlertsConfig | undefined;
  /** Per receiver, the secrets read from the variables the config names. */
  readonly alertSecrets?: Readonly<Record<string, ReceiverSecrets>> | undefined;
  /** Retries, deadlines and the Slack pace of notifications (tests shorten them). */
  readonly alertDelivery?: DispatcherOptions | undefined;
}

export interface App {
  readonly server: FastifyInstance;
  readonly writer: EventWriter;
  readonly ledger: Ledger;
  /** Every route with its declared access (filled when the server is ready). */
  readonly routes: readonly DeclaredRoute[];
  readonly leader: Leader;
  /** Alertmanager silences while services deploy; null without `alerts.suppression`. */
  readonly silences: Silences | null;
  readonly verifier: Verifier;
  readonly alerts: Alerts;
  /** The live stream's fan-out (GET /v1/stream). */
  readonly hub: StreamHub;
}

/** How often Node looks for requests past their timeout (its default, 30 s, would double ours). */
const TIMEOUT_CHECK_MS = 1000;

export async function buildApp(options: AppOptions): Promise<App> {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const server = Fastify({
    loggerInstance: options.logger,
    bodyLimit: BODY_LIMIT,
    // A client that stalls its upload holds up to BODY_LIMIT of memory and a socket: every
    // phase of a request is bounded (docs/security.md, Limits).
    http: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, timeouts.headersMs),
    },
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: true, allErrors: true, useDefaults: true },
    },
  });
  const metrics = createMetrics(options.store.environments);
  const ledger =
    options.ledger ??
    createLedger(options.store, { signer: generateSigner(DEFAULT_ORIGIN).signer, origin: DEFAULT_ORIGIN });
  const alerts = createAlerts({
    store: options.store,
    ledger,
    config: options.alerts,
    policy: options.policy,
    secrets: options.alertSecrets,
    logger: server.log,
    dispatcher: options.alertDelivery,
  });
  const suppression = options.alerts?.suppression;
  const silences = suppression
    ? createSilences({ store: options.store, settings: suppression, ledger, logger: server.log })
    : null;
  const verifier = createVerifier({
    store: options.store,
    ledger,
    checks: options.verification ?? [],
    // A finished verification raises (or resolves) `verification_failed`.
    onVerificationFinished: async (deployment, result) => {
      if (result.status === 'failed' || result.status === 'passed')
        await alerts.evaluate({
          kind: 'verification',
          deployment: deployment.deployment,
          status: result.status,
        });
      await options.onVerificationFinished?.(deployment, result);
    },
    logger: server.log,
  });
  // Silences and verification runs start from committed events; what they start is in the
  // database, and close waits for it so the store is not closed under it.
  const afterCommit = new Set<Promise<void>>();
  const deploymentsChanged = (stored: readonly StoredEvent[]) => {
    const work = Promise.all([silences?.onEvents(stored), verifier.onEvents(stored)]).then(
      () => undefined,
      (error: unknown) => server.log.warn({ err: error }, 'starting a silence or a verification failed'),
    );
    afterCommit.add(work);
    void work.finally(() => afterCommit.delete(work));
  };
  const writer = createEventWriter(options.store, {
    ledger,
    onCommit: (stored) => {
      metrics.commitEvents.observe(stored.length);
      if (silences !== null || (options.verification?.length ?? 0) > 0) deploymentsChanged(stored);
      // After the commit and off the request's path: rules judge only what changed.
      alerts.onCommit(stored);
    },
  });
  const incidents = createIncidents({
    store: options.store,
    ledger,
    correlation: options.correlation,
    services: options.services,
  });
  const usage = createTokenUsageRecorder(options.store.reports, {
    intervalMs: options.tokenUsageFlushMs,
    onError: (error) => server.log.warn({ err: error }, 'could not write token use; kept for the next flush'),
  });
  const ctx: AppContext = {
    store: options.store,
    writer,
    ledger,
    auth: createAuthenticator(options.store.tokens, undefined, (token) => usage.record(token.id)),
    metrics,
    incidents,
    dora: createDoraMetrics({
      store: options.store,
      incidents,
      services: options.services,
      config: options.dora,
    }),
    leader: options.leader ?? createLeader(options.store.leases, { logger: server.log }),
    silences,
    verifier,
    alerts,
  };
  observeDora(metrics.registry, ctx.dora);

  const pages: { dashboard?: Dashboard } = {};
  registerErrorHandler(server, () => {
    const { dashboard } = pages;
    return dashboard ? { matches: isDashboardPage, send: (reply) => dashboard.sendIndex(reply) } : undefined;
  });
  // Before any route: the guard checks that each one declares who may call it.
  const routes = await registerAccessGuard(server, { auth: ctx.auth, rateLimit: options.rateLimit ?? null });
  // While closing, every answer closes its connection: a request in flight when SIGTERM came
  // would otherwise leave its keep-alive connection open, and the process waiting for the
  // client to drop it (72 s, the keep-alive timeout clients are told).
  let closing = false;
  server.addHook('preClose', async function refuseKeepAlive() {
    closing = true;
  });
  server.addHook('onSend', async function closeConnectionWhenClosing(_request, reply) {
    if (closing) void reply.header('connection', 'close');
  });
  // The API speaks JSON only: anything else is a 415, not a string body.
  server.removeContentTypeParser('text/plain');
  server.addHook('onResponse', async function observe(request, reply) {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.requestSeconds.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    request.log.info(
      {
        method: request.method,
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'shiplog', version: options.version ?? '0.1.0', description: 'Deployment tracking API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await server.register(async function apiDocs(docs) {
    // The docs UI's routes are the plugin's: declared public here rather than one by one.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  server.get('/v1/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () =>
    server.swagger(),
  );

  registerOpsRoutes(server, ctx);
  registerEventRoutes(server, ctx);
  registerDeploymentRoutes(server, ctx);
  registerTokenRoutes(server, ctx);
  registerLedgerRoutes(server, ctx);
  const governance = createGovernance({ ...options, ledger: ctx.ledger });
  registerPolicyRoutes(server, governance);
  registerApprovalRoutes(server, ctx, governance);
  registerGateRoutes(server, ctx, governance);
  registerViolationRoutes(server, governance);
  registerAdmissionRoutes(server, governance);
  const cdeventRules = options.webhooks?.mappings?.rules?.cdevents;
  registerWebhookRoutes(server, ctx, {
    ...options.webhooks,
    onRecord: async function cdeventIncident(record) {
      const report = incidentOfCdevent(record.recordType, record.data, record.timeMs, cdeventRules);
      if (!report) return undefined;
      const [result] = await ctx.incidents.record([report], `webhook:${record.source}`, [record.id]);
      return result ? { incident: { key: result.incident.key, status: result.status } } : undefined;
    },
  });
  registerIncidentWebhookRoutes(server, ctx, {
    secrets: options.webhooks?.secrets,
    mappings: options.webhooks?.mappings,
  });
  registerIncidentRoutes(server, ctx, ctx.incidents);
  registerCatalogRoutes(server, ctx, options.services);
  registerReportRoutes(server, ctx, {
    policy: options.policy ?? { environments: {} },
    timeZone: options.reports?.timeZone ?? 'UTC',
    usage,
  });
  registerSilenceRoutes(server, ctx);
  registerDoraRoutes(server, ctx.dora);
  registerAlertRoutes(server, ctx);
  registerSessionRoutes(server, ctx);
  const hub = createStreamHub({
    feed: options.store.ledgerFeed,
    onError: (error) => server.log.warn({ err: error }, 'live stream: reading the ledger failed'),
  });
  registerStreamRoutes(server, hub);
  // Streams never finish by themselves: end them first, so closing waits only for real requests.
  server.addHook('preClose', async function endStreams() {
    await hub.close();
  });
  pages.dashboard = await registerDashboard(server);
  // Records kept before incidents existed become incidents once (idempotent, ledgered).
  server.addHook('onReady', async function migrateIncidentRecords() {
    const read = await ctx.incidents.migrateRecords(cdeventRules);
    if (read > 0)
      server.log.info({ records: read }, 'turned stored CDEvents incident records into incidents');
  });
  // Under load, a checkpoint at most every CHECKPOINT_EVERY_MS; GET /v1/ledger/checkpoint cuts on demand.
  ctx.leader.every('checkpoint', CHECKPOINT_EVERY_MS, async () => {
    await ledger.cutCheckpoint();
  });
  if (silences !== null) ctx.leader.every('silences', silences.tickIntervalMs, () => silences.tick());
  if ((options.verification?.length ?? 0) > 0) {
    ctx.leader.every('verification', verifier.tickIntervalMs, async () => {
      await verifier.tick();
    });
  }
  if (alerts.config.rules.length > 0) {
    // Time-based rules (overdue, approval_overdue, frequency); notifications every second.
    ctx.leader.every('alert-rules', ALERT_RULES_EVERY_MS, () => alerts.checkTimedRules());
    ctx.leader.every('alert-notifications', ALERT_DISPATCH_EVERY_MS, () => alerts.dispatch());
  }
  server.addHook('onReady', async function startBackgroundWork() {
    ctx.leader.start();
  });
  server.addHook('onClose', async () => {
    await ctx.leader.stop();
    await writer.drain();
    await Promise.all(afterCommit);
    // Token use is counted per replica (not leader work): each one writes its own counts.
    await usage
      .close()
      .catch((error: unknown) => server.log.warn({ err: error }, 'could not write token use'));
    await alerts.idle();
  });
  return { server, writer, ledger, routes, leader: ctx.leader, silences, verifier, alerts, hub };
}
