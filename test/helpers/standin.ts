/**
 * A stand-in for an outside SaaS (PagerDuty, Opsgenie, Slack): a real HTTP server on a free
 * port that records each request and answers as told (status, headers, or never).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly json: unknown;
}

/** The body of a request to a PagerDuty Events API v2 stand-in (`POST /v2/enqueue`). */
export const pdOf = (r: RecordedRequest) =>
  r.json as {
    routing_key: string;
    event_action: string;
    dedup_key: string;
    payload?: Record<string, unknown>;
  };

export interface Answer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Never answer (the connection stays open until the server closes). */
  readonly hang?: boolean;
}

export interface StandIn {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** How the next requests are answered; default 202 `{"status":"success"}`. */
  answer: (request: RecordedRequest) => Answer;
  /** Resolves once `count` requests satisfying `filter` have arrived. */
  waitFor(count: number, filter?: (r: RecordedRequest) => boolean): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startStandIn(): Promise<StandIn> {
  const waiters = new Set<() => boolean>();
  const hung = new Set<http.ServerResponse>();
  const standIn: StandIn = {
    url: '',
    requests: [],
    answer: () => ({ status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed' }) }),
    waitFor(count, filter = () => true) {
      return new Promise((resolve) => {
        const check = () => {
          const found = standIn.requests.filter(filter);
          if (found.length >= count) {
            resolve(found);
            return true;
          }
          return false;
        };
        if (!check()) waiters.add(check);
      });
    },
    async close() {
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
      };
      standIn.requests.push(recorded);
      const answer = standIn.answer(recorded);
      for (const w of [...waiters]) if (w()) waiters.delete(w);
      if (answer.hang) {
        hung.add(res);
        return;
      }
      res.writeHead(answer.status ?? 202, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (standIn as { url: string }).url = `http://127.0.0.1:${port}`;
  return standIn;
}
