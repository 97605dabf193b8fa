/**
 * The shapes every webhook adapter shares. Adapters are pure: a request in, a result out. They
 * never throw anything but {@link AdapterInputError}, whatever the payload, because they face
 * the internet (DESIGN.md §7).
 */
import { ShiplogError, type ErrorDetail } from '../errors.js';
import type { EventInput } from '../domain/event.js';

/** One webhook delivery as the HTTP layer hands it over. */
export interface WebhookRequest {
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The exact bytes received: signatures are computed over these. */
  readonly rawBody: Buffer;
  /** The parsed JSON body, or `undefined` when it was not JSON (adapters then try `rawBody`). */
  readonly body: unknown;
}

/** What an adapter made of a delivery. */
export type AdapterResult =
  | {
      readonly kind: 'events';
      readonly events: EventInput[];
      /** The tool's delivery id (for logs and dedupe of whole deliveries), when it sends one. */
      readonly deliveryId?: string;
    }
  /** A valid payload shiplog does not use: answered 202 `{"ignored": reason}`. */
  | { readonly kind: 'ignored'; readonly reason: string }
  /**
   * A payload kept for later correlation, not a deployment event (CDEvents incident.*,
   * change.merged, environment.*, unknown types).
   */
  | {
      readonly kind: 'record';
      readonly recordType: string;
      /** Stable id of the record: retries of the same delivery give the same id. */
      readonly id: string;
      readonly source: string;
      /** RFC 3339 time the tool gave the occurrence. */
      readonly time: string;
      readonly data: unknown;
    };

/**
 * A malformed payload (missing required fields, wrong types, not JSON): the server answers 400
 * with these details. `path` is a JSON pointer into the payload, or a lower-case header name.
 */
export class AdapterInputError extends ShiplogError {
  constructor(details: readonly ErrorDetail[], message = 'The webhook payload is invalid') {
    super('SHIPLOG_INVALID_REQUEST', message, details);
    this.name = 'AdapterInputError';
  }
}
