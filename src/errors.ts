/**
 * The one catalog of errors shiplog answers with. Each code has a stable name, an HTTP status
 * and a message; `docs/errors.md` documents one row per code and a test keeps the two in sync.
 */

export interface ErrorDetail {
  /** JSON pointer (RFC 6901) of the offending value, or the name of a query parameter/header. */
  readonly path: string;
  readonly message: string;
}

export const ERRORS = {
  SHIPLOG_INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  SHIPLOG_INVALID_EVENT: { status: 400, message: 'The event is invalid' },
  SHIPLOG_INVALID_REQUEST: { status: 400, message: 'The request is invalid' },
  SHIPLOG_INVALID_CURSOR: { status: 400, message: 'The cursor is not one this server issued' },
  SHIPLOG_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported' },
  SHIPLOG_UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required' },
  SHIPLOG_BAD_SIGNATURE: { status: 401, message: 'The webhook signature or token is missing or wrong' },
  SHIPLOG_FORBIDDEN: { status: 403, message: 'The token does not allow this' },
  SHIPLOG_NOT_FOUND: { status: 404, message: 'Not found' },
  SHIPLOG_CONFLICT: { status: 409, message: 'The request conflicts with the current state' },
  SHIPLOG_ARCHIVED: {
    status: 410,
    message: 'The records asked for were archived and left the database (shiplog archive restore MONTH)',
  },
  SHIPLOG_BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than 1 MiB' },
  SHIPLOG_RATE_LIMITED: { status: 429, message: 'Too many requests' },
  SHIPLOG_UNAVAILABLE: { status: 503, message: 'The service is not ready' },
  SHIPLOG_INTERNAL: { status: 500, message: 'Internal error' },
  SHIPLOG_CONFIG: { status: 500, message: 'The configuration is invalid' },
  SHIPLOG_LEDGER_INVALID: { status: 500, message: 'The ledger does not verify' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The one error type of shiplog; the HTTP layer turns it into `{"error": {...}}`. */
export class ShiplogError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: readonly ErrorDetail[];

  constructor(code: ErrorCode, message?: string, details: readonly ErrorDetail[] = []) {
    super(message ?? ERRORS[code].message);
    this.name = 'ShiplogError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }
}

export function isShiplogError(error: unknown): error is ShiplogError {
  return error instanceof ShiplogError;
}
