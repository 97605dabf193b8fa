/** The configuration the governance suites run with. */
import { parseConfigFile } from '../../src/config-file.js';

/** Production needs one approval (valid 1h) and a ticket; windowed adds a window and a freeze. */
export const GOVERNANCE_YAML = `
environments:
  production:
    protected: true
    approvals: 1
    approvalTtl: 1h
    requireTicket: '^[A-Z]+-[0-9]+$'
  windowed:
    protected: true
    approvals: 1
    requireTicket: '^[A-Z]+-[0-9]+$'
    windows:
      - days: [mon, tue, wed, thu]
        from: '09:00'
        to: '16:00'
        timezone: Europe/Berlin
    freezes:
      - from: '2026-12-20T00:00:00Z'
        to: '2027-01-04T00:00:00Z'
        reason: year-end
  staging:
    protected: false
    approvals: 1
kubernetes:
  namespaces:
    nginx: production
    prod: production
    stage: staging
  repositories:
    nginx: [nginx]
    checkout-api: [ghcr.io/acme/checkout-api]
services:
  checkout-api: {owner: payments}
`;

export const CONFIG = parseConfigFile(GOVERNANCE_YAML, 'shiplog.yaml');
