// Input rules that hold for every route before any schema runs (docs/reference/limits.md): routing that does
// not depend on the Host header, JSON-only bodies (415), and plain-decimal query integers.
import { AppError } from "../errors";

// Elysia 1.4 finds the path with `url.indexOf("/", 11)`, assuming an authority of at least 4
// characters after "http://"; Bun builds request.url from the Host header verbatim, so `Host: api`
// gives "http://api/health" and the path search skips its slash (404, or a later slash of the path).
const ORIGIN_RE = /^https?:\/\/[^/?#]*/;

/**
 * The URL to route by, or null when `url` is already safe for Elysia's router: an absolute URL whose
 * path starts exactly where Elysia looks. Otherwise the same path and query on `http://localhost`
 * (a short or empty Host, or a request without Host, which Bun leaves relative).
 */
export function routableUrl(url: string): string | null {
  const m = ORIGIN_RE.exec(url);
  if (m) {
    const end = m[0].length;
    if (end >= 11 && url.indexOf("/", 11) === end) return null;
    const rest = url.slice(end);
    return `http://localhost${rest.startsWith("/") ? rest : `/${rest}`}`;
  }
  return `http://localhost${url.startsWith("/") ? url : `/${url}`}`;
}

/** True for `application/json` with or without parameters (any case). */
export function isJsonContentType(ct: string | null): boolean {
  if (ct === null) return false;
  const semi = ct.indexOf(";");
  return (semi === -1 ? ct : ct.slice(0, semi)).trim().toLowerCase() === "application/json";
}

/** True when the request announces a body (a non-zero Content-Length or a chunked Transfer-Encoding). */
export function hasBody(req: Request): boolean {
  const len = req.headers.get("content-length");
  if (len !== null) return len.trim() !== "0";
  return req.headers.get("transfer-encoding") !== null;
}

/** 415 for a request body that is not application/json (missing Content-Type included). */
export function checkJsonBody(req: Request): void {
  if (!hasBody(req)) return;
  const ct = req.headers.get("content-type");
  if (!isJsonContentType(ct)) {
    throw new AppError("unsupported_media_type", ct === null ? "a request body needs Content-Type: application/json" : "request bodies must be application/json");
  }
}

/** Query parameters that are integers somewhere in the API. */
export const INTEGER_QUERY_KEYS: readonly string[] = ["limit", "after_seq", "before_seq"];
const DIGITS = /^[0-9]+$/;

/** Query integers are plain decimal digits (leading zeros allowed): `0x10`, `1e2`, `+5`, ` 5`, `1.0` are 400. */
export function checkQueryIntegers(url: string): void {
  const q = url.indexOf("?");
  if (q === -1) return;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of INTEGER_QUERY_KEYS) {
    for (const v of params.getAll(key)) {
      if (!DIGITS.test(v) || v.length > 16) {
        throw new AppError("invalid_request", `${key} must be a plain decimal integer`, [{ path: `/query/${key}`, message: "expected decimal digits" }]);
      }
    }
  }
}
