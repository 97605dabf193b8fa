/**
 * The dashboard in a real browser (DESIGN.md §12): Debian's chromium driven by playwright-core
 * against the real built server on a real port, seeded through the API. Log in with a token;
 * the matrix follows a posted deployment live, without reload, respecting its filter; a viewer
 * cannot approve and an approver can; the inclusion proof verifies in the browser and a proof
 * with one hash changed fails loudly; axe finds no serious or critical violation on any view in
 * light or dark mode; each view is saved as a screenshot under test-results/dashboard/. Last,
 * the matrix of 500 services × 6 environments is loaded and its first meaningful paint printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

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

const CONFIG = `
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

describe('dashboard in chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
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
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-dash-'));
    const config = path.join(dataDir, 'shiplog.yaml');
    fs.writeFileSync(config, CONFIG);
    server = await startServerProcess({
      dataDir,
      env: { SHIPLOG_BOOTSTRAP_TOKEN: ADMIN },
      args: ['--config', config, '--rate-limit', 'off'],
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
  });

  it('logs in with a token and follows a posted deployment live, without reload, respecting the filter', async () => {
    const page = await loggedIn(ADMIN);
    await page.goto(`${server.url}/?q=payments`);
    await page.waitForSelector('[data-testid=matrix] tr[data-service="payments-api"]');
    await page.waitForSelector('[data-testid=stream-state]:has-text("live")');
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

  it('has no serious or critical accessibility violation on any view, in light and dark mode', async () => {
    const views: [string, string][] = [
      ['matrix', '/'],
      ['feed', '/feed'],
      ['deployment', '/deployments/checkout-api-production-1'],
      ['approvals', '/approvals'],
      ['incidents', '/incidents'],
      ['incident', '/incidents/INC-7'],
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
        await page.screenshot({ path: path.join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
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
