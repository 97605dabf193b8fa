/**
 * The gate's ticket check (`tickets:` of shiplog.yaml) against stand-in Jira and ServiceNow
 * servers on 127.0.0.1 that speak their response shapes: allowed and other states, unknown
 * tickets, refused tokens, errors, and a server that never answers (a deny, not a hang); the
 * cache; the configuration section; and the gate through the real app on every dialect.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { loadRuntimeConfig } from '../../src/config.js';
import { ShiplogError } from '../../src/errors.js';
import { createTicketChecker, type TicketChecker } from '../../src/governance/ticket-check.js';
import type { TicketCheckConfig } from '../../src/governance/ticket-config.js';
import { startServer } from '../../src/server/serve.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

interface StandIn {
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: { path: string; query: URLSearchParams; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering with `answer`; a request it does not answer hangs. */
async function standIn(
  answer: (url: URL, req: IncomingMessage, res: ServerResponse) => void,
): Promise<StandIn> {
  const requests: StandIn['requests'] = [];
  const server = http.createServer(function standInRequest(req, res) {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    requests.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    answer(url, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const TOKEN = 'provider-token';
/** Jira Cloud: Basic auth with the account's email and an API token. */
const JIRA_CLOUD_BASIC = `Basic ${Buffer.from(`release-bot@acme.example:${TOKEN}`).toString('base64')}`;

/** Jira issues and their status names; OPS-999 never answers, OPS-503 is down, OPS-200 is not JSON. */
const JIRA_ISSUES: Readonly<Record<string, string>> = {
  'OPS-1': 'Approved',
  'OPS-2': 'Open',
  'OPS-3': 'In Progress',
  'OPS-7': 'Approved',
};

/** Jira's REST API v2 as far as shiplog uses it (`GET /rest/api/2/issue/{key}?fields=status`). */
function jira(): Promise<StandIn> {
  return standIn(function jiraAnswer(url, req, res) {
    const key = /^\/rest\/api\/2\/issue\/([^/]+)$/.exec(url.pathname)?.[1];
    if (key === undefined || url.searchParams.get('fields') !== 'status') {
      send(res, 400, { errorMessages: ['unexpected request'], errors: {} });
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}` && req.headers.authorization !== JIRA_CLOUD_BASIC) {
      send(res, 401, { errorMessages: ['You are not authenticated.'], errors: {} });
      return;
    }
    const issue = decodeURIComponent(key);
    if (issue === 'OPS-999') return;
    if (issue === 'OPS-503') {
      send(res, 503, { errorMessages: ['Service unavailable'] });
      return;
    }
    if (issue === 'OPS-200') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Log in</body></html>');
      return;
    }
    const status = JIRA_ISSUES[issue];
    if (status === undefined) {
      send(res, 404, {
        errorMessages: ['Issue does not exist or you do not have permission to see it.'],
        errors: {},
      });
      return;
    }
    send(res, 200, {
      expand: 'renderedFields,names,schema',
      id: '10002',
      self: `${url.origin}/rest/api/2/issue/10002`,
      key: issue,
      fields: { status: { name: status, id: '10001', statusCategory: { key: 'indeterminate' } } },
    });
  });
}

/** change_request numbers and their `state` as ServiceNow returns it (a number as a string, a display value, or a number). */
const CHANGES: Readonly<Record<string, string | number>> = {
  CHG0030001: '-1',
  CHG0030002: '-2',
  CHG0030003: 'Implement',
  CHG0030004: -1,
};

/** ServiceNow's Table API (`GET /api/now/table/change_request?sysparm_query=number=...`). */
function serviceNow(): Promise<StandIn> {
  return standIn(function serviceNowAnswer(url, req, res) {
    if (url.pathname !== '/api/now/table/change_request') {
      send(res, 400, { error: { message: 'Invalid table' }, status: 'failure' });
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}` && req.headers.authorization !== JIRA_CLOUD_BASIC) {
      send(res, 401, {
        error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
        status: 'failure',
      });
      return;
    }
    const number = /^number=(.*)$/.exec(url.searchParams.get('sysparm_query') ?? '')?.[1];
    if (number === 'CHG0099999') return;
    const state = number === undefined ? undefined : CHANGES[number];
    send(res, 200, {
      result: state === undefined ? [] : [{ number, state, sys_id: 'a9e30c7dc61122760116894de7bcc7bd' }],
    });
  });
}

const jiraConfig = (url: string): TicketCheckConfig => ({
  provider: 'jira',
  url,
  allowedStates: ['Approved', 'In Progress'],
  timeoutMs: 300,
  environments: ['production'],
});

describe('the ticket check against Jira', () => {
  let server: StandIn;
  let checker: TicketChecker;
  beforeAll(async () => {
    server = await jira();
    checker = createTicketChecker(jiraConfig(server.url), { token: TOKEN });
  });
  afterAll(async () => server.close());

  it('confirms a ticket in an allowed state, asking for its status with the bearer token', async () => {
    expect(await checker.check('OPS-3')).toEqual({ ok: true, state: 'In Progress' });
    const request = server.requests.find((r) => r.path === '/rest/api/2/issue/OPS-3');
    expect(request?.query.get('fields')).toBe('status');
    expect(request?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('denies a ticket in another state, naming its state and the allowed ones', async () => {
    expect(await checker.check('OPS-2')).toEqual({
      ok: false,
      reason: {
        code: 'ticket_state',
        message: 'ticket OPS-2 is "Open" in Jira; deploys need one of "Approved", "In Progress"',
      },
    });
  });

  it('denies a ticket Jira does not know (404)', async () => {
    expect(await checker.check('OPS-404')).toEqual({
      ok: false,
      reason: { code: 'ticket_not_found', message: 'ticket OPS-404 does not exist in Jira' },
    });
  });

  it('fails closed when Jira never answers: ticket_unverified after the timeout', async () => {
    const verdict = await checker.check('OPS-999');
    expect(verdict).toEqual({
      ok: false,
      reason: {
        code: 'ticket_unverified',
        message:
          'could not verify ticket OPS-999 with Jira: no answer within 300 ms; the gate denies until it can',
      },
    });
  });

  it('fails closed on a refused token, a 5xx, an answer that is not JSON and a closed port', async () => {
    const anonymous = createTicketChecker(jiraConfig(server.url));
    const refused = await anonymous.check('OPS-1');
    expect(refused).toMatchObject({ ok: false, reason: { code: 'ticket_unverified' } });
    expect(!refused.ok && refused.reason.message).toContain("Jira refused shiplog's token (HTTP 401)");

    const down = await checker.check('OPS-503');
    expect(!down.ok && down.reason).toEqual({
      code: 'ticket_unverified',
      message:
        'could not verify ticket OPS-503 with Jira: Jira answered HTTP 503; the gate denies until it can',
    });
    const html = await checker.check('OPS-200');
    expect(!html.ok && html.reason.message).toContain('Jira answered with something other than JSON');

    const gone = await standIn(() => undefined);
    const closedUrl = gone.url;
    await gone.close();
    const unreachable = await createTicketChecker(jiraConfig(closedUrl), { token: TOKEN }).check('OPS-1');
    expect(!unreachable.ok && unreachable.reason.code).toBe('ticket_unverified');
    expect(!unreachable.ok && unreachable.reason.message).toContain('cannot reach Jira (ECONNREFUSED)');
  });

  it('caches a confirmation for a minute, a denial for ten seconds, and shares concurrent checks', async () => {
    let clock = Date.parse('2026-11-26T10:00:00Z');
    const cached = createTicketChecker(jiraConfig(server.url), { token: TOKEN, now: () => clock });
    const asked = (issue: string) => server.requests.filter((r) => r.path.endsWith(`/${issue}`)).length;
    const before = asked('OPS-7');
    const burst = await Promise.all(Array.from({ length: 5 }, () => cached.check('OPS-7')));
    expect(burst.every((verdict) => verdict.ok)).toBe(true);
    expect(await cached.check('OPS-7')).toEqual({ ok: true, state: 'Approved' });
    expect(asked('OPS-7') - before).toBe(1);
    clock += 61_000;
    await cached.check('OPS-7');
    expect(asked('OPS-7') - before).toBe(2);

    const deniedBefore = asked('OPS-2');
    await cached.check('OPS-2');
    expect(await cached.check('OPS-2')).toMatchObject({ ok: false, reason: { code: 'ticket_state' } });
    expect(asked('OPS-2') - deniedBefore).toBe(1);
    clock += 11_000;
    await cached.check('OPS-2');
    expect(asked('OPS-2') - deniedBefore).toBe(2);
  });

  it('regression: a ticket that walks the Jira URL path is refused without asking Jira', async () => {
    const before = server.requests.length;
    for (const ticket of ['..', '../../admin', 'OPS-1/../../../rest/api/2/myself', '%2e%2e', 'OPS-1?x=1']) {
      const verdict = await checker.check(ticket);
      expect(verdict, ticket).toMatchObject({ ok: false, reason: { code: 'ticket_invalid' } });
    }
    expect(server.requests.length).toBe(before);
  });

  it('authenticates to Jira Cloud with Basic auth (email and API token)', async () => {
    const cloud = createTicketChecker(
      { ...jiraConfig(server.url), auth: 'basic', username: 'release-bot@acme.example' },
      { token: TOKEN },
    );
    expect(await cloud.check('OPS-3')).toEqual({ ok: true, state: 'In Progress' });
    expect(server.requests.at(-1)?.authorization).toBe(JIRA_CLOUD_BASIC);
  });

  it('covers only the configured environments', () => {
    expect(checker.covers('production')).toBe(true);
    expect(checker.covers('staging')).toBe(false);
  });
});

describe('the ticket check against ServiceNow', () => {
  let server: StandIn;
  let checker: TicketChecker;
  beforeAll(async () => {
    server = await serviceNow();
    checker = createTicketChecker(
      {
        provider: 'servicenow',
        url: server.url,
        allowedStates: ['-1', 'Implement'],
        timeoutMs: 300,
        environments: ['production'],
      },
      { token: TOKEN },
    );
  });
  afterAll(async () => server.close());

  it('confirms a change in an allowed state, by number or display value, compared as strings', async () => {
    expect(await checker.check('CHG0030001')).toEqual({ ok: true, state: '-1' });
    expect(await checker.check('CHG0030003')).toEqual({ ok: true, state: 'Implement' });
    expect(await checker.check('CHG0030004')).toEqual({ ok: true, state: '-1' });
    const request = server.requests.find((r) => r.query.get('sysparm_query') === 'number=CHG0030001');
    expect(request?.path).toBe('/api/now/table/change_request');
    expect(request?.query.get('sysparm_fields')).toBe('number,state,sys_id');
    expect(request?.query.get('sysparm_limit')).toBe('1');
    expect(request?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('denies a change in another state and a change that does not exist', async () => {
    expect(await checker.check('CHG0030002')).toEqual({
      ok: false,
      reason: {
        code: 'ticket_state',
        message: 'ticket CHG0030002 is "-2" in ServiceNow; deploys need one of "-1", "Implement"',
      },
    });
    expect(await checker.check('CHG0000404')).toEqual({
      ok: false,
      reason: { code: 'ticket_not_found', message: 'ticket CHG0000404 does not exist in ServiceNow' },
    });
  });

  it('fails closed when ServiceNow never answers', async () => {
    const verdict = await checker.check('CHG0099999');
    expect(!verdict.ok && verdict.reason.code).toBe('ticket_unverified');
    expect(!verdict.ok && verdict.reason.message).toContain('with ServiceNow: no answer within 300 ms');
  });

  it('keeps a ticket from adding conditions to the encoded query', async () => {
    // Not a change number: never sent.
    const before = server.requests.length;
    const verdict = await checker.check('CHG0030002^ORstate=-1');
    expect(verdict).toMatchObject({ ok: false, reason: { code: 'ticket_invalid' } });
    expect(server.requests.length).toBe(before);
    // A pattern that lets carets through still cannot add conditions: `^^` is a literal caret.
    const lenient = createTicketChecker(
      {
        provider: 'servicenow',
        url: server.url,
        allowedStates: ['-1'],
        timeoutMs: 300,
        environments: ['production'],
        pattern: '^CHG[0-9]+',
      },
      { token: TOKEN },
    );
    expect(await lenient.check('CHG0030002^ORstate=-1')).toMatchObject({
      ok: false,
      reason: { code: 'ticket_not_found' },
    });
    expect(server.requests.at(-1)?.query.get('sysparm_query')).toBe('number=CHG0030002^^ORstate=-1');
  });
});

describe('the tickets section of shiplog.yaml', () => {
  const environments = [
    'environments:',
    '  production: {protected: true, requireTicket: "^[A-Z]+-[0-9]+$"}',
    '  windowed: {protected: true}',
    '  staging: {protected: false}',
  ];

  it('fills in the defaults: a 2 s timeout and the protected environments', () => {
    const config = parseConfigFile(
      [
        ...environments,
        'tickets:',
        '  provider: jira',
        '  url: https://jira.example.com/',
        '  tokenVariable: SHIPLOG_JIRA_TOKEN',
        '  allowedStates: [Approved, In Progress]',
      ].join('\n'),
      'shiplog.yaml',
    );
    expect(config.tickets).toEqual({
      provider: 'jira',
      url: 'https://jira.example.com',
      tokenVariable: 'SHIPLOG_JIRA_TOKEN',
      auth: 'bearer',
      allowedStates: ['Approved', 'In Progress'],
      timeoutMs: 2000,
      environments: ['production', 'windowed'],
    });
    expect(Object.isFrozen(config.tickets?.allowedStates)).toBe(true);
    expect(config.sections.tickets).toBeUndefined();
    expect(parseConfigFile(environments.join('\n'), 'shiplog.yaml').tickets).toBeUndefined();
  });

  it('reads Basic auth and a ticket pattern, and checks them', () => {
    const config = parseConfigFile(
      [
        ...environments,
        'tickets:',
        '  provider: jira',
        '  url: https://acme.atlassian.net',
        '  auth: basic',
        '  username: release-bot@acme.example',
        '  tokenVariable: SHIPLOG_JIRA_TOKEN',
        "  pattern: '^(OPS|CHG)-[0-9]+$'",
        '  allowedStates: [Approved]',
      ].join('\n'),
      'shiplog.yaml',
    );
    expect(config.tickets).toMatchObject({
      auth: 'basic',
      username: 'release-bot@acme.example',
      pattern: '^(OPS|CHG)-[0-9]+$',
    });
    const bad = (lines: string[]) => {
      try {
        parseConfigFile([...environments, 'tickets:', ...lines].join('\n'), 'shiplog.yaml');
      } catch (error) {
        return (error as ShiplogError).message.split('\n').slice(1);
      }
      throw new Error('expected a problem');
    };
    const base = ['  provider: jira', '  url: https://acme.atlassian.net', '  allowedStates: [Approved]'];
    expect(bad([...base, '  auth: basic'])).toEqual([
      expect.stringContaining(
        'tickets.auth: basic needs `username` (the Jira Cloud email) and `tokenVariable`',
      ),
    ]);
    expect(bad([...base, '  username: someone'])).toEqual([
      expect.stringContaining('tickets.username: is only used with `auth: basic`'),
    ]);
    expect(bad([...base, "  pattern: '^(?!X)'"])).toEqual([
      expect.stringContaining('tickets.pattern: is not a valid regular expression'),
    ]);
  });

  it('names file, line and field of every problem', () => {
    const text = [
      ...environments,
      'tickets:',
      '  provider: bugzilla',
      '  url: jira.example.com',
      '  tokenVariable: s3cr3t-token',
      '  allowedStates: []',
      '  timeoutMs: 5',
      '  environments: [production, qa]',
      '  retries: 3',
    ].join('\n');
    let error: unknown;
    try {
      parseConfigFile(text, 'shiplog.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ShiplogError);
    const lines = (error as ShiplogError).message.split('\n');
    expect(lines).toEqual([
      'shiplog.yaml: 6 problems:',
      'shiplog.yaml:6:13 tickets.provider: must be one of jira, servicenow',
      'shiplog.yaml:7:8 tickets.url: must start with http:// or https://',
      'shiplog.yaml:8:18 tickets.tokenVariable: must be an environment variable name (A-Z, 0-9 and _), not the token itself',
      'shiplog.yaml:9:18 tickets.allowedStates: must not have fewer than 1 items',
      'shiplog.yaml:10:14 tickets.timeoutMs: must be >= 100',
      'shiplog.yaml:12:3 tickets.retries: is not a known key',
    ]);
    expect((error as ShiplogError).details.map((d) => d.path)).toContain('/tickets/provider');
  });

  it('rejects environments that are not configured, and a section that covers nothing', () => {
    const unknown = () =>
      parseConfigFile(
        [
          ...environments,
          'tickets:',
          '  provider: servicenow',
          '  url: https://example.service-now.com',
          '  allowedStates: [Implement]',
          '  environments: [production, qa]',
        ].join('\n'),
        'shiplog.yaml',
      );
    expect(unknown).toThrow(
      'shiplog.yaml:9:30 tickets.environments[1]: names environment "qa", which is not configured under environments',
    );
    const nothing = () =>
      parseConfigFile(
        [
          'environments:',
          '  staging: {protected: false}',
          'tickets: {provider: jira, url: "https://jira.example.com", allowedStates: [Approved]}',
        ].join('\n'),
        'shiplog.yaml',
      );
    expect(nothing).toThrow('shiplog.yaml:3:10 tickets: covers no environment');
  });

  it('stops `shiplog serve` when the token variable is not set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-tickets-'));
    const file = path.join(dir, 'shiplog.yaml');
    fs.writeFileSync(
      file,
      [
        ...environments,
        'tickets:',
        '  provider: jira',
        '  url: https://jira.example.com',
        '  tokenVariable: SHIPLOG_TEST_TICKET_TOKEN_NEVER_SET',
        '  allowedStates: [Approved]',
      ].join('\n'),
    );
    const config = loadRuntimeConfig({ config: file, data: path.join(dir, 'data'), port: 0 }, {});
    await expect(startServer(config)).rejects.toThrow(
      'tickets.tokenVariable names SHIPLOG_TEST_TICKET_TOKEN_NEVER_SET, which is not set in the environment',
    );
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe.each(DIALECTS)('the gate with a ticket check on %s', (dialect) => {
  let server: StandIn;
  let t: TestApp;
  let deployer: string;
  let counter = 0;

  const gate = (body: Record<string, unknown>, token = deployer, query = '') =>
    t.call(
      'POST',
      `/v1/gate${query}`,
      {
        deployment: `tk-${dialect}-${++counter}`,
        service: 'checkout-api',
        environment: 'production',
        version: '1.0.0',
        ...body,
      },
      token,
    );
  type Answer = Awaited<ReturnType<typeof gate>>;
  const reasons = (answer: Answer) =>
    (answer.json() as { reasons: { code: string; message: string }[] }).reasons;
  const codes = (answer: Answer) => reasons(answer).map((r) => r.code);
  const asked = (issue: string) => server.requests.filter((r) => r.path.endsWith(`/${issue}`)).length;

  beforeAll(async () => {
    server = await jira();
    const config = parseConfigFile(
      [
        'environments:',
        '  production:',
        '    protected: true',
        "    requireTicket: '^[A-Z]+-[0-9]+$'",
        '  staging:',
        '    protected: false',
        'tickets:',
        '  provider: jira',
        `  url: ${server.url}`,
        '  tokenVariable: SHIPLOG_JIRA_TOKEN',
        '  allowedStates: [Approved]',
        '  timeoutMs: 300',
      ].join('\n'),
      'shiplog.yaml',
    );
    if (config.tickets === undefined) throw new Error('tickets: not parsed');
    t = await testApp(dialect, {
      policy: config.policy,
      tickets: createTicketChecker(config.tickets, { token: TOKEN }),
    });
    const created = await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer' });
    deployer = (created.json() as { token: string }).token;
  });
  afterAll(async () => {
    await t.close();
    await server.close();
  });

  it('allows a ticket Jira has in an allowed state', async () => {
    const answer = await gate({ ticket: 'OPS-1' });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ allow: true, reasons: [] });
  });

  it('denies a ticket in another state and records the reason', async () => {
    const deployment = `tk-${dialect}-state`;
    const answer = await gate({ deployment, ticket: 'OPS-2' });
    expect(answer.json()).toMatchObject({ allow: false, enforced: true });
    expect(reasons(answer)).toEqual([
      { code: 'ticket_state', message: 'ticket OPS-2 is "Open" in Jira; deploys need one of "Approved"' },
    ]);
    const listed = await t.call('GET', `/v1/gate/decisions?deployment=${deployment}`);
    const items = (listed.json() as { items: { allow: boolean; reasons: { code: string }[] }[] }).items;
    expect(items).toEqual([
      expect.objectContaining({ allow: false, reasons: [expect.objectContaining({ code: 'ticket_state' })] }),
    ]);
  });

  it('denies a ticket Jira does not know', async () => {
    expect(codes(await gate({ ticket: 'OPS-404' }))).toEqual(['ticket_not_found']);
  });

  it('denies, and does not hang, when Jira never answers; an admin override still gets through', async () => {
    const answer = await gate({ ticket: 'OPS-999' });
    expect(answer.json()).toMatchObject({ allow: false });
    expect(codes(answer)).toEqual(['ticket_unverified']);
    expect(reasons(answer)[0]?.message).toContain('no answer within 300 ms');
    const overridden = await gate(
      { ticket: 'OPS-999', override: { justification: 'Jira is down, INC-12' } },
      'test-admin-secret',
    );
    expect(overridden.json()).toMatchObject({ allow: true, overridden: true });
    expect(codes(overridden)).toEqual(['ticket_unverified']);
  });

  it('asks nothing when the ticket is missing or malformed, or the environment is not covered', async () => {
    const before = server.requests.length;
    expect(codes(await gate({}))).toEqual(['ticket_missing']);
    expect(codes(await gate({ ticket: 'ops-2' }))).toEqual(['ticket_invalid']);
    const staging = await gate({ environment: 'staging', ticket: 'OPS-2' });
    expect(staging.json()).toMatchObject({ allow: true, enforced: false, reasons: [] });
    expect(server.requests.length).toBe(before);
  });

  it('checks the ticket for a what-if too, without recording it', async () => {
    const deployment = `tk-${dialect}-whatif`;
    const answer = await gate({ deployment, ticket: 'OPS-2' }, deployer, '?at=2027-01-05T10:00:00Z');
    expect(answer.json()).toMatchObject({ allow: false, simulated: true, decisionId: null });
    expect(codes(answer)).toEqual(['ticket_state']);
    const listed = await t.call('GET', `/v1/gate/decisions?deployment=${deployment}`);
    expect((listed.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('asks Jira once for a burst of gate calls about one ticket', async () => {
    const before = asked('OPS-7');
    const answers = await Promise.all(Array.from({ length: 6 }, () => gate({ ticket: 'OPS-7' })));
    expect(answers.map((a) => (a.json() as { allow: boolean }).allow)).toEqual(Array(6).fill(true));
    expect(asked('OPS-7') - before).toBe(1);
  });
});
