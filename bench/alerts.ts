/**
 * Alerts benchmark (issue 12): single-event ingest over HTTP, 50 clients, with a realistic
 * alert rule set (every rule kind that judges events: failed, overdue, ungated, outside a
 * change window, rolled back, verification, frequency and change velocity, with a routing tree
 * and receivers) against the same server without rules. Rules judge each committed group after
 * the commit, reading only what the change concerns (target: at least 0.90×, i.e. at most 10%
 * slower). The two runs alternate, twice each, and the better of each pair counts, so a noisy
 * neighbour on a shared machine hurts neither side alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { event, load, report, startShiplog, tempDir, TOKEN } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const auth = { authorization: `Bearer ${TOKEN}` };

const RULES = `environments:
  production:
    protected: false
    windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: '00:00', to: '23:59', timezone: Europe/Berlin}]
alerts:
  rules:
    - {name: prod-failed, when: deployment_failed, match: {environment: production}, severity: critical}
    - {name: slow, when: deployment_overdue, factor: 2, after: 30m}
    - {name: bypass, when: ungated_deployment, match: {environment: production}, severity: critical}
    - {name: off-hours, when: outside_window, severity: warning}
    - {name: rollback, when: rolled_back}
    - {name: verify, when: verification_failed, severity: error}
    - {name: waiting, when: approval_overdue, after: 2h}
    - {name: busy, when: frequency_above, count: 100000, per: 1h}
    - {name: velocity, when: change_velocity, count: 100000, per: 1h, by: environment}
    - {name: quiet, when: frequency_below, count: 0, per: 1d}
  route:
    receiver: team
    group_by: [service, environment]
    routes:
      - {matchers: ['severity="critical"'], receiver: oncall}
  receivers:
    - {name: team, webhook: {url: 'http://127.0.0.1:9/team'}}
    - {name: oncall, webhook: {url: 'http://127.0.0.1:9/oncall'}}
  escalation:
    oncall: {levels: [{after: 0m, receiver: oncall}, {after: 15m, receiver: team}]}
`;

async function ingestRate(args: string[], run: string): Promise<{ rps: number; p99: number }> {
  const server = await startShiplog(path.join(tempDir('alerts'), 'data'), args);
  const measured = await load(server.url, {
    connections: 50,
    seconds: SECONDS,
    path: '/v1/events',
    headers: auth,
    // Stamped now, as CI sends them: with the shared helper's fixed past times every running
    // deployment would be months overdue at the first periodic check.
    body: (n) => JSON.stringify({ ...event(n, run), time: new Date().toISOString() }),
  });
  await server.stop();
  if (measured.non2xx + measured.errors > 0)
    throw new Error(`shiplog answered ${measured.non2xx} non-2xx, ${measured.errors} errors`);
  return { rps: measured.requestsPerSecond, p99: measured.p99Ms };
}

export async function benchAlerts(): Promise<boolean> {
  const dir = tempDir('alerts-config');
  const config = path.join(dir, 'shiplog.yaml');
  fs.writeFileSync(config, RULES);
  const without: { rps: number; p99: number }[] = [];
  const withRules: { rps: number; p99: number }[] = [];
  for (let round = 0; round < 2; round++) {
    without.push(await ingestRate([], `n${round}${Date.now()}`));
    withRules.push(await ingestRate(['--config', config], `r${round}${Date.now()}`));
  }
  const best = (runs: { rps: number; p99: number }[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const base = best(without);
  const measured = best(withRules);
  const ratio = measured.rps / base.rps;
  report(
    'single-event ingest over HTTP, 50 clients, with 10 alert rules and a routing tree',
    `${measured.rps.toFixed(0)} req/s (p99 ${measured.p99} ms)`,
    `${base.rps.toFixed(0)} req/s without alert rules (p99 ${base.p99} ms)`,
    ratio,
    '>= 0.90',
    ratio >= 0.9,
  );
  return ratio >= 0.9;
}
