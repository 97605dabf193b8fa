/**
 * The simulated browsers of bench/stream.ts, in their own process (as browsers are not in the
 * load generator's): connects `count` SSE clients to `url` with a browser's `Accept-Encoding`
 * (or `accept`) and, on a message from the parent, answers what they received and exits.
 *
 * Decoding is the browser's work, on the browser's machine; here every simulated browser
 * shares the server's cores, so only the first {@link PARSERS} decode (inflate, as a browser
 * does) and count the events they receive. Every client counts the bytes it receives: the
 * server sends each client with the same filter the same bytes, so equal byte counts show
 * that the others received the same events.
 */
import http from 'node:http';
import zlib from 'node:zlib';

const [url, token, countText, accept = 'gzip, deflate, br, zstd'] = process.argv.slice(2);
const count = Number(countText);
const PARSERS = Math.min(count, 10);
const marker = Buffer.from('\nevent: ');
const events: number[] = Array.from({ length: PARSERS }, () => 0);
const bytes: number[] = Array.from({ length: count }, () => 0);
let closed = 0;
const requests: http.ClientRequest[] = [];

/** Counts the events in a decoded stream (a marker may span two chunks). */
function countEvents(body: NodeJS.ReadableStream, i: number): void {
  let tail: Buffer = Buffer.alloc(0);
  body.on('data', (chunk: Buffer) => {
    const text = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
    for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1))
      events[i] = (events[i] ?? 0) + 1;
    tail = text.subarray(Math.max(0, text.length - marker.length + 1));
  });
}

function connect(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      `${url}/v1/stream?events=deployment`,
      { headers: { authorization: `Bearer ${token}`, 'accept-encoding': accept } },
      (response) => {
        if (response.statusCode !== 200) reject(new Error(`stream answered ${response.statusCode}`));
        const encoding = response.headers['content-encoding'];
        if (encoding !== undefined && encoding !== 'deflate') reject(new Error(`unexpected ${encoding}`));
        response.on('data', (chunk: Buffer) => (bytes[i] = (bytes[i] ?? 0) + chunk.length));
        if (i < PARSERS) {
          countEvents(
            encoding === 'deflate'
              ? response.pipe(zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH }))
              : response,
            i,
          );
        }
        response.on('close', () => (closed += 1));
        resolve();
      },
    );
    request.on('error', reject);
    requests.push(request);
  });
}

await Promise.all(bytes.map((_, i) => connect(i)));
process.send?.({ connected: count });
process.on('message', () => {
  process.send?.({ events, bytes, closed }, () => {
    for (const r of requests) r.destroy();
    process.exit(0);
  });
});
