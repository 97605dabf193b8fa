/** A month of deployments with approvals, gate decisions and an override, for the report tests. */
import { expect, vi } from 'vitest';
import { ADMIN, type TestApp } from '../helpers/app.js';

export interface Seeded {
  readonly admin: string;
  readonly auditor: string;
  readonly viewer: string;
  readonly deployer: string;
  readonly approver: string;
  readonly trickyJustification: string;
}

/** The policy the seeded month is judged by: one approval and a ticket in production. */
export const SEED_POLICY = {
  environments: { production: { protected: true, approvals: 1, requireTicket: '^[A-Z]+-[0-9]+$' } },
} as const;

const TRICKY = 'hotfix, "urgent"\nsecond line <script>alert(1)</script>';

/**
 * When the seeded events are received. A report's run of ledger entries starts with the events
 * received from a day before its month (bundle.ts RECEIPT_MARGIN_MS); received at the clock's
 * now, the seed made the December bundle's run start at 0 whenever the tests ran on the last day
 * of November or later. Received on this fixed day, every report test means the same any day.
 */
const RECEIVED_AT = '2026-11-25T12:00:00Z';

export async function seedMonth(t: TestApp): Promise<Seeded> {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(new Date(RECEIVED_AT));
  try {
    return await seed(t);
  } finally {
    vi.useRealTimers();
  }
}

async function seed(t: TestApp): Promise<Seeded> {
  const token = async (name: string, role: string) => {
    const response = await t.call('POST', '/v1/tokens', { name, role });
    expect(response.status).toBe(201);
    return response.json().token as string;
  };
  const auditor = await token('auditor-ann', 'auditor');
  const viewer = await token('viewer-vic', 'viewer');
  const deployer = await token('ci-wide', 'deployer');
  const approver = await token('bob', 'approver');
  const events = async (list: Record<string, unknown>[]) => {
    const response = await t.call('POST', '/v1/events', { events: list });
    expect(response.status).toBe(201);
  };
  const base = { service: 'checkout-api', environment: 'production', kind: 'release' };
  await events([
    {
      ...base,
      type: 'deployment.requested',
      deployment: 'rep-approved',
      version: '1.0.0',
      actor: 'alice',
      ticket: 'OPS-1',
      labels: { justification: TRICKY },
      time: '2026-11-03T10:00:00Z',
    },
    {
      ...base,
      type: 'deployment.requested',
      deployment: 'rep-override',
      version: '2.0.0',
      actor: 'carol',
      ticket: 'OPS-9',
      time: '2026-11-20T02:00:00Z',
    },
  ]);
  const approval = await t.call(
    'POST',
    '/v1/deployments/rep-approved/approvals',
    { decision: 'approve', comment: 'looks good, "ship it"' },
    approver,
  );
  expect(approval.status).toBe(201);
  const gate = await t.call('POST', '/v1/gate', {
    deployment: 'rep-approved',
    service: 'checkout-api',
    environment: 'production',
    version: '1.0.0',
    ticket: 'OPS-1',
  });
  expect(gate.json().allow).toBe(true);
  const override = await t.call('POST', '/v1/gate', {
    deployment: 'rep-override',
    service: 'checkout-api',
    environment: 'production',
    version: '2.0.0',
    ticket: 'OPS-9',
    override: { justification: 'payments down' },
  });
  expect(override.json().overridden).toBe(true);
  await events([
    { ...base, type: 'deployment.started', deployment: 'rep-approved', time: '2026-11-03T10:05:00Z' },
    { ...base, type: 'deployment.succeeded', deployment: 'rep-approved', time: '2026-11-03T10:10:00Z' },
    { ...base, type: 'deployment.started', deployment: 'rep-override', time: '2026-11-20T02:01:00Z' },
    {
      type: 'deployment.started',
      deployment: 'rep-unapproved',
      service: 'billing',
      environment: 'production',
      version: '7.1.0',
      actor: '=HYPERLINK("http://evil")',
      time: '2026-11-10T12:00:00Z',
    },
    {
      type: 'deployment.succeeded',
      deployment: 'rep-unapproved',
      service: 'billing',
      environment: 'production',
      time: '2026-11-10T12:03:00Z',
    },
    // Not in the report: another environment, the month before, the month after.
    {
      ...base,
      type: 'deployment.started',
      deployment: 'rep-staging',
      environment: 'staging',
      version: '1.0.0',
      time: '2026-11-04T10:00:00Z',
    },
    {
      ...base,
      type: 'deployment.started',
      deployment: 'rep-october',
      version: '0.9.0',
      time: '2026-10-31T23:30:00Z',
    },
    {
      ...base,
      type: 'deployment.started',
      deployment: 'rep-december',
      version: '2.1.0',
      time: '2026-12-01T00:30:00Z',
    },
  ]);
  return { admin: ADMIN, auditor, viewer, deployer, approver, trickyJustification: TRICKY };
}
