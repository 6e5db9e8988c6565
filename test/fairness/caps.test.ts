// Issue 13 (docs/reference/limits.md): MAX_ROOM_MEMBERS, the tenant and node WebSocket caps, and a
// refused handshake never using up a single-use token. Small caps are configured so the tests stay
// fast. In cluster mode (CHATAPI_TEST_STORE=cluster) the tenant cap counts the sockets of both nodes
// and WS_MAX_CONNECTIONS holds per node (node A is addressed directly).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { connectWs, makeTenant, tryUpgrade, type TestTenant, type WsConn } from "../ws/ws-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ MAX_ROOM_MEMBERS: "3", WS_MAX_CONNECTIONS: "4", ALLOWED_ORIGINS: "https://app.example.com" });
});
afterAll(() => s.stop());

/** Connects once the tenant has room again (in cluster mode a close reaches the shared count a moment later). */
async function connectWhenFree(t: TestTenant, userId: string): Promise<WsConn> {
  let conn: WsConn | null = null;
  await waitFor(async () => {
    conn = await t.connect(userId).catch(() => null);
    return conn !== null;
  }, 5000, "a free connection slot");
  return conn!;
}

describe("MAX_ROOM_MEMBERS", () => {
  test("creating a room with more members is 409; adding past it is 409 and adds nobody", async () => {
    const t = await makeTenant(s, "members-cap");
    const over = await t.as("a").post("/rooms", { type: "group", name: "g", members: ["b", "c", "d"] });
    expect(over.status).toBe(409);
    expect(over.body.error).toBe("conflict");
    const g = await t.as("a").post("/rooms", { type: "group", name: "g", members: ["b"] });
    expect(g.status).toBe(201);
    const past = await t.as("a").post(`/rooms/${g.body.room_id}/members`, { user_ids: ["c", "d"] });
    expect(past.status).toBe(409);
    expect((await t.as("a").get(`/rooms/${g.body.room_id}/members`)).body.members.map((m: any) => m.user_id)).toEqual(["a", "b"]);
    expect((await t.as("a").post(`/rooms/${g.body.room_id}/members`, { user_ids: ["c"] })).status).toBe(200);
    // A channel self-join past the cap is refused the same way.
    const ch = await t.as("a").post("/rooms", { type: "channel", name: "c", members: ["b", "c"] });
    expect((await t.as("z").post(`/rooms/${ch.body.room_id}/members`, { user_ids: ["z"] })).status).toBe(409);
  });
});

describe("WebSocket caps", () => {
  test("tenant max_connections: the next handshake is 429 rate_limit_exceeded with Retry-After; others are not affected", async () => {
    const t = await makeTenant(s, "tenant-cap", { max_connections: 2 });
    const tenant = await (await fetch(`${s.url}/admin/tenants/${t.tenant_id}`, { headers: { "x-master-key": "test-master-key-0123456789abcdef" } })).json() as any;
    expect(tenant.config.max_connections).toBe(2);
    // One socket on node A, one through the front (either node in cluster mode).
    const a = await connectWs(`${s.api.url.replace(/^http/, "ws")}/ws`, { headers: t.headers("u1") });
    const b = await t.connect("u2");
    for (let i = 0; i < 2; i++) {
      const refused = await tryUpgrade(s.url, "", t.headers("u3"));
      expect(refused.status).toBe(429);
      expect(refused.body.error).toBe("rate_limit_exceeded");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    const other = await makeTenant(s, "tenant-cap-other");
    const c = await other.connect("u1");
    await a.close();
    const again = await connectWhenFree(t, "u3");
    for (const x of [b, c, again]) await x.close();
  });

  test("WS_MAX_CONNECTIONS per node: the next handshake is 503 unavailable", async () => {
    const t = await makeTenant(s, "node-cap");
    const nodeA = s.api.url;
    const open = (u: string) => connectWs(`${nodeA.replace(/^http/, "ws")}/ws`, { headers: t.headers(u) });
    const socks = [];
    for (let i = 0; i < 4; i++) socks.push(await open(`n${i}`));
    try {
      const refused = await tryUpgrade(nodeA, "", t.headers("n9"));
      expect(refused.status).toBe(503);
      expect(refused.body.error).toBe("unavailable");
      await socks[0]!.close();
      socks[0] = await open("n9");
    } finally {
      for (const x of socks) await x.close();
    }
  });
});

describe("a refused handshake does not use up a single-use token", () => {
  test("refused for the tenant cap, then for the origin, then for the rate: the same token still connects once", async () => {
    const t = await makeTenant(s, "token-kept", { max_connections: 1 });
    const first = await t.connect("holder");
    const tok = (await t.as("browser").post("/ws/token")).body.token as string;
    const q = `?token=${encodeURIComponent(tok)}`;
    expect((await tryUpgrade(s.url, q, {})).status).toBe(429);
    expect((await tryUpgrade(s.url, q, { Origin: "https://evil.example.com" })).status).toBe(403);
    await first.close();
    // The freed slot (in cluster mode the shared count follows the close a moment later).
    await waitFor(async () => ((await s.api.gateway.cluster?.tenantCount(t.tenant_id)) ?? 0) === 0, 5000, "the slot to free");
    // Rate limit: a tenant whose bucket is empty.
    const master = { "x-master-key": "test-master-key-0123456789abcdef", "content-type": "application/json" };
    await fetch(`${s.url}/admin/tenants/${t.tenant_id}`, { method: "PATCH", headers: master, body: JSON.stringify({ config: { rate_limit: 1, rate_limit_burst: 1 } }) });
    // Empty the bucket (one token per REST request), then the handshake is refused for the rate.
    while ((await t.as("drain").get("/rooms")).status !== 429);
    const limited = await tryUpgrade(s.url, q, {});
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("rate_limit_exceeded");
    await fetch(`${s.url}/admin/tenants/${t.tenant_id}`, { method: "PATCH", headers: master, body: JSON.stringify({ config: { rate_limit: 100000, rate_limit_burst: null } }) });
    const ok = await connectWs(s.wsUrl, { token: tok });
    expect(ok.frames[0]).toMatchObject({ type: "connected", user_id: "browser" });
    await ok.close();
    // Single use still holds once it has been used.
    expect((await tryUpgrade(s.url, q, {})).status).toBe(401);
  }, 15_000);
});
