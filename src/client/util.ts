// Small helpers of the client that depend only on web-standard globals (browsers and Bun).

/** A random id for `client_msg_id`: a UUID where available, else 32 hex chars (both <= 64 chars). */
export function randomId(): string {
  const cryptoApi = globalThis.crypto;
  // randomUUID exists only in secure contexts (https, localhost); getRandomValues exists everywhere.
  if (typeof cryptoApi?.randomUUID === "function") return cryptoApi.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof cryptoApi?.getRandomValues === "function") cryptoApi.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Resolves the socket URL: relative URLs against the page (in a browser), http(s) mapped to ws(s),
 * and `token` set in the query when given (replacing any earlier one; other parameters are kept).
 */
export function socketUrl(url: string, token?: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  const resolved = base === undefined ? new URL(url) : new URL(url, base);
  if (resolved.protocol === "http:") resolved.protocol = "ws:";
  else if (resolved.protocol === "https:") resolved.protocol = "wss:";
  if (token !== undefined) resolved.searchParams.set("token", token);
  return resolved.toString();
}
