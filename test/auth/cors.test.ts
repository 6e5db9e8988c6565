// Issue 17: CORS for browsers calling REST directly (with a JWT or the key). Origins come from
// ALLOWED_ORIGINS, the list the WebSocket handshake uses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { jwtTenant, type JwtTenant } from "./jwt-helpers";

let s: TestServer;
let t: JwtTenant;
beforeAll(async () => {
  s = await startTestServer({ ALLOWED_ORIGINS: "https://app.test, http://localhost:5173/" });
  t = await jwtTenant(s, "cors");
});
afterAll(() => s.stop());

const preflight = (origin: string, path = "/rooms", requestHeaders = "authorization, content-type") =>
  fetch(`${s.url}${path}`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": requestHeaders } });

describe("preflight", () => {
  test("an allowed origin: 204 with methods, headers (Authorization included) and a max age", async () => {
    const r = await preflight("https://app.test");
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.test");
    expect(r.headers.get("vary")).toContain("Origin");
    const methods = r.headers.get("access-control-allow-methods")!.split(/,\s*/);
    for (const m of ["GET", "POST", "PATCH", "DELETE"]) expect(methods).toContain(m);
    const allowed = r.headers.get("access-control-allow-headers")!.toLowerCase().split(/,\s*/);
    for (const h of ["authorization", "content-type", "x-api-key", "x-user-id", "idempotency-key"]) expect(allowed).toContain(h);
    expect(Number(r.headers.get("access-control-max-age"))).toBeGreaterThan(0);
  });

  test("an origin listed with a trailing slash matches without it", async () => {
    expect((await preflight("http://localhost:5173")).headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });

  test("another origin: no CORS headers (the browser then blocks the call)", async () => {
    const r = await preflight("https://evil.test");
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(r.headers.get("access-control-allow-headers")).toBeNull();
  });
});

describe("actual responses", () => {
  test("a Bearer call from an allowed origin carries Allow-Origin, Vary and the exposed headers", async () => {
    const r = await fetch(`${s.url}/rooms`, { headers: { Origin: "https://app.test", Authorization: `Bearer ${await t.token("alice")}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.test");
    expect(r.headers.get("vary")).toContain("Origin");
    const exposed = r.headers.get("access-control-expose-headers")!.toLowerCase().split(/,\s*/);
    for (const h of ["x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"]) expect(exposed).toContain(h);
  });

  test("errors carry the CORS headers too (a browser can read the 401 body)", async () => {
    const r = await fetch(`${s.url}/rooms`, { headers: { Origin: "https://app.test", Authorization: "Bearer nope" } });
    expect(r.status).toBe(401);
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.test");
  });

  test("another origin gets no Allow-Origin, but Vary: Origin so caches keep answers apart", async () => {
    const r = await fetch(`${s.url}/rooms`, { headers: { Origin: "https://evil.test", Authorization: `Bearer ${await t.token("alice")}` } });
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(r.headers.get("vary")).toContain("Origin");
  });
});

test("without ALLOWED_ORIGINS no origin gets CORS headers", async () => {
  const bare = await startTestServer();
  try {
    const r = await fetch(`${bare.url}/rooms`, { method: "OPTIONS", headers: { Origin: "https://app.test", "Access-Control-Request-Method": "GET" } });
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  } finally {
    await bare.stop();
  }
});
