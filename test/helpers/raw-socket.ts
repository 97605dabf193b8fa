/**
 * A raw TCP client for what `fetch` cannot do: announce a body and never send it, send headers
 * byte by byte. It resolves when the server closes the connection, with what the server sent.
 */
import net from 'node:net';

export interface RawExchange {
  /** Everything the server wrote before it closed the connection. */
  readonly received: string;
  /** The status code of the first answer, or 0 when the server closed without one. */
  readonly status: number;
}

export interface RawClient {
  /** Writes bytes unless the server already closed the connection. */
  write(data: string | Buffer): void;
  /** Settles when the server closes the connection (the client never closes it first). */
  readonly closed: Promise<RawExchange>;
  /** Resolves at the first bytes of an answer. */
  readonly answered: Promise<string>;
  destroy(): void;
}

export function rawConnect(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      let received = '';
      let answer: (text: string) => void = () => undefined;
      const answered = new Promise<string>((r) => (answer = r));
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        answer(received);
      });
      // A reset (the server destroyed the socket) is a close too.
      socket.on('error', () => undefined);
      const closed = new Promise<RawExchange>((r) =>
        socket.on('close', () =>
          r({ received, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0) }),
        ),
      );
      resolve({
        write(data) {
          if (!socket.destroyed && socket.writable) socket.write(data);
        },
        closed,
        answered,
        destroy: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });
}

/** The head of a POST announcing `length` bytes of JSON. */
export function postHead(path: string, length: number, headers: Record<string, string> = {}): string {
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json'];
  lines.push(`Content-Length: ${length}`);
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
