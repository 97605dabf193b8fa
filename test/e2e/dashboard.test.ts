/**
 * The dashboard in a real browser (DESIGN.md §12): Debian's chromium driven by playwright-core
 * against the real built server on a real port, seeded through the API. Log in with a token;
 * the matrix follows a posted deployment live, without reload, respecting its filter; a viewer
 * cannot approve and an approver can; the inclusion proof verifies in the browser and a proof
 * with one hash changed fails loudly; the alerts view lists an alert a failed production
 * deployment raised, which a deployer acknowledges and a viewer cannot; the DORA view shows the
 * figures, counts and drill-down lists GET /v1/metrics/dora answers; axe finds no serious or
 * critical violation on any view in light or dark mode; each view is saved as a screenshot
 * under test-results/dashboard/. Last, the matrix of 500 services × 6 environments is loaded
 * and its first meaningful paint printed. On each database (PostgreSQL's stream wakes on NOTIFY).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { startStandIn, type StandIn } from '../helpers/standin.js';

const ADMIN = 'e2e-dashboard-admin';
const SHOTS = path.join(ROOT, 'test-results', 'dashboard');
const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The policy, and one alert rule whose notifications go to a stand-in webhook receiver. */
const config = (hook: string) => `
alerts:
  rules:
    - {name: prod-failed, when: deployment_failed, match: {environment: production}, severity: critical}
  route:
    receiver: hook
    group_wait: 1s
  receivers:
    - {name: hook, webhook: {url: '${hook}/hook'}}
environments:
  production:
    protected: true
    approvals: 1
  staging:
    protected: false
    freezes:
      - from: '2020-01-01T00:00:00Z'
        to: '2099-01-01T00:00:00Z'
        reason: test-freeze
`;

/** Waits until no part of the view says it is loading (locators: the page's CSP forbids eval). */
async function settled(page: Page): Promise<void> {
  const loading = page.locator('[role=status]', { hasText: /^Loading/ });
  while ((await loading.count()) > 0) await page.waitForTimeout(50);
}

