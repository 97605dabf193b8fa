/**
 * The part of Alertmanager's API v2 shiplog uses to silence a deploying service:
 * `POST /api/v2/silences` creates a silence, or updates one when the body carries its `id`
 * (Alertmanager may answer a new id when it replaces the silence instead: an expired silence,
 * changed matchers or start); `DELETE /api/v2/silence/{id}` expires one.
 */
import { callOut } from '../outbound/http-client.js';
import type { Matcher } from './matchers.js';

export interface PostableSilence {
  readonly id?: string | undefined;
  readonly matchers: readonly Matcher[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdBy: string;
  readonly comment: string;
}

/** Alertmanager answered, but not with success: its status and (short) reason. */
export class AlertmanagerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AlertmanagerError';
  }
}

export interface AlertmanagerClient {
  /** Creates or updates a silence; answers its id (which may be new). */
  postSilence(silence: PostableSilence): Promise<string>;
  /** Expires a silence now; one Alertmanager no longer knows is already gone. */
  expireSilence(id: string): Promise<void>;
}

const TIMEOUT_MS = 10_000;
const MAX_BYTES = 64 * 1024;

export function createAlertmanagerClient(baseUrl: string): AlertmanagerClient {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async postSilence(silence) {
      const response = await callOut(`${base}/api/v2/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(silence),
        timeoutMs: TIMEOUT_MS,
        maxBytes: MAX_BYTES,
      });
      const text = response.body.toString('utf8');
      if (!response.ok)
        throw new AlertmanagerError(
          response.status,
          `Alertmanager answered ${response.status}: ${text.slice(0, 200)}`,
        );
      const id = (JSON.parse(text) as { silenceID?: unknown }).silenceID;
      if (typeof id !== 'string')
        throw new AlertmanagerError(response.status, 'Alertmanager answered no silenceID');
      return id;
    },
    async expireSilence(id) {
      const response = await callOut(`${base}/api/v2/silence/${encodeURIComponent(id)}`, {
        method: 'DELETE',
        timeoutMs: TIMEOUT_MS,
        maxBytes: MAX_BYTES,
      });
      if (!response.ok && response.status !== 404) {
        throw new AlertmanagerError(
          response.status,
          `Alertmanager answered ${response.status} to expiring ${id}`,
        );
      }
    },
  };
}
