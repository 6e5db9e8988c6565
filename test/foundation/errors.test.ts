// Every error shape of docs/reference/rest.md#conventions over real HTTP, plus the mapping of unexpected errors.
import { StorageUnavailableError } from "../../src/storage/errors";
import { classify } from "../../src/storage/sqlite/errors";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DestinationStream } from "pino";
import { AppError, errorBody } from "../../src/errors";
import { errorResponse, toAppError } from "../../src/http/errors";
import { createLogger } from "../../src/log";
import { startTestServer, TEST_MASTER_KEY, waitFor, type TestServer } from "../helpers";

const MAX = 2048;
let s: TestServer;
const M = { "x-master-key": TEST_MASTER_KEY };

beforeAll(async () => {
  s = await startTestServer({ MAX_BODY_BYTES: String(MAX) });
});
afterAll(() => s.stop());

interface Raw {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function send(method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit["body"] } = {}): Promise<Raw> {
  const res = await fetch(s.url + path, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, body };
}

/** The error shape: {error, message, request_id} with request_id equal to X-Request-Id, JSON content type. */
function expectErrorShape(r: Raw, status: number, code: string): void {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
  expect(r.body).not.toBeNull();
  expect(r.body.error).toBe(code);
  expect(typeof r.body.message).toBe("string");
  expect(r.body.message.length).toBeGreaterThan(0);
  expect(r.body.request_id).toMatch(/^req_/);
  expect(r.headers.get("x-request-id")).toBe(r.body.request_id);
}

/** Sends raw bytes over TCP and returns the first response (the connection is closed by us afterwards). */
async function rawHttp(payload: string | Uint8Array[]): Promise<{ status: number; head: string; body: string }> {
  const u = new URL(s.url);
  let buf = "";
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const complete = () => {
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const m = /content-length:\s*(\d+)/i.exec(buf.slice(0, end));
    return m ? buf.length - end - 4 >= Number(m[1]) : false;
  };
  const sock = await Bun.connect({
    hostname: u.hostname,
    port: Number(u.port),
    socket: {
      data(_s, d) {
        buf += new TextDecoder().decode(d);
        if (complete()) resolveDone();
      },
      close() {
        resolveDone();
      },
      error() {
        resolveDone();
      },
    },
  });
  for (const part of typeof payload === "string" ? [payload] : payload) sock.write(part);
  sock.flush();
  // A timeout, not a sleep: resolves early as soon as the response is complete.
  const timer = setTimeout(resolveDone, 5000);
  await done;
  clearTimeout(timer);
  sock.end();
  const end = buf.indexOf("\r\n\r\n");
  const head = buf.slice(0, end);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: buf.slice(end + 4) };
}

describe("400 invalid_request", () => {
  test("malformed JSON is 400 invalid_request", async () => {
    const r = await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: '{"name": "x",' });
    expectErrorShape(r, 400, "invalid_request");
  });

  test("a schema violation is 400 with details [{path, message}]", async () => {
    const r = await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: JSON.stringify({ name: 42 }) });
    expectErrorShape(r, 400, "invalid_request");
    expect(r.body.details.length).toBeGreaterThan(0);
    expect(r.body.details[0]).toEqual({ path: "/name", message: expect.any(String) });
  });

  test("a bad query value is 400 with details naming the query field", async () => {
    const r = await send("GET", "/metrics?format=xml");
    expectErrorShape(r, 400, "invalid_request");
    expect(r.body.details.map((d: any) => d.path)).toContain("/query/format");
  });
});

describe("401 and 404", () => {
  test("missing credentials are 401 unauthorized", async () => {
    expectErrorShape(await send("GET", "/admin/tenants"), 401, "unauthorized");
  });

  test("an unknown route is 404 not_found JSON", async () => {
    expectErrorShape(await send("GET", "/no/such/route"), 404, "not_found");
    expectErrorShape(await send("POST", "/no/such/route", { headers: { "content-type": "application/json" }, body: "{}" }), 404, "not_found");
  });

  test("a known path with the wrong method is 404 not_found JSON", async () => {
    expectErrorShape(await send("DELETE", "/health"), 404, "not_found");
    expectErrorShape(await send("POST", "/metrics", { headers: { "content-type": "application/json" }, body: "{}" }), 404, "not_found");
    expectErrorShape(await send("PUT", "/admin/tenants", { headers: M }), 404, "not_found");
  });
});

