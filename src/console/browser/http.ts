/// <reference lib="dom" />
// Same-origin REST calls of the console. Keys travel only in headers, only to this origin
// (relative URLs, mode same-origin, no referrer), and are never logged or stored.

/** A non-2xx answer, with the API's error code and request id. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

/** Performs one request; resolves with the parsed JSON body (undefined for an empty body). */
export async function api<T = unknown>(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<T> {
  if (!path.startsWith("/") || path.startsWith("//")) throw new Error("console requests are same-origin paths only");
  const init: RequestInit = {
    method,
    headers: { ...headers, Accept: "application/json" },
    mode: "same-origin",
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  };
  if (body !== undefined) {
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const err = (parsed ?? {}) as { error?: string; message?: string; request_id?: string };
    throw new HttpError(res.status, err.error ?? `http_${res.status}`, err.message ?? `${res.status} ${res.statusText}`, err.request_id ?? res.headers.get("x-request-id"));
  }
  return parsed as T;
}

/** Headers of a tenant user's request. */
export function userHeaders(apiKey: string, userId: string): Record<string, string> {
  return { "X-API-Key": apiKey, "X-User-Id": userId };
}

/** A short human description of any error. */
export function describeError(err: unknown): string {
  if (err instanceof HttpError) return `${err.message} (${err.status} ${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
