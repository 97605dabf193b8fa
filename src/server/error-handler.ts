/**
 * The one place errors become HTTP answers: `{"error": {code, message, details}}` with the
 * catalog's status. Fastify's own errors (bad JSON, body too large, schema validation) are
 * mapped onto catalog codes; anything unexpected is logged and answered as a bare 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, ShiplogError, isShiplogError, type ErrorCode, type ErrorDetail } from '../errors.js';

interface ValidationIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

export function toShiplogError(
  error: FastifyError & { validation?: ValidationIssue[]; validationContext?: string },
): ShiplogError {
  if (isShiplogError(error)) return error;
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const details: ErrorDetail[] = error.validation.map((v) => {
      const extra = (v.params.additionalProperty ?? v.params.missingProperty) as string | undefined;
      const field = `${v.instancePath.replace(/^\//, '')}${extra ? extra : ''}`;
      const message =
        v.keyword === 'additionalProperties'
          ? 'is not a known parameter'
          : v.keyword === 'required'
            ? 'is required'
            : (v.message ?? 'is invalid');
      return {
        path: where === 'body' ? `${v.instancePath}${extra ? `/${extra}` : ''}` : field || where,
        message,
      };
    });
    return new ShiplogError('SHIPLOG_INVALID_REQUEST', `The ${where} is invalid`, details);
  }
  const byCode: Partial<Record<string, ErrorCode>> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'SHIPLOG_BODY_TOO_LARGE',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'SHIPLOG_UNSUPPORTED_MEDIA_TYPE',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'SHIPLOG_INVALID_REQUEST',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'SHIPLOG_INVALID_JSON',
    FST_ERR_CTP_INVALID_JSON_BODY: 'SHIPLOG_INVALID_JSON',
  };
  const mapped = byCode[error.code];
  if (mapped)
    return new ShiplogError(
      mapped,
      mapped === 'SHIPLOG_INVALID_JSON' ? `The request body is not valid JSON: ${error.message}` : undefined,
    );
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new ShiplogError('SHIPLOG_INVALID_JSON', `The request body is not valid JSON: ${error.message}`);
  }
  if (error.statusCode === 413) return new ShiplogError('SHIPLOG_BODY_TOO_LARGE');
  if (error.statusCode === 415) return new ShiplogError('SHIPLOG_UNSUPPORTED_MEDIA_TYPE');
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ShiplogError('SHIPLOG_INVALID_REQUEST', error.message);
  }
  return new ShiplogError('SHIPLOG_INTERNAL');
}

/** A not-found GET that the dashboard answers (its client-side routes); see src/server/web.ts. */
export interface PageFallback {
  matches(request: FastifyRequest): boolean;
  send(reply: FastifyReply): FastifyReply;
}

export function registerErrorHandler(app: FastifyInstance, pages?: () => PageFallback | undefined): void {
  app.setErrorHandler(function shiplogErrorHandler(error: FastifyError, request, reply) {
    const mapped = toShiplogError(error);
    if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
    const message = mapped.status >= 500 ? ERRORS[mapped.code].message : mapped.message;
    void reply.status(mapped.status).send({ error: { code: mapped.code, message, details: mapped.details } });
  });
  app.setNotFoundHandler(function notFound(request, reply) {
    const fallback = pages?.();
    if (fallback?.matches(request)) {
      void fallback.send(reply);
      return;
    }
    void reply.status(404).send({
      error: {
        code: 'SHIPLOG_NOT_FOUND',
        message: `No route ${request.method} ${request.url.split('?')[0]}`,
        details: [],
      },
    });
  });
}
