/**
 * The one way shiplog calls out over HTTP (ticket checks, CDEvents sinks, `shiplog sync`, the
 * CLI's client). Every call has a deadline that covers the answer's body as well as its head,
 * and reads at most `maxBytes` of the body: a provider that answers 300 MB, or streams without
 * end, costs at most that much memory and that much time (docs/security.md, Limits).
 */

export interface OutboundRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Deadline for the whole exchange, body included. */
  readonly timeoutMs: number;
  /** Largest body read; a longer one is an {@link OutboundError} of kind `too_large`. */
  readonly maxBytes: number;
  /** Only the status matters: the body is not read at all. */
  readonly ignoreBody?: boolean;
}

export interface OutboundResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly body: Buffer;
}

export type OutboundFailure = 'timeout' | 'network' | 'too_large';

/** A call that got no usable answer; `message` says why in words fit for a log line. */
export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

/** Calls `url`; throws {@link OutboundError} on timeout, network failure or an oversized answer. */
export async function callOut(url: string, request: OutboundRequest): Promise<OutboundResponse> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(url, {
      method: request.method ?? 'GET',
      ...(request.headers !== undefined && { headers: request.headers }),
      ...(request.body !== undefined && { body: request.body }),
      signal,
    });
    const result = { status: response.status, ok: response.ok, headers: response.headers };
    if (request.ignoreBody) {
      await response.body?.cancel().catch(() => undefined);
      return { ...result, body: Buffer.alloc(0) };
    }
    return { ...result, body: await readCapped(response, request.maxBytes) };
  } catch (error) {
    throw asOutboundError(error, request);
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new OutboundError('too_large', `the answer is larger than ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

function asOutboundError(error: unknown, request: OutboundRequest): OutboundError {
  if (error instanceof OutboundError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new OutboundError('timeout', `no complete answer within ${request.timeoutMs} ms`);
  }
  // `fetch failed` says little; its cause names the network error (ECONNREFUSED, ENOTFOUND...).
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return new OutboundError('network', cause.code);
  if (typeof cause?.message === 'string') return new OutboundError('network', cause.message);
  return new OutboundError('network', error instanceof Error ? error.message : String(error));
}
