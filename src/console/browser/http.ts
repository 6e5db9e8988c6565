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
  if (body instanceof FormData) {
    // An upload: the browser writes the multipart Content-Type with its boundary.
    init.body = body;
  } else if (body !== undefined) {
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

/** Headers of a request made with a signed user token (the user is the token's sub). */
export function bearerHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** The `sub` of a JWT, read without verifying (the server verifies); null when unreadable. */
export function jwtSubject(token: string): string | null {
  try {
    const part = token.trim().split(".")[1] ?? "";
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const sub = (JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown }).sub;
    return typeof sub === "string" ? sub : null;
  } catch {
    return null;
  }
}

/** A short human description of any error. */
export function describeError(err: unknown): string {
  if (err instanceof HttpError) return `${err.message} (${err.status} ${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
