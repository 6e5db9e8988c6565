// Hostile-input fuzzing of every REST route listed by /docs/json. Each input must get a documented
// answer (2xx, or 4xx with the JSON error body), never a 5xx and never a hang; after each route's
// batch, the database may differ only by rows that the route's 2xx requests explain.
import { ERROR_CATALOG } from "../../../src/errors";
import { TEST_MASTER_KEY, type TestServer } from "../../helpers";
import { inCluster } from "../../support/test-store";
import { authHeaders, sampleFromSchema, type Fixtures, type FuzzRoute } from "./fuzz-fixtures";
import { deepJson, HOSTILE_QUERY_VALUES, HOSTILE_STRINGS, hostileJsonValue, INVALID_UTF8, malformedJson, withInvalidUtf8 } from "./hostile";
import type { Prng } from "./prng";
import { bytes, rawRequest } from "./raw-http";
import { collectTokens, diff, snapshot, unexplained } from "./snapshot";

/** One generated request. */
export interface FuzzCase {
  label: string;
  method: string;
  /** Path + query, already encoded as sent. */
  target: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | "oversized-stream";
  /** Sent over raw TCP: header bytes fetch() refuses, unnormalized paths, truncated bodies. */
  raw?: { head: Uint8Array; body: Uint8Array; declaredLength?: number };
}

export interface FuzzFinding {
  route: string;
  label: string;
  status: number;
  input: string;
  answer: string;
}

export interface RestFuzzResult {
  tried: Map<string, number>;
  statuses: Map<number, number>;
  /** Any 5xx (must be empty). */
  serverErrors: FuzzFinding[];
  /** Hangs, undocumented statuses, malformed error bodies. */
  violations: FuzzFinding[];
  /** Database changes no 2xx explains. */
  unexplainedChanges: string[];
  /** Cluster mode: inputs nginx refused itself before any node saw them (see refusedByBalancer). */
  refusedByBalancer: number;
}

// 415: non-JSON bodies on JSON routes, and uploads (multipart only) with other bodies (docs/reference/rest.md#conventions).
const DOCUMENTED = new Set([200, 201, 202, 204, 400, 401, 403, 404, 409, 413, 415, 429]);
const CODE_BY_STATUS = new Map(Object.entries(ERROR_CATALOG).map(([code, e]) => [e.status, code]));
const SAFE_HEADER = HOSTILE_STRINGS.filter((v) => /^[\x01-\x09\x0b\x0c\x0e-\xff]*$/.test(v) && v.length < 10_000);

function fillPath(route: FuzzRoute, params: Record<string, string>): string {
  return route.path.replace(/\{([^}]+)\}/g, (_, p: string) => params[p] ?? "x");
}

function queryString(q: [string, string][]): string {
  return q.length ? `?${q.map(([k, v]) => `${k}=${v}`).join("&")}` : "";
}

