// Maps every error to the catalogue's HTTP status and the body { error: { code, message } }.
// Fastify's own errors (validation, body size, media type) become catalogue codes too; anything
// else is an internal error whose text never reaches the caller (it may name internals).

import { ERROR_CATALOGUE, type ErrorCode, HsmError } from '../../boundary/api.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ARGUMENTS_BAD',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ARGUMENTS_BAD',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ARGUMENTS_BAD',
  FST_ERR_VALIDATION: 'ARGUMENTS_BAD',
};

export function toHttpError(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof HsmError) return { status: err.httpStatus, body: { error: err.toJSON() }, internal: false };
  const e = err as { code?: string; validation?: unknown; message?: string; statusCode?: number };
  const code = e?.validation ? 'ARGUMENTS_BAD' : typeof e?.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (code) {
    // Validation messages name the field and the rule, never a value.
    const message = e.validation ? `${ERROR_CATALOGUE[code].message}: ${String(e.message).slice(0, 200)}` : ERROR_CATALOGUE[code].message;
    return { status: ERROR_CATALOGUE[code].http, body: { error: { code, message } }, internal: false };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: 400, body: { error: { code: 'ARGUMENTS_BAD', message: ERROR_CATALOGUE.ARGUMENTS_BAD.message } }, internal: false };
  }
  return { status: 500, body: { error: { code: 'DEVICE_ERROR', message: 'internal error' } }, internal: true };
}

/**
 * The raw HTTP answer to a request Node's parser or timers refused before fastify saw it
 * (malformed framing, Content-Length with Transfer-Encoding, oversized headers, a request that
 * did not arrive in time): the same { error: { code, message } } body as every other answer.
 * The status stays HTTP's own for timeouts (408) and header overflow (431).
 */
export function clientErrorResponse(err: { code?: string }): string {
  const [status, reason, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'LIMIT_EXCEEDED', 'the request did not arrive within the time limit']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'REQUEST_TOO_LARGE', 'the request headers are larger than the limit']
        : [400, 'Bad Request', 'ARGUMENTS_BAD', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`;
}
