// Cluster-wide state (docs/guides/scaling.md): the per-user socket cap counts every node, rate limits are
// shared, single-use ws tokens are single-use cluster-wide, and key rotation, tenant config and
// membership changes made on one node take effect on the others within 1 s.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../helpers";
import { connectWs, keyHeaders, openWs, tryUpgrade } from "../ws/ws-helpers";
import { claims, SECRET, signHs } from "../auth/jwt-helpers";
import { clusterUnavailable, startCluster, type Cluster } from "./harness";

const skip = (await clusterUnavailable()) !== null;
let c: Cluster;
const wsUrl = (node: number) => c.nodes[node]!.url.replace(/^http/, "ws") + "/ws";

beforeAll(async () => {
  if (!skip) c = await startCluster({ nodes: 3, env: { WS_MAX_CONNECTIONS_PER_USER: "2" } });
}, 60_000);
afterAll(async () => {
  if (!skip) await c.stop();
}, 30_000);

/** Polls until `pred` holds; returns how long it took (ms). */
async function within(pred: () => Promise<boolean>, what: string): Promise<number> {
  const start = performance.now();
  await waitFor(pred, 3000, what);
  return performance.now() - start;
}

describe.skipIf(skip)("cluster-wide state", () => {
  test("WS_MAX_CONNECTIONS_PER_USER counts sockets on every node: the third socket, on a third node, is closed with 1008 before any frame, its frames unread", async () => {
    const t = await c.createTenant();
    const u = c.client(c.url, t.api_key, "u");
    const room = (await u.post("/rooms", { type: "group", members: ["v"] })).body.room_id as string;
    const a = await connectWs(wsUrl(0), { headers: keyHeaders(t.api_key, "u") });
    const b = await connectWs(wsUrl(1), { headers: keyHeaders(t.api_key, "u") });
    const third = openWs(wsUrl(2), { headers: keyHeaders(t.api_key, "u") });
    // Sent the moment it opens, before node C has heard from Redis whether the socket is admitted.
    third.ws.addEventListener("open", () => third.send(JSON.stringify({ type: "send_message", id: "r1", data: { room_id: room, content: "over the cap" } })));
    expect((await third.closed).code).toBe(1008);
    // As on one node (docs/reference/websocket.md): closed before any frame, `connected` included.
    expect(third.frames).toEqual([]);
    // The closed socket's frame was never acted upon: the room is still empty.
    expect((await u.get(`/rooms/${room}/messages`)).body.messages).toEqual([]);
    await a.close();
    // A slot freed on node A is usable on node C (once node A has released it in Redis).
    const again = await waitFor(async () => {
      const s = openWs(wsUrl(2), { headers: keyHeaders(t.api_key, "u") });
      return Promise.race([s.waitForFrame((f) => f.type === "sync.complete", 3000, "sync").then(() => s), s.closed.then(() => null)]);
    }, 3000, "a socket on node C after one closed on node A");
    await again.close();
    await b.close();
  });

  test("a tenant's rate limit is shared: 10 req/s with burst 10 across three nodes admits about 10 + 10/s, not three times that", async () => {
    const t = await c.createTenant({ rate_limit: 10, rate_limit_burst: 10 });
    const start = performance.now();
    // Round-robin through nginx: each node sees a third of them.
    const codes = await Promise.all(Array.from({ length: 45 }, () => c.client(c.url, t.api_key, "u").get("/rooms").then((r) => r.status)));
    const elapsedS = (performance.now() - start) / 1000;
    const ok = codes.filter((s) => s === 200).length;
    expect(codes.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThanOrEqual(10 + Math.ceil(10 * elapsedS) + 1);
    expect(ok).toBeLessThan(30);
  });

  test("a ws token is single-use cluster-wide: redeemed on node A, refused on node B", async () => {
    const t = await c.createTenant();
    const tok = (await c.client(c.nodes[0]!.url, t.api_key, "u").post("/ws/token")).body.token as string;
    const first = await connectWs(wsUrl(1), { token: tok });
    const second = await tryUpgrade(c.nodes[2]!.url, `?token=${encodeURIComponent(tok)}`, {});
    expect(second.status).toBe(401);
    await first.close();
  });

  test("key rotation on node A: the old key is refused on B and C within 1 s", async () => {
    const t = await c.createTenant();
    // B and C have the key cached.
    for (const i of [1, 2]) expect((await c.client(c.nodes[i]!.url, t.api_key, "u").get("/rooms")).status).toBe(200);
    const rotated = await c.client(c.nodes[0]!.url, "", undefined).post(`/admin/tenants/${t.tenant_id}/rotate-key`, {}, { "x-master-key": (await import("../helpers")).TEST_MASTER_KEY });
    expect(rotated.status).toBe(200);
    for (const i of [1, 2]) {
      const ms = await within(async () => (await c.client(c.nodes[i]!.url, t.api_key, "u").get("/rooms")).status === 401, `old key refused on node ${i}`);
      expect(ms).toBeLessThan(1000);
      expect((await c.client(c.nodes[i]!.url, rotated.body.api_key, "u").get("/rooms")).status).toBe(200);
    }
  });

  test("a tenant config change on node A applies on B and C within 1 s (RateLimit-Limit follows)", async () => {
    const t = await c.createTenant({ rate_limit: 1000 });
    for (const i of [1, 2]) expect((await c.client(c.nodes[i]!.url, t.api_key, "u").get("/rooms")).headers.get("ratelimit-limit")).toBe("2000");
    const { TEST_MASTER_KEY } = await import("../helpers");
    expect((await c.client(c.nodes[0]!.url, "").patch(`/admin/tenants/${t.tenant_id}`, { config: { rate_limit: 500 } }, { "x-master-key": TEST_MASTER_KEY })).status).toBe(200);
    for (const i of [1, 2]) {
      const ms = await within(async () => (await c.client(c.nodes[i]!.url, t.api_key, "u").get("/rooms")).headers.get("ratelimit-limit") === "1000", `new config on node ${i}`);
      expect(ms).toBeLessThan(1000);
    }
  });

  test("a JWT key change on node A closes the tenant's JWT sockets on B and C with 4001 within 1 s; API-key sockets stay", async () => {
    const { TEST_MASTER_KEY } = await import("../helpers");
    const t = await c.createTenant({ jwt_secret: SECRET });
    const token = await signHs(SECRET, claims(t.tenant_id, "jay"));
    const onB = await connectWs(`${wsUrl(1)}`, { token });
    const onC = await connectWs(`${wsUrl(2)}`, { token });
    const byKey = await connectWs(wsUrl(2), { headers: keyHeaders(t.api_key, "kay") });
    const start = performance.now();
    expect((await c.client(c.nodes[0]!.url, "").patch(`/admin/tenants/${t.tenant_id}`, { config: { jwt_secret: "r".repeat(40) } }, { "x-master-key": TEST_MASTER_KEY })).status).toBe(200);
    for (const s of [onB, onC]) expect((await s.closed).code).toBe(4001);
    expect(performance.now() - start).toBeLessThan(1000);
    await byKey.barrier();
    expect(byKey.closeInfo).toBeUndefined();
    await byKey.close();
  });

  test("member removal on node A: the removed member's sockets on B and C get nothing more, and B and C refuse them within 1 s", async () => {
    const t = await c.createTenant();
    const room = (await c.client(c.nodes[0]!.url, t.api_key, "owner").post("/rooms", { type: "group", name: "g", members: ["bob", "carol"] })).body.room_id as string;
    // B and C have the room (and bob's membership) cached.
    for (const i of [1, 2]) expect((await c.client(c.nodes[i]!.url, t.api_key, "bob").get(`/rooms/${room}/messages`)).status).toBe(200);
    const bobB = await connectWs(wsUrl(1), { headers: keyHeaders(t.api_key, "bob") });
    const bobC = await connectWs(wsUrl(2), { headers: keyHeaders(t.api_key, "bob") });
    const carol = await connectWs(wsUrl(2), { headers: keyHeaders(t.api_key, "carol") });
    const carolB = await connectWs(wsUrl(1), { headers: keyHeaders(t.api_key, "carol") });
    expect((await c.client(c.nodes[0]!.url, t.api_key, "owner").del(`/rooms/${room}/members/bob`)).status).toBe(204);
    for (const i of [1, 2]) {
      const ms = await within(async () => (await c.client(c.nodes[i]!.url, t.api_key, "bob").get(`/rooms/${room}/messages`)).status === 403, `bob refused on node ${i}`);
      expect(ms).toBeLessThan(1000);
    }
    expect((await c.client(c.nodes[0]!.url, t.api_key, "owner").post(`/rooms/${room}/messages`, { content: "after removal" })).status).toBe(201);
    // Both nodes delivered it (carol has a socket on each), so bob's sockets there would have it by now.
    await carol.waitForFrame((f) => f.type === "message" && f.content === "after removal", 5000, "carol gets the message on C");
    await carolB.waitForFrame((f) => f.type === "message" && f.content === "after removal", 5000, "carol gets the message on B");
    for (const s of [bobB, bobC]) {
      await s.barrier();
      expect(s.messages(room).filter((m) => m.content === "after removal")).toEqual([]);
      await s.close();
    }
    await carol.close();
    await carolB.close();
  });
});
