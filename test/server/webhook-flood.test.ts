/**
 * Security review finding 1: unauthenticated webhook deliveries filled the database (each was
 * logged with 64 KiB of body and its headers for 7 days, even for a source with no secret).
 * Rejected deliveries are now a counter and a small capped record, and a source without a
 * secret, or a token source with a wrong token, is refused before its body is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REJECTED_KEEP_PER_SOURCE } from '../../src/store/webhook-deliveries-repository.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { rawSql } from '../helpers/raw-sql.js';
import { postHead, rawConnect } from '../helpers/raw-socket.js';
import { SECRETS, deliver } from '../helpers/webhooks.js';

describe.each(DIALECTS)('rejected webhook deliveries (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await testApp(dialect, {
      // jenkins and opsgenie have no secret: they must refuse everything.
      webhooks: {
        secrets: { github: SECRETS.github ?? '', gitlab: SECRETS.gitlab ?? '', pagerduty: 'pd-secret' },
      },
    });
    url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => t.close());

  it('unauthenticated webhook flood does not grow the delivery log', async () => {
    const body = Buffer.alloc(256 * 1024, 'x');
    const attacks = [
      { source: 'jenkins', auth: 'none' as const },
      { source: 'github', auth: 'wrong' as const },
      { source: 'gitlab', auth: 'wrong' as const },
    ];
    const perSource = REJECTED_KEEP_PER_SOURCE + 50;
    for (const { source, auth } of attacks) {
      for (let i = 0; i < perSource; i += 50) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => deliver(t.app.server, source, body, {}, auth)),
        );
        expect(answers.every((a) => a.status === 401)).toBe(true);
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    const rows = await rawSql(t.store)
      .selectFrom('webhook_deliveries')
      .select(['source', 'body', 'headers', 'body_bytes', 'outcome'])
      .execute();
    for (const { source } of attacks) {
      const kept = rows.filter((r) => r.source === source);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThanOrEqual(REJECTED_KEEP_PER_SOURCE);
    }
    expect(rows.every((r) => r.outcome === 'unauthorized' && r.body === '' && r.headers === '{}')).toBe(true);
    expect(rows.every((r) => Number(r.body_bytes) === body.length)).toBe(true);

    const metrics = await t.app.server.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(
      `shiplog_events_total{source="webhook:jenkins",outcome="rejected"} ${perSource}`,
    );
  });

  it('refuses a source with no secret before reading the body', async () => {
    const client = await rawConnect(url);
    // 1 MiB announced, not a byte sent: the answer must not wait for it.
    client.write(postHead('/v1/webhooks/jenkins', 1024 * 1024));
    const answer = await client.answered;
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer).toContain('SHIPLOG_JENKINS_WEBHOOK_TOKEN');
    // The unread body is not drained: the connection is closed.
    expect((await client.closed).status).toBe(401);
  });

  // The incident receivers (DESIGN.md §9) follow the same rule.
  it('keeps no body of an unauthenticated incident delivery, and refuses an unconfigured one before its body', async () => {
    const body = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 3; i += 1) {
      const signed = await t.app.server.inject({
        method: 'POST',
        url: '/v1/webhooks/pagerduty',
        headers: { 'content-type': 'application/json', 'x-pagerduty-signature': 'v1=00' },
        payload: body,
      });
      expect(signed.statusCode).toBe(401);
    }
    const rows = await rawSql(t.store)
      .selectFrom('webhook_deliveries')
      .select(['body', 'headers', 'outcome'])
      .where('source', '=', 'pagerduty')
      .execute();
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.outcome === 'unauthorized' && r.body === '' && r.headers === '{}')).toBe(true);

    const client = await rawConnect(url);
    client.write(postHead('/v1/webhooks/opsgenie', 1024 * 1024));
    const answer = await client.answered;
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer).toContain('SHIPLOG_OPSGENIE_WEBHOOK_TOKEN');
    expect((await client.closed).status).toBe(401);
  });

  it('refuses a wrong token before reading the body', async () => {
    const client = await rawConnect(url);
    client.write(postHead('/v1/webhooks/gitlab', 1024 * 1024, { 'X-Gitlab-Token': 'not-the-token' }));
    expect(await client.answered).toMatch(/^HTTP\/1\.1 401/);
    expect((await client.closed).status).toBe(401);
  });

  it('still reads the body of a GitHub delivery, whose signature covers it', async () => {
    const client = await rawConnect(url);
    const body = '{"zen":"Keep it logically awesome."}';
    client.write(postHead('/v1/webhooks/github', body.length, { 'X-GitHub-Event': 'ping' }));
    client.write(body);
    // Wrong (missing) signature: 401, after the body.
    expect(await client.answered).toMatch(/^HTTP\/1\.1 401/);
    client.destroy();
  });
});
