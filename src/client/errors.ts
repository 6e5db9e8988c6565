// The one error type the client rejects with: a server `error` frame, a timeout or a disconnect.
import type { ApiErrorCode, ErrorDetail, ErrorFrame } from "./types.ts";

/** Server error codes plus the client's own: `timeout` (no reply in time), `disconnected`. */
export type ChatClientErrorCode = ApiErrorCode | "timeout" | "disconnected";

/** Rejection reason of every client request; `code` is stable, `message` is for humans. */
export class ChatClientError extends Error {
  override readonly name = "ChatClientError";
  readonly code: ChatClientErrorCode;
  /** Set for `rate_limit_exceeded`: wait this long before retrying. */
  readonly retryAfterMs?: number;
  /** Schema violations reported by the server, JSON-pointer paths into the frame. */
  readonly details?: ErrorDetail[];
  /** REST calls only: the HTTP status and the response's request id. */
  readonly status?: number;
  readonly requestId?: string;

  constructor(code: ChatClientErrorCode, message: string, extra?: { retryAfterMs?: number; details?: ErrorDetail[]; status?: number; requestId?: string }) {
    super(message);
    this.code = code;
    if (extra?.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
    if (extra?.details !== undefined) this.details = extra.details;
    if (extra?.status !== undefined) this.status = extra.status;
    if (extra?.requestId !== undefined) this.requestId = extra.requestId;
  }

  /** Builds the error carried by a server `error` frame. */
  static fromFrame(frame: ErrorFrame): ChatClientError {
    const extra: { retryAfterMs?: number; details?: ErrorDetail[] } = {};
    if (typeof frame.retry_after_ms === "number") extra.retryAfterMs = frame.retry_after_ms;
    if (Array.isArray(frame.details)) extra.details = frame.details;
    return new ChatClientError(frame.error, String(frame.message ?? frame.error), extra);
  }
}
