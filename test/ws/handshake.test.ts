// Issue 4: the /ws handshake. Tokens (single use, expiry, tenant binding, precedence over headers,
// key rotation), Origin rules (list, unset, alias, `*`) and refusals answered before the upgrade with
// the JSON error and status.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, TEST_MASTER_KEY, type TestServer } from "../helpers";
import { clockPast, connectWs, makeTenant, rawHandshake, tryUpgrade, type TestTenant } from "./ws-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ WS_TOKEN_TTL: "1s", ALLOWED_ORIGINS: "http://ok.test" });
});
afterAll(() => s.stop());

async function mint(t: TestTenant, userId: string): Promise<string> {
  const r = await t.as(userId).post("/ws/token");
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ token: expect.any(String), expires_in: 1 });
  return r.body.token;
}

/** A refusal: the status, the JSON error code, and a request id matching the header. */
function expectRefused(r: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
  expect(typeof r.body.message).toBe("string");
  expect(r.body.request_id).toBe(r.headers.get("x-request-id"));
  expect(r.headers.get("content-type")).toStartWith("application/json");
}

describe("tokens", () => {
  test("a token connects once: the second connect with it gets 401 before the upgrade", async () => {
    const t = await makeTenant(s, "tok-once");
    const token = await mint(t, "alice");
    const c = await connectWs(s.wsUrl, { token });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "alice", heartbeat_s: 30 });
    expectRefused(await tryUpgrade(s.url, `?token=${encodeURIComponent(token)}`, {}), 401, "unauthorized");
    // The first socket is unaffected.
    await c.barrier();
    await c.close();
  });

  test("a token expires after WS_TOKEN_TTL", async () => {
    const t = await makeTenant(s, "tok-ttl");
    const token = await mint(t, "alice");
    const mintedBy = Date.now();
    await clockPast(mintedBy, 1050);
    expectRefused(await tryUpgrade(s.url, `?token=${encodeURIComponent(token)}`, {}), 401, "unauthorized");
  });

  test("unknown and malformed tokens get 401", async () => {
    for (const token of ["x", "A".repeat(43), "A".repeat(500)]) {
      expectRefused(await tryUpgrade(s.url, `?token=${token}`, {}), 401, "unauthorized");
    }
  });

  test("a token minted by tenant A connects as A's user and cannot see tenant B's rooms", async () => {
    const a = await makeTenant(s, "tok-a");
    const b = await makeTenant(s, "tok-b");
    const roomA = await a.room("alice", ["bob"]);
    const roomB = await b.room("bob", ["alice"]);
    // B's alice has unread messages: none of them may be replayed to A's alice.
    expect((await b.as("bob").post(`/rooms/${roomB}/messages`, { content: "for B's alice" })).status).toBe(201);
    expect((await a.as("bob").post(`/rooms/${roomA}/messages`, { content: "for A's alice" })).status).toBe(201);

    const c = await connectWs(s.wsUrl, { token: await mint(a, "alice") });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "alice" });
    expect(c.messages().map((m) => [m.room_id, m.content])).toEqual([[roomA, "for A's alice"]]);
    expect((await c.call("list_rooms")).rooms.map((r: any) => r.room_id)).toEqual([roomA]);
    expect(await c.request("sync", { room_id: roomB })).toMatchObject({ type: "error", error: "not_found" });
    expect(await c.request("send_message", { room_id: roomB, content: "x" })).toMatchObject({ type: "error", error: "not_found" });

    expect((await b.as("bob").post(`/rooms/${roomB}/messages`, { content: "live in B" })).status).toBe(201);
    await c.barrier();
    expect(c.frames.filter((f) => f.room_id === roomB)).toEqual([]);
    await c.close();
  });

  test("?token= takes precedence: headers are then ignored", async () => {
    const a = await makeTenant(s, "tok-prec-a");
    const b = await makeTenant(s, "tok-prec-b");
    const roomA = await a.room("alice", ["bob"]);
    // Valid token + another tenant's key and another user in headers: the token decides.
    const c = await connectWs(s.wsUrl, { token: await mint(a, "alice"), headers: b.headers("mallory") });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "alice" });
    expect((await c.call("list_rooms")).rooms.map((r: any) => r.room_id)).toEqual([roomA]);
    await c.close();
    // Valid headers + a bad token: refused (headers are no fallback).
    expectRefused(await tryUpgrade(s.url, "?token=not-a-real-token-0123456789", a.headers("alice")), 401, "unauthorized");
    // Valid token + a missing or invalid X-User-Id header: still accepted.
    const d = await connectWs(s.wsUrl, { token: await mint(a, "bob"), headers: { "X-User-Id": "x".repeat(200) } });
    expect(d.frames[0]).toMatchObject({ type: "connected", user_id: "bob" });
    await d.close();
  });

  test("a key rotation does not end a token (the old key stops working at once)", async () => {
    const t = await makeTenant(s, "tok-rotate");
    const token = await mint(t, "alice");
    const rotated = await s.raw({ "x-master-key": TEST_MASTER_KEY }).post(`/admin/tenants/${t.tenant_id}/rotate-key`);
    expect(rotated.status).toBe(200);
    expectRefused(await tryUpgrade(s.url, "", t.headers("alice")), 401, "unauthorized");
    const c = await connectWs(s.wsUrl, { token });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "alice" });
    const fresh = await connectWs(s.wsUrl, { headers: { "X-API-Key": rotated.body.api_key, "X-User-Id": "alice" } });
    await fresh.close();
    await c.close();
  });
});