describe.each(DIALECTS)('dashboard in chromium (%s)', (dialect) => {
  let server: ServerProcess;
  let database: TestDatabase;
  let hook: StandIn;
  let browser: Browser;
  const shot = (name: string) => path.join(SHOTS, `${name}${dialect === 'sqlite' ? '' : `-${dialect}`}.png`);
  const tokens: Record<string, string> = {};
  const contexts: BrowserContext[] = [];

  async function api(
    method: string,
    url: string,
    body?: unknown,
    token = ADMIN,
  ): Promise<Record<string, unknown>> {
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  const event = (type: string, deployment: string, service: string, environment: string, extra = {}) => ({
    type,
    deployment,
    service,
    environment,
    version: '1.0.0',
    actor: 'alice',
    ...extra,
  });

  /** A fresh browser context logged in through the form with `token`. */
  async function loggedIn(token: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser.newContext({ colorScheme, viewport: { width: 1400, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('.top .who');
    return page;
  }

  beforeAll(async () => {
    hook = await startStandIn();
    database = await freshDatabase(dialect);
    const configFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-dash-')), 'shiplog.yaml');
    fs.writeFileSync(configFile, config(hook.url));
    server = await startServerProcess({
      dataDir: database.dataDir,
      env: {
        SHIPLOG_BOOTSTRAP_TOKEN: ADMIN,
        ...(database.databaseUrl === undefined ? {} : { SHIPLOG_DATABASE_URL: database.databaseUrl }),
      },
      args: ['--config', configFile, '--rate-limit', 'off'],
    });
    for (const role of ['viewer', 'approver', 'deployer'] as const) {
      tokens[role] = (await api('POST', '/v1/tokens', { name: `${role}-e2e`, role })).token as string;
    }
    const events = [];
    for (const [service, versions] of [
      ['payments-api', ['2.1.0', '2.0.0', '2.0.0']],
      ['checkout-api', ['1.5.0', '1.5.0', '1.4.0']],
      ['search', ['0.9.0', '0.9.0', '0.9.0']],
    ] as const) {
      ['dev', 'staging', 'production'].forEach((env, i) => {
        const key = `${service}-${env}-1`;
        const v = { version: versions[i], region: env === 'production' ? 'eu-west-1' : undefined };
        events.push(
          event('deployment.started', key, service, env, v),
          event('deployment.succeeded', key, service, env, v),
        );
      });
    }
    events.push(
      event('deployment.started', 'canary-1', 'search', 'production', {
        version: '1.0.0',
        cohort: 'canary',
        traffic: 10,
      }),
    );
    events.push(
      event('deployment.requested', 'needs-approval', 'checkout-api', 'production', { version: '1.6.0' }),
    );
    events.push(event('deployment.started', 'fail-1', 'checkout-api', 'staging', { version: '1.6.0' }));
    events.push(event('deployment.failed', 'fail-1', 'checkout-api', 'staging'));
    await api('POST', '/v1/events', { events });
    await api('POST', '/v1/incidents', {
      key: 'INC-7',
      title: 'payments errors',
      service: 'payments-api',
      environment: 'production',
      severity: 'sev2',
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: BROWSER_ARGS,
    });
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.stop();
    await hook?.close();
    await database?.destroy();
  });

  it('logs in with a token and follows a posted deployment live, without reload, respecting the filter', async () => {
    const page = await loggedIn(ADMIN);
    const stream = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/stream');
    await page.goto(`${server.url}/?q=payments`);
    await page.waitForSelector('[data-testid=matrix] tr[data-service="payments-api"]');
    await page.waitForSelector('[data-testid=stream-state]:has-text("live")');
    // The browser asks for compression, as browsers do: what follows arrives deflated.
    expect((await stream).headers()['content-encoding']).toBe('deflate');
    await page.evaluate('window.__notReloaded = true');
    // Outside the filter first, then inside: once the second shows, the first was handled too.
    await api(
      'POST',
      '/v1/events',
      event('deployment.succeeded', 'other-1', 'other-svc', 'dev', { version: '9.9.9' }),
    );
    const posted = Date.now();
    await api(
      'POST',
      '/v1/events',
      event('deployment.succeeded', 'pay-live', 'payments-api', 'dev', { version: '2.2.0' }),
    );
    await page
      .locator('tr[data-service="payments-api"] td[data-env="dev"]')
      .getByText('2.2.0')
      .waitFor({ timeout: 2000 });
    console.log(`matrix updated ${Date.now() - posted} ms after the deployment was posted`);
    expect(await page.evaluate('window.__notReloaded === true')).toBe(true);
    expect(await page.locator('tr[data-service="other-svc"]').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('q')).toBe('payments');
  });

  it('highlights drift, shows the freeze and protection chips, a failed attempt, and elapsed against expected', async () => {
    const page = await loggedIn(ADMIN);
    await page.goto(`${server.url}/?q=payments`);
    const cell = (env: string) => page.locator(`tr[data-service="payments-api"] td[data-env="${env}"]`);
    await cell('staging').waitFor();
    // payments-api runs 2.0.0 in staging and another version upstream in dev: staging drifts;
    // production runs staging's version.
    const dev = await cell('dev').locator('.version').textContent();
    expect(dev).not.toBe('2.0.0');
    expect(await cell('staging').getAttribute('class')).toBe('drift');
    expect(await cell('staging').locator('.drift-note').textContent()).toBe(`≠ dev runs ${dev}`);
    expect(await cell('production').getAttribute('class')).toBeNull();
    const header = (env: string) => page.getByRole('columnheader', { name: new RegExp(`^${env}`) });
    expect(await header('staging').locator('.chip-frozen').textContent()).toMatch(/test-freeze/);
    expect(await header('production').locator('.chip-protected').count()).toBe(1);
    await page.goto(`${server.url}/?q=checkout`);
    await page.locator('tr[data-service="checkout-api"] td[data-env="staging"] .failed-attempt').waitFor();

    // A service whose one success took 5 minutes, now deploying for 20: overdue.
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    await api('POST', '/v1/events', {
      events: [
        event('deployment.started', 'feed-1', 'feed-svc', 'production', { time: at(40) }),
        event('deployment.succeeded', 'feed-1', 'feed-svc', 'production', { time: at(35) }),
        event('deployment.started', 'feed-2', 'feed-svc', 'production', { version: '1.1.0', time: at(20) }),
      ],
    });
    await page.goto(`${server.url}/feed?service=feed-svc`);
    const item = page.locator('[data-testid=feed] li', { hasText: 'feed-svc' });
    await item.waitFor();
    expect(await item.locator('.overdue').textContent()).toMatch(/^20m elapsed · expected 5m · overdue$/);
    expect(new URL(page.url()).searchParams.get('service')).toBe('feed-svc');
  });

  it('shows no approve button to a viewer (and the API refuses it), and lets an approver approve', async () => {
    const viewer = await loggedIn(tokens.viewer as string);
    await viewer.goto(`${server.url}/deployments/needs-approval`);
    await viewer.waitForSelector('[data-testid=no-approve]');
    expect(await viewer.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    const refused = await viewer.evaluate(
      `fetch('/v1/deployments/needs-approval/approvals', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({decision: 'approve'})}).then((r) => r.status)`,
    );
    expect(refused).toBe(403);

    const approver = await loggedIn(tokens.approver as string);
    await approver.goto(`${server.url}/approvals`);
    await approver
      .getByRole('row', { name: /needs-approval/ })
      .getByRole('button', { name: 'Approve' })
      .waitFor();
    await approver.goto(`${server.url}/deployments/needs-approval`);
    await approver.fill('input[placeholder=comment]', 'looks good');
    await approver.getByRole('button', { name: 'Approve' }).click();
    await approver.locator('[data-testid=approvals]').getByText('approver-e2e').waitFor();
    const decided = await api('GET', '/v1/approvals?state=decided&deployment=needs-approval');
    expect(decided.items).toMatchObject([
      { approver: 'approver-e2e', decision: 'approve', comment: 'looks good' },
    ]);
  });

  it('verifies the inclusion proof in the browser, and fails loudly when one hash is changed', async () => {
    const page = await loggedIn(ADMIN);
    await page.goto(`${server.url}/deployments/payments-api-production-1`);
    const proof = page.locator('[data-testid=proof]');
    await proof.waitFor();
    expect(await proof.textContent()).toMatch(/Verified in this browser/);
    expect(await proof.getAttribute('data-verified')).toBe('true');

    await page.route('**/v1/deployments/*/proof', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { events: { hashes: string[] }[] };
      const first = body.events[0] as { hashes: string[] };
      const hash = first.hashes[0] as string;
      first.hashes[0] = (hash[0] === '0' ? '1' : '0') + hash.slice(1);
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    await page.locator('[data-testid=proof][data-verified=false]').waitFor();
    expect(await page.locator('[data-testid=proof]').textContent()).toMatch(
      /PROOF FAILED[\s\S]*inclusion proof does not lead to the checkpoint root/,
    );
  });

  it('lists the alert a failed production deployment raised; a deployer acknowledges it, a viewer cannot', async () => {
    await api('POST', '/v1/events', {
      events: [
        event('deployment.started', 'alert-fail-1', 'payments-api', 'production', { version: '2.2.0' }),
        event('deployment.failed', 'alert-fail-1', 'payments-api', 'production', { version: '2.2.0' }),
      ],
    });
    const row = (page: Page, status: string) =>
      page.locator(`[data-testid=alerts] tr[data-status=${status}]`, { hasText: 'alert-fail-1' });

    const viewer = await loggedIn(tokens.viewer as string);
    await viewer.goto(`${server.url}/alerts`);
    // Raised after the events' commit, off the request's path: the view shows it when it exists.
    await row(viewer, 'firing').waitFor({ timeout: 15_000 });
    const listed = await api('GET', '/v1/alerts?status=firing');
    const alert = (listed.items as { id: string; deployment: string; rule: string }[]).find(
      (a) => a.deployment === 'alert-fail-1',
    );
    expect(alert).toMatchObject({ rule: 'prod-failed', deployment: 'alert-fail-1' });
    const id = (alert as { id: string }).id;
    expect(await row(viewer, 'firing').getAttribute('data-alert')).toBe(id);
    expect(await row(viewer, 'firing').getByRole('link', { name: 'alert-fail-1' }).getAttribute('href')).toBe(
      '/deployments/alert-fail-1',
    );
    await viewer.locator('[data-testid=no-ack]').waitFor();
    expect(await viewer.getByRole('button', { name: /^Acknowledge/ }).count()).toBe(0);
    const refused = await viewer.evaluate(
      `fetch('/v1/alerts/${id}/ack', {method: 'POST'}).then((r) => r.status)`,
    );
    expect(refused).toBe(403);

    const deployer = await loggedIn(tokens.deployer as string);
    await deployer.goto(`${server.url}/alerts?status=firing`);
    await row(deployer, 'firing')
      .getByRole('button', { name: /^Acknowledge/ })
      .click();
    // Acknowledged: it leaves the firing list; with every status it shows who acknowledged it.
    await row(deployer, 'firing').waitFor({ state: 'detached' });
    await deployer.goto(`${server.url}/alerts`);
    await row(deployer, 'acknowledged').getByText('deployer-e2e').waitFor();
    expect((await api('GET', `/v1/alerts/${id}`)).alert).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'deployer-e2e',
    });
  });

  it('shows the DORA figures with the counts and the deployments behind them, as the API answers', async () => {
    // A rolled-back change: the failure rate and the recovery time have something to show.
    await api('POST', '/v1/events', {
      events: [
        event('deployment.started', 'search-rb-1', 'search', 'production', { version: '0.9.1' }),
        event('deployment.succeeded', 'search-rb-1', 'search', 'production', { version: '0.9.1' }),
        event('deployment.rolled_back', 'search-rb-1', 'search', 'production', { version: '0.9.1' }),
      ],
    });
    const page = await loggedIn(ADMIN);
    await page.goto(`${server.url}/dora?environment=production`);
    await page.locator('[data-testid=dora-frequency]').waitFor();
    await settled(page);
    type Figures = {
      deploymentFrequency: { perDay: number; count: number; explain: { deployments: string[] } };
      changeFailureRate: {
        rate: number | null;
        failed: number;
        total: number;
        explain: { failed: { deployment: string }[]; total: string[] };
      };
      leadTime: { count: number };
      recoveryTime: { count: number };
      reworkRate: { rework: number; total: number };
    };
    const dora = (await api(
      'GET',
      '/v1/metrics/dora?environment=production&explain=true',
    )) as unknown as Figures;
    expect(dora.changeFailureRate.failed).toBeGreaterThan(0);
    const card = (id: string) => page.locator(`[data-testid=dora-${id}]`);
    const text = async (id: string, part: string) => card(id).locator(`[data-testid=${part}]`).textContent();
    expect(await text('frequency', 'figure')).toBe(`${dora.deploymentFrequency.perDay.toFixed(2)}/day`);
    expect(await text('frequency', 'counts')).toMatch(
      new RegExp(`^${dora.deploymentFrequency.count} changes`),
    );
    const rate = dora.changeFailureRate.rate as number;
    expect(await text('failure-rate', 'figure')).toBe(`${(rate * 100).toFixed(1)}%`);
    expect(await text('failure-rate', 'counts')).toMatch(
      new RegExp(`^${dora.changeFailureRate.failed} failed of ${dora.changeFailureRate.total}`),
    );
    expect(await text('lead-time', 'counts')).toContain(`${dora.leadTime.count} changes`);
    expect(await text('recovery', 'counts')).toMatch(new RegExp(`^${dora.recoveryTime.count} recoveries`));
    expect(await text('rework', 'counts')).toBe(
      `${dora.reworkRate.rework} of ${dora.reworkRate.total} changes unplanned`,
    );
    // The drill-down lists exactly the deployments the API counted, each a link to its page.
    const drill = async (id: string, label: string) => {
      await card(id).locator('summary').click();
      return card(id).locator(`[data-testid="drill-${label}"] li > a:first-child`).allTextContents();
    };
    expect(await drill('frequency', 'changes')).toEqual(dora.deploymentFrequency.explain.deployments);
    expect(await drill('failure-rate', 'failed')).toEqual(
      dora.changeFailureRate.explain.failed.map((f) => f.deployment),
    );
    expect(await card('failure-rate').locator('[data-testid="drill-counted"] li').count()).toBe(
      dora.changeFailureRate.explain.total.length,
    );
    await card('failure-rate').getByRole('link', { name: 'search-rb-1' }).first().click();
    await page.waitForURL(`${server.url}/deployments/search-rb-1`);
  });

  it('has no serious or critical accessibility violation on any view, in light and dark mode', async () => {
    const views: [string, string][] = [
      ['matrix', '/'],
      ['feed', '/feed'],
      ['deployment', '/deployments/checkout-api-production-1'],
      ['approvals', '/approvals'],
      ['incidents', '/incidents'],
      ['incident', '/incidents/INC-7'],
      ['alerts', '/alerts'],
      ['dora', '/dora'],
      ['compare', '/compare?a=staging&b=production'],
      ['ledger', '/ledger'],
    ];
    const found: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      const page = await loggedIn(ADMIN, scheme);
      for (const [name, url] of views) {
        await page.goto(`${server.url}${url}`);
        await page.waitForSelector('#page-title');
        await settled(page);
        await page.screenshot({ path: shot(`${name}-${scheme}`), fullPage: true });
        const result = await new AxeBuilder({ page }).analyze();
        for (const v of result.violations) {
          if (v.impact === 'serious' || v.impact === 'critical') {
            found.push(
              `${name} (${scheme}): ${v.id} ${v.help} — ${v.nodes.map((n) => String(n.target)).join(', ')}`,
            );
          }
        }
      }
    }
    expect(found).toEqual([]);
  }, 240_000);

  it('paints the matrix of 500 services × 6 environments (figure printed, not asserted)', async () => {
    const environments = ['dev', 'test', 'qa', 'staging', 'preprod', 'production'];
    const events = [];
    for (let s = 0; s < 500; s += 1) {
      for (const env of environments) {
        events.push(
          event('deployment.succeeded', `bulk-${s}-${env}`, `svc-${String(s).padStart(3, '0')}`, env, {
            version: `1.${s % 7}.0`,
          }),
        );
      }
    }
    for (let i = 0; i < events.length; i += 1000)
      await api('POST', '/v1/events', { events: events.slice(i, i + 1000) });
    const page = await loggedIn(ADMIN);
    // Records, in the page, when the matrix first shows rows and when it holds all 500.
    await page.addInitScript(`
      window.__paint = {};
      new MutationObserver(() => {
        const rows = document.querySelectorAll('[data-testid=matrix] tbody tr').length;
        if (rows > 0 && window.__paint.first === undefined) window.__paint.first = performance.now();
        if (rows >= 500 && window.__paint.all === undefined) window.__paint.all = performance.now();
      }).observe(document, { childList: true, subtree: true });
    `);
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid=matrix] tbody tr').nth(499).waitFor({ timeout: 30_000 });
    const paint = (await page.evaluate('window.__paint')) as { first: number; all: number };
    const fcp = (await page.evaluate(
      "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null",
    )) as number | null;
    console.log(
      `matrix 500 services x 6 environments: first meaningful paint (first rows of the matrix) ${Math.round(paint.first)} ms after navigation, all 500 rows ${Math.round(paint.all)} ms, first contentful paint ${fcp === null ? 'n/a' : Math.round(fcp)} ms`,
    );
    expect(await page.locator('[data-testid=matrix] tbody tr').count()).toBeGreaterThanOrEqual(500);
  });
});