describe("413 payload_too_large", () => {
  const oversized = JSON.stringify({ name: "x".repeat(MAX) });

  test("a body over MAX_BODY_BYTES with Content-Length is 413", async () => {
    const r = await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: oversized });
    expectErrorShape(r, 413, "payload_too_large");
  });

  test("the limit is inclusive: exactly MAX_BODY_BYTES is parsed, one byte more is 413", async () => {
    const exact = JSON.stringify({ name: "y".repeat(MAX - 11) });
    expect(Buffer.byteLength(exact)).toBe(MAX);
    // Parsed (and refused by the schema: name is at most 200 chars), so not a 413.
    expectErrorShape(await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: exact }), 400, "invalid_request");
    const over = JSON.stringify({ name: "y".repeat(MAX - 10) });
    expectErrorShape(await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: over }), 413, "payload_too_large");
  });

  test("a chunked body (ReadableStream) over the limit is 413", async () => {
    const chunk = new TextEncoder().encode("z".repeat(700));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(chunk);
        c.close();
      },
    });
    const r = await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: stream });
    expectErrorShape(r, 413, "payload_too_large");
  });

  test("an explicit Transfer-Encoding: chunked body over the limit is 413", async () => {
    const u = new URL(s.url);
    const chunk = "a".repeat(1000);
    const head = `POST /admin/tenants HTTP/1.1\r\nHost: ${u.host}\r\nX-Master-Key: ${TEST_MASTER_KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    const body = [1, 2, 3].map(() => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("") + "0\r\n\r\n";
    const r = await rawHttp(head + body);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toBe("payload_too_large");
  });

  test("a chunked body under the limit is read and handled normally", async () => {
    const json = new TextEncoder().encode(JSON.stringify({ name: "streamed" }));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(json.slice(0, 5));
        c.enqueue(json.slice(5));
        c.close();
      },
    });
    const r = await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: stream });
    expect(r.status).toBe(201);
    expect(r.body.name).toBe("streamed");
  });

  test("413 comes before parsing: an oversized malformed body is 413, not 400", async () => {
    const r = await send("POST", "/admin/tenants", { headers: { ...M, "content-type": "application/json" }, body: "{".repeat(MAX + 1) });
    expectErrorShape(r, 413, "payload_too_large");
  });

  test("a Content-Length far over the limit (beyond any server backstop) still gets the JSON 413 with X-Request-Id", async () => {
    const u = new URL(s.url);
    const r = await rawHttp(`POST /admin/tenants HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\n\r\n`);
    expect(r.status).toBe(413);
    const body = JSON.parse(r.body);
    expect(body.error).toBe("payload_too_large");
    expect(r.head.toLowerCase()).toContain(`x-request-id: ${body.request_id.toLowerCase()}`);
  });

  test("413 comes before authentication and before the body is sent", async () => {
    // Only the headers are sent; the server must answer from Content-Length alone.
    const u = new URL(s.url);
    const r = await rawHttp(`POST /admin/tenants HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: 500000\r\n\r\n`);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toBe("payload_too_large");
  });
});

describe("500 internal_error", () => {
  test("an unexpected failure is 500 with a generic message; the log has the request id and the cause", async () => {
    await s.createTenant("corrupt-me");
    // A store read that fails with a plain SyntaxError (as a corrupt stored value would) inside the handler.
    const reads = s.api.store.tenants as { list: () => Promise<unknown> };
    const list = reads.list;
    reads.list = async () => JSON.parse("not-json{");
    try {
      const r = await send("GET", "/admin/tenants", { headers: M });
      expectErrorShape(r, 500, "internal_error");
      expect(r.body.message).toBe("internal error");
      expect(Object.keys(r.body).sort()).toEqual(["error", "message", "request_id"]);
      expect(r.text).not.toContain("JSON");
      expect(r.text).not.toContain("tenants.ts");
      const line = await waitFor(() => s.logs.map((l) => JSON.parse(l)).find((l) => l.request_id === r.body.request_id && l.msg === "unhandled error"), 2000, "unhandled error log");
      expect(line.level).toBe("error");
      expect(JSON.stringify(line.err)).toContain("SyntaxError");
    } finally {
      reads.list = list;
    }
  });

  test("toAppError turns an unknown Error into a generic internal_error without its message", () => {
    const logs: string[] = [];
    const log = createLogger("info", { write: (l: string) => void logs.push(l) } as DestinationStream);
    const err = toAppError("UNKNOWN", new Error("secret detail: password=hunter2"), "req_unit1", log, "GET /x");
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("internal_error");
    expect(err.status).toBe(500);
    expect(err.message).toBe("internal error");
    const body = errorBody(err, "req_unit1");
    expect(body).toEqual({ error: "internal_error", message: "internal error", request_id: "req_unit1" });
    expect(JSON.stringify(body)).not.toContain("hunter2");
    const line = JSON.parse(logs.find((l) => l.includes("req_unit1"))!);
    expect(line.request_id).toBe("req_unit1");
    expect(line.level).toBe("error");
  });

  test("toAppError maps thrown non-Error values to internal_error too", () => {
    const log = createLogger("silent");
    expect(toAppError("UNKNOWN", "a string", "req_u2", log, "GET /x").code).toBe("internal_error");
    expect(toAppError("UNKNOWN", { weird: true }, "req_u3", log, "GET /x").code).toBe("internal_error");
  });

  test("a database that cannot take writes maps to 503 unavailable, not 500 (the store classifies, HTTP maps and logs)", () => {
    const logs: string[] = [];
    const log = createLogger("info", { write: (l: string) => void logs.push(l) } as never);
    const e = classify(Object.assign(new Error("attempt to write a readonly database"), { code: "SQLITE_READONLY" }));
    expect(e).toBeInstanceOf(StorageUnavailableError);
    const err = toAppError("UNKNOWN", e, "req_u4", log, "POST /x");
    expect(err.code).toBe("unavailable");
    expect(err.status).toBe(503);
    expect(logs.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ request_id: "req_u4", err_code: "SQLITE_READONLY", msg: "database unavailable" }));
  });

  test("AppErrors pass through unchanged; errorResponse carries their headers, details and extra fields", async () => {
    const log = createLogger("silent");
    const orig = new AppError("rate_limit_exceeded", "slow down", [{ path: "/x", message: "m" }], { retry_after_ms: 1500 });
    orig.headers = { "Retry-After": "2" };
    expect(toAppError("UNKNOWN", orig, "req_u5", log, "GET /x")).toBe(orig);
    const res = errorResponse(orig, "req_u5");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(res.headers.get("x-request-id")).toBe("req_u5");
    expect(await res.json()).toEqual({ error: "rate_limit_exceeded", message: "slow down", request_id: "req_u5", details: [{ path: "/x", message: "m" }], retry_after_ms: 1500 });
  });
});

describe("X-Request-Id", () => {
  test("every response carries a distinct X-Request-Id, successes included", async () => {
    const ids = new Set<string>();
    const reqs: [string, string, Record<string, string>?][] = [
      ["GET", "/health"],
      ["GET", "/metrics"],
      ["GET", "/metrics?format=json"],
      ["GET", "/docs"],
      ["GET", "/docs/json"],
      ["GET", "/admin/tenants", M],
      ["GET", "/nope"],
      ["OPTIONS", "/admin/tenants"],
    ];
    for (const [method, path, headers] of reqs) {
      const r = await send(method, path, { headers });
      const id = r.headers.get("x-request-id");
      expect(id).toMatch(/^req_/);
      ids.add(id!);
    }
    expect(ids.size).toBe(reqs.length);
  });

  test("JSON success responses use application/json; charset=utf-8", async () => {
    for (const p of ["/health", "/metrics?format=json", "/docs/json"]) {
      const r = await send("GET", p);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    }
  });
});
