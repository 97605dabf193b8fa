/**
 * The simulated browsers of bench/stream.ts, in their own process (as browsers are not in the
 * load generator's): connects `count` SSE clients to `url`, counts the events each receives
 * without decoding them, and on a message from the parent answers the counts and exits.
 */
import http from 'node:http';

const [url, token, countText] = process.argv.slice(2);
const count = Number(countText);
const marker = Buffer.from('\nevent: ');
const received: number[] = Array.from({ length: count }, () => 0);
let closed = 0;
const requests: http.ClientRequest[] = [];

function connect(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      `${url}/v1/stream?events=deployment`,
      { headers: { authorization: `Bearer ${token}` } },
      (response) => {
        if (response.statusCode !== 200) reject(new Error(`stream answered ${response.statusCode}`));
        response.on('data', (chunk: Buffer) => {
          for (let at = chunk.indexOf(marker); at >= 0; at = chunk.indexOf(marker, at + 1))
            received[i] = (received[i] ?? 0) + 1;
        });
        response.on('close', () => (closed += 1));
        resolve();
      },
    );
    request.on('error', reject);
    requests.push(request);
  });
}

await Promise.all(received.map((_, i) => connect(i)));
process.send?.({ connected: count });
process.on('message', () => {
  process.send?.({ received, closed }, () => {
    for (const r of requests) r.destroy();
    process.exit(0);
  });
});
