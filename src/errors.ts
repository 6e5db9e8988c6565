// The one error catalog: code -> HTTP status, WebSocket close code, default message.
// Services throw only AppError; the HTTP layer and the WS gateway map it.

import type { ApiErrorCode } from "./client/types";

/** The codes of API.md section 1 (one definition, shared with the TypeScript client). */
export type ErrorCode = ApiErrorCode;

interface CatalogEntry {
  status: number;
  /** Close code when the error ends a WebSocket (most are sent as `error` frames instead). */
  wsClose: number;
  message: string;
}

/** Every error the API can answer with (API.md section 1). */
export const ERROR_CATALOG: Readonly<Record<ErrorCode, CatalogEntry>> = Object.freeze({
  invalid_request: { status: 400, wsClose: 1008, message: "invalid request" },
  unauthorized: { status: 401, wsClose: 1008, message: "missing or invalid credentials" },
  forbidden: { status: 403, wsClose: 1008, message: "not allowed" },
  not_found: { status: 404, wsClose: 1008, message: "not found" },
  conflict: { status: 409, wsClose: 1008, message: "conflict" },
  payload_too_large: { status: 413, wsClose: 1009, message: "payload too large" },
  unsupported_media_type: { status: 415, wsClose: 1003, message: "unsupported media type" },
  rate_limit_exceeded: { status: 429, wsClose: 1008, message: "rate limit exceeded" },
  internal_error: { status: 500, wsClose: 1011, message: "internal error" },
  unavailable: { status: 503, wsClose: 1001, message: "service unavailable" },
});

/** Named WebSocket close codes used by the gateway. */
export const WS_CLOSE = Object.freeze({
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
  /** The signed user token of the socket expired or no longer verifies (its tenant's keys changed): reconnect with a fresh one. */
  tokenExpired: 4001,
});

/** One field-level validation problem; `path` is a JSON pointer like "/content". */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** The error every service throws. `extra` adds fields to the body (e.g. retry_after_ms). */
export class AppError extends Error {
  readonly status: number;
  /** Response headers that go with this error (Retry-After, RateLimit-*). */
  headers?: Record<string, string>;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetail[],
    readonly extra?: Record<string, unknown>,
  ) {
    super(message ?? ERROR_CATALOG[code].message);
    this.status = ERROR_CATALOG[code].status;
  }
}

/** Shorthands so call sites read as the rule they enforce. */
export const invalid = (message: string, details?: ErrorDetail[]) => new AppError("invalid_request", message, details);
export const notFound = (what = "not found") => new AppError("not_found", what);
export const forbidden = (message = "not allowed") => new AppError("forbidden", message);
export const conflict = (message: string) => new AppError("conflict", message);

/** The JSON body of an error response (API.md section 1). */
export function errorBody(err: AppError, requestId: string): Record<string, unknown> {
  const body: Record<string, unknown> = { error: err.code, message: err.message, request_id: requestId };
  if (err.details && err.details.length > 0) body.details = err.details;
  if (err.extra) Object.assign(body, err.extra);
  return body;
}
