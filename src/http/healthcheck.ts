// `chatapi healthcheck`: GET /health of the local server; on failure one line on stderr saying why
// (connection refused and where, timeout, or the HTTP status and body), for Docker and systemd logs.

/** The outcome of one probe: ok, or the reason to print. */
export type HealthcheckResult = { ok: true } | { ok: false; reason: string };

const BODY_SHOWN_CHARS = 500;

/** The URL `chatapi healthcheck` probes for a LISTEN_ADDR host and port (wildcards mean loopback). */
export function healthUrl(listenHost: string, listenPort: number): string {
  const host = listenHost === "0.0.0.0" || listenHost === "::" || listenHost === "" ? "127.0.0.1" : listenHost;
  return `http://${host.includes(":") ? `[${host}]` : host}:${listenPort}/health`;
}

/** Probes `url`; healthy means HTTP 200 with `{"status":"ok"}` within `timeoutMs`. */
export async function probeHealth(url: string, timeoutMs = 3000): Promise<HealthcheckResult> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  } catch (err) {
    const e = err as { code?: string; name?: string; message?: string };
    if (e.code === "ECONNREFUSED" || e.code === "ConnectionRefused") return { ok: false, reason: `cannot connect to ${url}: connection refused (is the server running, and is LISTEN_ADDR the address it listens on?)` };
    if (e.name === "TimeoutError" || e.name === "AbortError") return { ok: false, reason: `no answer from ${url} within ${timeoutMs} ms` };
    return { ok: false, reason: `cannot reach ${url}: ${e.code ? `${e.code}: ` : ""}${e.message ?? String(err)}` };
  }
  const text = await res.text().catch(() => "");
  let status: unknown;
  try {
    status = (JSON.parse(text) as { status?: unknown }).status;
  } catch {
    status = undefined;
  }
  if (res.status === 200 && status === "ok") return { ok: true };
  const body = text.length > BODY_SHOWN_CHARS ? `${text.slice(0, BODY_SHOWN_CHARS)}...` : text;
  return { ok: false, reason: `GET ${url} answered HTTP ${res.status}${res.status === 200 ? " without status ok" : ""}: ${body.replace(/\s+/g, " ").trim() || "(empty body)"}` };
}
