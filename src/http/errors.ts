// Maps anything thrown while handling a request to the JSON error shape of docs/reference/rest.md#conventions.
import { AppError, ERROR_CATALOG, errorBody, type ErrorDetail } from "../errors";
import type { Logger } from "../log";
import { StorageUnavailableError } from "../storage/errors";

const JSON_TYPE = "application/json; charset=utf-8";

interface ValueErrorLike {
  path?: string;
  message?: string;
  summary?: string;
}

// Elysia reports coerced query/params values as type "property" without the field name:
// recover it from the query string by matching the reported value.
function propertyPath(err: { value?: unknown }, url: URL | null): string {
  if (!url) return "/query";
  for (const [k, v] of url.searchParams) if (v === String(err.value) || Number(v) === err.value) return `/query/${k}`;
  return "/query";
}

function validationDetails(err: { all?: ValueErrorLike[]; type?: string; value?: unknown }, url: URL | null): ErrorDetail[] {
  let all: ValueErrorLike[] = [];
  try {
    all = err.all ?? [];
  } catch {
    all = [];
  }
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const e of all.slice(0, 20)) {
    const path = e.path || "/";
    const message = e.message ?? "invalid";
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let full = path;
    if (err.type === "property") full = propertyPath(err, url);
    else if (err.type && err.type !== "body") full = `/${err.type}${path === "/" ? "" : path}`;
    details.push({ path: full, message });
  }
  return details;
}

/** Converts any thrown value into an AppError; logs the unknown ones (with the request id, never the input). */
export function toAppError(code: string | number, error: unknown, requestId: string, log: Logger, route: string, url: URL | null = null): AppError {
  if (error instanceof StorageUnavailableError) {
    // Classified by the store (disk full, read-only, I/O error, busy): 503, and a line for the operator.
    log.error({ request_id: requestId, err_code: error.driverCode }, "database unavailable");
    return error;
  }
  if (error instanceof AppError) return error;
  switch (code) {
    case "VALIDATION": {
      const v = error as { all?: ValueErrorLike[]; type?: string; value?: unknown };
      const details = validationDetails(v, url);
      const first = details[0];
      return new AppError("invalid_request", first ? `invalid field ${first.path}: ${first.message}` : "invalid request", details);
    }
    case "PARSE":
      return new AppError("invalid_request", "malformed request body: expected JSON");
    case "NOT_FOUND":
      return new AppError("not_found", `no route ${route}`);
  }
  log.error({ request_id: requestId, err: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }, "unhandled error");
  return new AppError("internal_error", ERROR_CATALOG.internal_error.message);
}

/** The HTTP response for an AppError. */
export function errorResponse(err: AppError, requestId: string): Response {
  const headers: Record<string, string> = { "Content-Type": JSON_TYPE, "X-Request-Id": requestId, ...(err.headers ?? {}) };
  return new Response(JSON.stringify(errorBody(err, requestId)), { status: err.status, headers });
}
