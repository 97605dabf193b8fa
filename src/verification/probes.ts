/**
 * Taking one measurement of a check: a Prometheus instant query (HTTP API v1,
 * `GET /api/v1/query`) whose result the check's `successCondition` judges, or an HTTP request
 * whose status and body are compared with what the check expects. A measurement that cannot
 * be taken (no answer, an answer that is not what the API documents, a condition that does not
 * fit the result) is an `error`, not a failure: Argo Rollouts counts those separately.
 */
import { callOut, OutboundError } from '../outbound/http-client.js';
import { ExpressionError, type Value } from './expression.js';
import type { MeasurementPhase } from './run-state.js';
import type { HttpProbe, PrometheusProbe, VerificationCheck } from './verification-config.js';

/** The deployment's values for `{{service}}`, `{{version}}`, ... */
export type TemplateValues = Readonly<Record<string, string | null>>;

export interface Measurement {
  readonly phase: MeasurementPhase;
  /** What was measured: the query's result, or the HTTP status. */
  readonly value: Value | null;
  readonly message: string | null;
}

const MAX_BYTES = 1024 * 1024;

/** Takes one measurement of `check` for the deployment described by `values`. */
export async function measure(
  check: VerificationCheck,
  values: TemplateValues,
  options: { readonly rollbackVersion?: string | null | undefined } = {},
): Promise<Measurement> {
  try {
    return check.probe.kind === 'prometheus'
      ? await measurePrometheus(check, check.probe, values)
      : await measureHttp(check.probe, values, check.timeoutMs, options.rollbackVersion);
  } catch (error) {
    if (
      error instanceof OutboundError ||
      error instanceof ExpressionError ||
      error instanceof TemplateError
    ) {
      return { phase: 'error', value: null, message: error.message };
    }
    throw error;
  }
}

class TemplateError extends Error {}

/** Fills `{{name}}` placeholders, each value passed through `escape`. */
function render(template: string, values: TemplateValues, escape: (v: string) => string): string {
  return template.replaceAll(/\{\{\s*(\w+)\s*\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === null || value === undefined) throw new TemplateError(`the deployment has no ${name}`);
    return escape(value);
  });
}

/** Inside a PromQL string literal: backslashes and quotes escaped, nothing else can break out. */
const promqlString = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

async function measurePrometheus(
  check: VerificationCheck,
  probe: PrometheusProbe,
  values: TemplateValues,
): Promise<Measurement> {
  const query = render(probe.query, values, promqlString);
  const response = await callOut(`${probe.url}/api/v1/query?query=${encodeURIComponent(query)}`, {
    timeoutMs: check.timeoutMs,
    maxBytes: MAX_BYTES,
    headers: { accept: 'application/json' },
  });
  let body: unknown;
  try {
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    return { phase: 'error', value: null, message: `Prometheus answered ${response.status} without JSON` };
  }
  const answer = body as {
    status?: unknown;
    error?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  if (answer.status !== 'success') {
    const reason = typeof answer.error === 'string' ? answer.error : `status ${response.status}`;
    return { phase: 'error', value: null, message: `Prometheus refused the query: ${reason}` };
  }
  const result = resultValue(answer.data?.resultType, answer.data?.result);
  if (result === undefined) {
    return {
      phase: 'error',
      value: null,
      message: `Prometheus answered a ${String(answer.data?.resultType)} result; only vector and scalar are measured`,
    };
  }
  const condition = check.successCondition;
  if (!condition) return { phase: 'error', value: result, message: 'the check has no successCondition' };
  const ok = condition.evaluate(result);
  return {
    phase: ok ? 'successful' : 'failed',
    value: result,
    message: ok ? null : `${condition.source} does not hold for result ${JSON.stringify(result)}`,
  };
}

/** A vector as the list of its sample values, a scalar as its value (Argo's `result`). */
function resultValue(type: unknown, result: unknown): Value | undefined {
  const sample = (pair: unknown) => (Array.isArray(pair) ? Number(pair[1]) : NaN);
  if (type === 'scalar') return sample(result);
  if (type === 'vector' && Array.isArray(result)) {
    return result.map((series: unknown) => sample((series as { value?: unknown }).value));
  }
  return undefined;
}

async function measureHttp(
  probe: HttpProbe,
  values: TemplateValues,
  timeoutMs: number,
  rollbackVersion: string | null | undefined,
): Promise<Measurement> {
  const url = render(probe.url, values, encodeURIComponent);
  const expected = probe.expectBody === undefined ? undefined : render(probe.expectBody, values, (v) => v);
  const response = await callOut(url, { timeoutMs, maxBytes: MAX_BYTES });
  const fail = (message: string): Measurement => ({ phase: 'failed', value: response.status, message });
  if (response.status !== probe.expectStatus) {
    return fail(`answered ${response.status}, expected ${probe.expectStatus}`);
  }
  const body = response.body.toString('utf8');
  if (expected !== undefined && !containsToken(body, expected)) {
    return fail(`the answer does not contain "${expected}"`);
  }
  if (rollbackVersion === null) return fail('no earlier version is known to have been rolled back to');
  if (rollbackVersion !== undefined && !containsToken(body, rollbackVersion)) {
    return fail(`the answer does not name version ${rollbackVersion}, the one rolled back to`);
  }
  return { phase: 'successful', value: response.status, message: null };
}

/**
 * Whether `text` occurs in `body` as a whole token: not directly after or before a letter,
 * digit, `.`, `-` or `+`, so version 1.4 is not found in 1.42.0.
 */
function containsToken(body: string, text: string): boolean {
  const word = /[A-Za-z0-9.+-]/;
  for (let at = body.indexOf(text); at >= 0; at = body.indexOf(text, at + 1)) {
    const before = body[at - 1];
    const after = body[at + text.length];
    const edgeBefore = before === undefined || !word.test(before) || !word.test(text[0] ?? '');
    const edgeAfter = after === undefined || !word.test(after) || !word.test(text.at(-1) ?? '');
    if (edgeBefore && edgeAfter) return true;
  }
  return false;
}