// Percent-encodes one UTF-16 unit sequence; a lone surrogate becomes its (invalid) 3-byte UTF-8 form.
function pct(c: string): string {
  if (c.isWellFormed()) return encodeURIComponent(c);
  const u = c.charCodeAt(0);
  return [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
}

function enc(v: string, keepPercent: boolean): string {
  // keepPercent: the hostile list's own %-sequences (%2e%2e, %00) reach the server as written.
  return v.replace(/[\ud800-\udbff][\udc00-\udfff]|[^A-Za-z0-9._~\-]/g, (c) => (keepPercent && c === "%" ? "%" : pct(c)));
}

/** Generates one hostile (occasionally valid) input for `route`. */
export function generateCase(r: Prng, route: FuzzRoute, fx: Fixtures): FuzzCase {
  const params = { ...fx.params };
  const headers = authHeaders(route, fx);
  const baseBody = fx.bodies[route.key] ?? (route.bodySchema ? sampleFromSchema(route.bodySchema) : undefined);
  const query: [string, string][] = Object.entries(fx.queries[route.key] ?? {});
  let bodyText = baseBody === undefined ? undefined : JSON.stringify(baseBody);
  let body: FuzzCase["body"] = bodyText;
  let method = route.method;
  let label = "valid";
  const roll = r.int(0, 99);
  if (roll < 12 && route.params.length) {
    const p = r.pick(route.params);
    const v = r.pick(HOSTILE_STRINGS);
    params[p] = enc(v, r.bool(0.8));
    if (r.bool(0.1)) params[p] = r.pick(["%c3%28", "%ed%a0%80", "%f4%90%80%80", "%e0%80%af", "%ff", "%00", "%0a", "%7f", "%c2%85"]);
    label = `path ${p}`;
  } else if (roll < 22) {
    const v = r.pick(SAFE_HEADER);
    headers["x-user-id"] = v;
    if (r.bool(0.3)) headers["idempotency-key"] = r.pick(SAFE_HEADER);
    label = "header x-user-id";
  } else if (roll < 28) {
    label = "auth";
    const k = r.int(0, 6);
    if (k === 0) delete headers["x-api-key"], delete headers["x-master-key"];
    else if (k === 1) headers[route.auth === "master" ? "x-master-key" : "x-api-key"] = r.pick(SAFE_HEADER);
    else if (k === 2) {
      delete headers["x-api-key"];
      delete headers["x-master-key"];
      query.push([r.pick(["api_key", "key", "x-api-key", "apiKey", "master_key"]), route.auth === "master" ? TEST_MASTER_KEY : fx.key]);
    } else if (k === 3) headers[route.auth === "master" ? "x-master-key" : "x-api-key"] = route.auth === "master" ? fx.key : TEST_MASTER_KEY;
    else if (k === 4) headers["x-api-key"] = fx.victimKey;
    else if (k === 5) headers["x-api-key"] = `${fx.key} `;
    else headers["x-api-key"] = fx.key.slice(0, -1);
  } else if (roll < 38) {
    label = "query";
    const name = route.query.length && r.bool(0.8) ? r.pick(route.query).name : r.pick(["__proto__", "constructor[prototype][x]", "limit[]", "x", "a".repeat(300), "%00"]);
    const v = r.pick(HOSTILE_QUERY_VALUES);
    const existing = query.findIndex(([k]) => k === name);
    if (r.bool(0.2)) query.push([name, v]);
    else if (existing >= 0) query[existing] = [name, v];
    else query.push([name, v]);
    if (r.bool(0.05)) query.length = 0;
  } else if (roll < 70 && baseBody !== undefined) {
    const obj = baseBody && typeof baseBody === "object" && !Array.isArray(baseBody) ? (baseBody as Record<string, unknown>) : {};
    const keys = Object.keys(obj);
    const k = r.int(0, 5);
    if (k <= 2 && keys.length) {
      const f = r.pick(keys);
      label = `body field ${f}`;
      const inner = obj[f];
      if (inner && typeof inner === "object" && !Array.isArray(inner) && r.bool(0.5)) {
        const sub = r.pick([...Object.keys(inner), "__proto__", "extra"]);
        const innerText = JSON.stringify(inner).replace(/^\{/, `{${JSON.stringify(sub)}:${hostileJsonValue(r)},`).replace(/,\}$/, "}");
        bodyText = JSON.stringify({ ...obj, [f]: "__X__" }).replace('"__X__"', innerText);
      } else bodyText = JSON.stringify({ ...obj, [f]: "__X__" }).replace('"__X__"', hostileJsonValue(r));
    } else if (k === 3 && keys.length) {
      const f = r.pick(keys);
      const { [f]: _drop, ...rest } = obj;
      bodyText = JSON.stringify(rest);
      label = `body missing ${f}`;
    } else if (k === 4) {
      const extra = r.pick(["__proto__", "constructor", "prototype", "extra", "id", "tenant_id", "seq", "sender_id", "a".repeat(500)]);
      bodyText = JSON.stringify(obj).replace(/^\{/, `{${JSON.stringify(extra)}:${hostileJsonValue(r)}${keys.length ? "," : ""}`);
      label = `body extra ${extra.slice(0, 20)}`;
    } else {
      bodyText = hostileJsonValue(r);
      label = "body whole";
    }
    body = bodyText;
  } else if (roll < 78) {
    body = malformedJson(r, bodyText ?? "{}");
    label = "malformed json";
  } else if (roll < 83) {
    const ct = r.pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=xyz", "application/xml", "application/json; charset=latin1", "application/octet-stream", "", "application/json, text/plain", "APPLICATION/JSON", "application/jsonx", "application/json; charset=utf-8; x=\"y"]);
    headers["content-type"] = ct;
    body = r.pick([bodyText ?? "{}", "content=hi&room_id=x", "--xyz\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nhi\r\n--xyz--\r\n", "<a/>", "--xyz\r\n\r\n"]);
    label = `content-type ${ct}`;
  } else if (roll < 87) {
    body = withInvalidUtf8(r, bodyText ?? '{"a":"b"}');
    label = "invalid utf-8 body";
  } else if (roll < 90) {
    if (r.bool()) {
      body = `{"content":"${"a".repeat(70_000)}"}`;
      label = "oversized body";
    } else {
      body = "oversized-stream";
      label = "oversized chunked body";
    }
  } else if (roll < 96) {
    // Raw TCP: bytes fetch() refuses.
    const path = fillPath(route, params) + queryString(query);
    const hdr: Record<string, string> = { ...headers, "content-type": "application/json" };
    const bad = r.int(0, 4);
    let target = path;
    let extraHead: (string | number[])[] = [];
    if (bad === 0) {
      extraHead = ["\r\nX-User-Id: ", r.pick([[0x00], [0x01, 0x61], [0x7f], [0x85], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x80, 0xae, 0x61], [0xff, 0xfe], [0x61, 0x0b, 0x62]])];
      delete hdr["x-user-id"];
      label = "raw header bytes";
    } else if (bad === 1) {
      extraHead = ["\r\nX-API-Key: ", r.pick(INVALID_UTF8)];
      delete hdr["x-api-key"];
      label = "raw api key bytes";
    } else if (bad === 2) {
      target = r.pick(["/rooms/../admin/tenants", "/rooms/%2e%2e/admin/tenants", "/rooms/./", "//rooms", `/rooms/${fx.roomId}/../../admin/tenants`, "/rooms/%2F..%2F", "/%2e%2e/%2e%2e/etc/passwd", `${path}/`, `${path}//`, `${path}%00`, `${path}?%`]);
      label = "raw path";
    } else label = "raw truncated body";
    const head = bytes(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1`, ...Object.entries(hdr).flatMap(([k, v]) => [`\r\n${k}: `, Buffer.from(v, "utf8") as unknown as number[]]), ...extraHead);
    const rawBody = new TextEncoder().encode(bodyText ?? "{}");
    return { label, method, target, headers: hdr, raw: { head, body: bad === 3 ? rawBody.subarray(0, Math.floor(rawBody.length / 2)) : rawBody, declaredLength: bad === 3 ? rawBody.length + 10 : undefined } };
  } else {
    method = r.pick(["PUT", "PATCH", "DELETE", "POST", "GET", "OPTIONS"].filter((m) => m !== route.method));
    label = `method ${method}`;
    if (method === "GET") body = undefined;
  }
  if (method === "GET" || method === "HEAD") body = undefined;
  if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
  return { label, method, target: fillPath(route, params) + queryString(query), headers, body };
}

function describe(c: FuzzCase): string {
  const body = c.raw ? Buffer.from(c.raw.body).toString("latin1") : typeof c.body === "string" ? c.body : c.body instanceof Uint8Array ? Buffer.from(c.body).toString("latin1") : (c.body ?? "");
  const head = c.raw ? Buffer.from(c.raw.head).toString("latin1") : `${c.method} ${c.target} ${JSON.stringify(c.headers)}`;
  return JSON.stringify(`${head.slice(0, 400)} body=${body.slice(0, 300)}${body.length > 300 ? `...(${body.length})` : ""}`);
}

// One input answered this late held the event loop (every tenant waits): a denial of service.
const SLOW_MS = 3000;
const CONTROL_IN_HEADER = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Bun's HTTP parser refuses some requests before the app sees them, with a bare status and no
 * X-Request-Id: 400 for control bytes in a header value or an unparsable request line, 431 for a
 * request head over its limit. Those are protocol-level refusals, not API answers.
 */
function refusedByBun(c: FuzzCase, a: { status: number; requestId: string | null }): boolean {
  if (a.requestId !== null) return false;
  const head = c.raw ? Buffer.from(c.raw.head).toString("latin1") : `${c.method} ${c.target}\r\n${Object.entries(c.headers).map(([k, v]) => `${k}: ${v}`).join("\r\n")}`;
  if (a.status === 431) return head.length > 8192;
  if (a.status !== 400) return false;
  if (c.raw) return true;
  return Object.values(c.headers).some((v) => CONTROL_IN_HEADER.test(v));
}

/**
 * Cluster mode only (the suite behind nginx): nginx parses the path itself and answers 400 with its
 * own HTML page, before any node sees the request, for a %-escape that is not two hex digits, an
 * escaped NUL (%00), or dot segments (also as %2e and %2f) that climb above the root. No nginx
 * setting passes these through; ChatAPI's own answer to them is checked by the runs without nginx.
 */
function refusedByBalancer(c: FuzzCase, a: { status: number; requestId: string | null }): boolean {
  if (!inCluster || c.raw || a.status !== 400 || a.requestId !== null) return false;
  const path = c.target.split("?")[0]!;
  if (/%(?![0-9a-f]{2})|%00/i.test(path)) return true;
  let depth = 0;
  for (const seg of path.replace(/%2e/gi, ".").replace(/%2f/gi, "/").split("/").slice(1)) {
    if (seg === "..") depth--;
    else if (seg !== "." && seg !== "") depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** Sends one case; returns the status (0 = no answer), the parsed body and the request id header. */
async function send(base: string, c: FuzzCase, timeoutMs: number): Promise<{ status: number; body: any; text: string; requestId: string | null; hung: boolean }> {
  if (c.raw) {
    const u = new URL(base);
    const r = await rawRequest(u.hostname, Number(u.port), c.raw.head, c.raw.body, { declaredLength: c.raw.declaredLength, timeoutMs: c.raw.declaredLength ? 1500 : timeoutMs, halfClose: !!c.raw.declaredLength });
    let body: any = null;
    try {
      body = JSON.parse(r.body);
    } catch {
      body = null;
    }
    const rid = /\r\nx-request-id: ([^\r\n]+)/i.exec(r.head)?.[1] ?? null;
    // A truncated body may legitimately get no answer: the client went away mid-request.
    return { status: r.status, body, text: r.body, requestId: rid, hung: r.timedOut && !c.raw.declaredLength };
  }
  let body: BodyInit | undefined = c.body as BodyInit | undefined;
  if (c.body === "oversized-stream") {
    const chunk = new TextEncoder().encode("a".repeat(16_384));
    let n = 0;
    body = new ReadableStream({
      pull(ctrl) {
        if (n++ < 8) ctrl.enqueue(chunk);
        else ctrl.close();
      },
    });
  }
  try {
    const res = await fetch(base + c.target, { method: c.method, headers: c.headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: res.status, body: parsed, text, requestId: res.headers.get("x-request-id"), hung: false };
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") return { status: 0, body: null, text: "", requestId: null, hung: true };
    // fetch() refused to send it (invalid header value): nothing reached the server.
    return { status: -1, body: null, text: String(err), requestId: null, hung: false };
  }
}

/** Fuzzes every route with `perRoute` inputs, `concurrency` in flight; checks answers and data. */
export async function fuzzRest(s: TestServer, routes: FuzzRoute[], fx: Fixtures, r: Prng, opts: { perRoute: number; concurrency: number; timeoutMs?: number; log?: (l: string) => void }): Promise<RestFuzzResult> {
  const res: RestFuzzResult = { tried: new Map(), statuses: new Map(), serverErrors: [], violations: [], unexplainedChanges: [], refusedByBalancer: 0 };
  const timeoutMs = opts.timeoutMs ?? 10_000;
  for (const route of routes) {
    const rr = r.fork(hash(route.key));
    const started = performance.now();
    const before = await snapshot(s.api);
    const tokens = new Set<string>();
    let i = 0;
    const worker = async () => {
      while (i < opts.perRoute) {
        i++;
        const c = generateCase(rr, route, fx);
        const t0 = performance.now();
        const a = await send(s.url, c, timeoutMs);
        const ms = performance.now() - t0;
        if (a.status === -1) continue;
        res.tried.set(route.key, (res.tried.get(route.key) ?? 0) + 1);
        res.statuses.set(a.status, (res.statuses.get(a.status) ?? 0) + 1);
        const finding = (): FuzzFinding => ({ route: route.key, label: c.label, status: a.status, input: describe(c), answer: a.text.slice(0, 300) });
        const byBalancer = refusedByBalancer(c, a);
        if (byBalancer) res.refusedByBalancer++;
        const refused = byBalancer || refusedByBun(c, a);
        if (a.status >= 500) res.serverErrors.push(finding());
        else if (a.hung) res.violations.push({ ...finding(), answer: "no answer within the timeout" });
        else if (ms > SLOW_MS && !c.raw?.declaredLength) res.violations.push({ ...finding(), answer: `answered after ${Math.round(ms)} ms: one input held the server` });
        else if (a.status === 0) continue;
        else if (!DOCUMENTED.has(a.status) && !refused) res.violations.push(finding());
        else if (a.status >= 400 && c.method !== "HEAD" && !c.raw?.declaredLength) {
          const shapeOk = a.body && a.body.error === CODE_BY_STATUS.get(a.status) && typeof a.body.message === "string" && a.body.request_id === a.requestId;
          if (!shapeOk && !refused) res.violations.push({ ...finding(), answer: `malformed error body: ${a.text.slice(0, 200)}` });
        }
        if (a.status >= 200 && a.status < 300 && !["GET", "HEAD", "OPTIONS"].includes(c.method)) {
          for (const seg of c.target.split(/[/?&=]/)) {
            try {
              tokens.add(decodeURIComponent(seg));
            } catch {
              tokens.add(seg);
            }
          }
          if (c.headers["x-user-id"]) tokens.add(c.headers["x-user-id"]);
          if (c.raw) for (const m of Buffer.from(c.raw.head).toString("latin1").matchAll(/\r\nx-user-id: ([^\r]*)/gi)) tokens.add(m[1]!);
          if (typeof c.body === "string") {
            try {
              collectTokens(JSON.parse(c.body), tokens);
            } catch {
              // not JSON
            }
          }
          collectTokens(a.body, tokens);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const changes = unexplained(diff(before, await snapshot(s.api)), tokens);
    for (const ch of changes.slice(0, 5)) res.unexplainedChanges.push(`${route.key}: ${ch.kind} ${ch.table} ${JSON.stringify(ch.after ?? ch.before).slice(0, 300)}`);
    opts.log?.(`${route.key}: ${res.tried.get(route.key) ?? 0} inputs in ${Math.round(performance.now() - started)} ms`);
  }
  return res;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

