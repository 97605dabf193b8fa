/**
 * A minimal Server-Sent Events client over node:http, for the stream tests. It inflates a
 * `Content-Encoding: deflate` answer strictly, as a whole zlib stream: one that ends without its
 * trailer, or with a wrong checksum, is a decoding error.
 */
import http from 'node:http';
import zlib from 'node:zlib';

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export interface SseClient {
  readonly events: SseEvent[];
  /** Resolves when an event satisfying `predicate` has arrived (rejects after `timeoutMs`). */
  waitFor(predicate: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** The HTTP status of the answer, and its Content-Encoding. */
  readonly status: number;
  readonly encoding: string | undefined;
  /** A decoding error of the body, if any. */
  readonly errors: Error[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Connects to `url` (an http URL) and parses its event stream. */
export function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      const events: SseEvent[] = [];
      const waiters: { predicate: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
      let buffer = '';
      let endedResolve: () => void = () => undefined;
      const ended = new Promise<void>((r) => (endedResolve = r));
      const errors: Error[] = [];
      const encoding = response.headers['content-encoding'];
      const body = encoding === 'deflate' ? response.pipe(zlib.createInflate()) : response;
      body.setEncoding('utf8');
      body.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') id = value;
            else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          const parsed = { id, event, data: data.join('\n') };
          events.push(parsed);
          for (const waiter of [...waiters]) {
            if (waiter.predicate(parsed)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(parsed);
            }
          }
        }
      });
      body.on('end', endedResolve);
      body.on('close', endedResolve);
      body.on('error', (error) => {
        errors.push(error);
        endedResolve();
      });
      // A body cut short never ends the inflater: the connection's end is the stream's.
      response.on('close', () => {
        if (!response.complete) endedResolve();
      });
      resolve({
        events,
        status: response.statusCode ?? 0,
        encoding,
        errors,
        ended,
        waitFor(predicate, timeoutMs = 10_000) {
          const found = events.find(predicate);
          if (found) return Promise.resolve(found);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no such event within ${timeoutMs} ms`)), timeoutMs);
            waiters.push({
              predicate,
              resolve: (e) => {
                clearTimeout(timer);
                res(e);
              },
            });
          });
        },
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}
