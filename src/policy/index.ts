/**
 * Governance (DESIGN.md §8): the policy of each environment, change windows and freezes, and
 * the gate decision. Everything here is pure; the server and the CLI supply the I/O.
 */
export { loadPolicyFile, parsePolicy, validatePolicy } from './load-policy.js';
export type { ConfigPath, PolicyProblem, PolicySource } from './policy-problems.js';
export { EnvironmentsSchema, SEVERITIES } from './policy-schema.js';
export type { ChangeWindow, EnvironmentPolicy, Freeze, Policy, Severity } from './policy-schema.js';
export { activeFreeze, isInsideWindow, nextWindowOpening } from './windows.js';
export type { ActiveFreeze, WindowOpening } from './windows.js';
export { REASON_CODES, evaluateApprovals, evaluateGate, ticketToVerify } from './gate.js';
export type {
  ApprovalRecord,
  DeploymentFacts,
  GateDecision,
  GateInput,
  GateOverride,
  GateReason,
  OpenIncident,
  ReasonCode,
} from './gate.js';