describe("refusals before the upgrade", () => {
  test("400 missing or invalid X-User-Id, 401 missing or bad key", async () => {
    const t = await makeTenant(s, "refuse");
    expectRefused(await tryUpgrade(s.url, "", { "X-API-Key": t.api_key }), 400, "invalid_request");
    expectRefused(await tryUpgrade(s.url, "", { "X-API-Key": t.api_key, "X-User-Id": "u".repeat(129) }), 400, "invalid_request");
    expectRefused(await tryUpgrade(s.url, "", { "X-API-Key": "wrong-key", "X-User-Id": "alice" }), 401, "unauthorized");
    expectRefused(await tryUpgrade(s.url, "", { "X-User-Id": "alice" }), 401, "unauthorized");
    // The master key is not a tenant key.
    expectRefused(await tryUpgrade(s.url, "", { "X-API-Key": TEST_MASTER_KEY, "X-User-Id": "alice" }), 401, "unauthorized");
    // The key is never read from the query string.
    expectRefused(await tryUpgrade(s.url, `?api_key=${t.api_key}&x-api-key=${t.api_key}`, { "X-User-Id": "alice" }), 401, "unauthorized");
  });

  test("429 when the tenant bucket is empty (rate_limit 1, burst 2): each handshake costs one token", async () => {
    const t = await makeTenant(s, "refuse-rate", { rate_limit: 1, rate_limit_burst: 2 });
    const first = await rawHandshake(s.url, "/ws", t.headers("alice"));
    const second = await rawHandshake(s.url, "/ws", t.headers("alice"));
    expect([first.status, second.status]).toEqual([101, 101]);
    const third = await tryUpgrade(s.url, "", t.headers("alice"));
    expectRefused(third, 429, "rate_limit_exceeded");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get("ratelimit-limit")).toBe("2");
    expect(third.headers.get("ratelimit-remaining")).toBe("0");
    first.socket.end();
    second.socket.end();
  });
});

describe("origins", () => {
  test("ALLOWED_ORIGINS lists the allowed origins; others get 403 forbidden; no Origin is allowed", async () => {
    const t = await makeTenant(s, "origin-list");
    const ok = await connectWs(s.wsUrl, { headers: t.headers("alice", { Origin: "http://ok.test" }) });
    expect(ok.frames[0]).toMatchObject({ type: "connected" });
    await ok.close();
    const raw = await rawHandshake(s.url, "/ws", t.headers("alice", { Origin: "http://ok.test" }));
    expect(raw.status).toBe(101);
    raw.socket.end();
    expectRefused(await tryUpgrade(s.url, "", t.headers("alice", { Origin: "http://evil.test" })), 403, "forbidden");
    expectRefused(await tryUpgrade(s.url, "", t.headers("alice", { Origin: "https://ok.test" })), 403, "forbidden");
    // Also with a token: the origin is checked whatever the credentials.
    expectRefused(await tryUpgrade(s.url, `?token=${await mint(t, "alice")}`, { Origin: "http://evil.test" }), 403, "forbidden");
    const server = await connectWs(s.wsUrl, { headers: t.headers("alice") });
    await server.close();
  });

  test("ALLOWED_ORIGINS unset: every request with an Origin is refused, requests without one are allowed", async () => {
    const u = await startTestServer();
    try {
      const t = await makeTenant(u, "origin-unset");
      expectRefused(await tryUpgrade(u.url, "", t.headers("alice", { Origin: "http://ok.test" })), 403, "forbidden");
      const c = await connectWs(u.wsUrl, { headers: t.headers("alice") });
      await c.close();
    } finally {
      await u.stop();
    }
  });

  test("WS_ALLOWED_ORIGINS is an alias of ALLOWED_ORIGINS", async () => {
    const u = await startTestServer({ WS_ALLOWED_ORIGINS: "http://ok.test,http://also.test" });
    try {
      const t = await makeTenant(u, "origin-alias");
      for (const origin of ["http://ok.test", "http://also.test"]) {
        expect((await rawHandshake(u.url, "/ws", t.headers("alice", { Origin: origin }))).status).toBe(101);
      }
      expectRefused(await tryUpgrade(u.url, "", t.headers("alice", { Origin: "http://evil.test" })), 403, "forbidden");
    } finally {
      await u.stop();
    }
  });

  test("ALLOWED_ORIGINS=* allows any origin", async () => {
    const u = await startTestServer({ ALLOWED_ORIGINS: "*" });
    try {
      const t = await makeTenant(u, "origin-star");
      const c = await connectWs(u.wsUrl, { headers: t.headers("alice", { Origin: "http://anything.example" }) });
      await c.close();
      expect((await rawHandshake(u.url, "/ws", t.headers("alice", { Origin: "https://evil.test" }))).status).toBe(101);
    } finally {
      await u.stop();
    }
  });
});
