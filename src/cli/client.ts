/** A small HTTP client for the shiplog API, used by the CLI commands. */
import { STATUS_CODES } from 'node:http';
import type { ClientConfig } from '../config.js';
import { callOut, type OutboundResponse } from '../outbound/http-client.js';

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: { path: string; message: string }[] };
}

/** An answer of the server that is not 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly details: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** `?a=1&b=2` of the parameters that have a value (undefined ones are left out), or `''`. */
export function queryOf(parameters: Readonly<Record<string, string | undefined>>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) if (value !== undefined) query.set(key, value);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

export async function request<T>(
  config: ClientConfig,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let response: OutboundResponse;
  try {
    response = await callOut(`${config.url}${path}`, {
      method,
      headers: {
        ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      timeoutMs: config.timeoutMs,
      maxBytes: config.maxAnswerBytes,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(`cannot reach shiplog at ${config.url}: ${reason}`, 0);
  }
  const text = response.body.toString('utf8');
  const parsed: unknown = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const err = (parsed as ApiErrorBody | undefined)?.error;
    throw new ApiError(
      `${response.status} ${err?.code ?? STATUS_CODES[response.status] ?? 'error'}: ${err?.message ?? text.slice(0, 200)}`,
      response.status,
      err?.details ?? [],
    );
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
