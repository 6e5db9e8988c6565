// Issue 17: signed user tokens on the WebSocket. Every 401 rule at the handshake, `?token=<jwt>` told
// apart from single-use tokens, 4001 when the token expires or the tenant's keys change, API key
// rotation leaving JWT sockets open.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, TEST_MASTER_KEY, type TestServer } from "../helpers";
import { connectWs, openWs, tryUpgrade, within } from "../ws/ws-helpers";
import { BAD_TOKENS, badTokenWorld, type BadTokenWorld } from "./bad-tokens";
import { claims, genKey, jwtTenant, patchConfig, signWith } from "./jwt-helpers";

let s: TestServer;
let w: BadTokenWorld;
beforeAll(async () => {
  s = await startTestServer({ ALLOWED_ORIGINS: "http://app.test" });
  w = await badTokenWorld(s, "ws");
});
afterAll(() => s.stop());

const now = () => Math.floor(Date.now() / 1000);
const q = (token: string) => `?token=${encodeURIComponent(token)}`;

describe("401 rules at the WebSocket handshake (?token=<jwt>)", () => {
  for (const c of BAD_TOKENS) {
    test(`401: ${c.rule}`, async () => {
      const r = await tryUpgrade(s.url, q(await c.make(w)), {});
      expect({ status: r.status, error: r.body?.error }).toEqual({ status: 401, error: "unauthorized" });
      expect(r.body.request_id).toBe(r.headers.get("x-request-id"));
    });
  }

  test("401: the same rules hold for Authorization: Bearer on the handshake", async () => {
    const r = await tryUpgrade(s.url, "", { Authorization: `Bearer ${await BAD_TOKENS[0]!.make(w)}` });
    expect(r.status).toBe(401);
  });

  test("403: an origin outside ALLOWED_ORIGINS is refused before the token is looked at", async () => {
    const r = await tryUpgrade(s.url, q(await w.hs.token("alice")), { Origin: "http://evil.test" });
    expect(r.status).toBe(403);
  });
});

describe("connecting with a JWT", () => {
  test("?token=<jwt> connects as sub of tid's tenant; headers are ignored", async () => {
    const room = await w.hs.room("alice", ["bob"]);
    const c = await connectWs(s.wsUrl, { token: await w.hs.token("alice"), headers: { "X-API-Key": w.other.api_key, "X-User-Id": "zed", Origin: "http://app.test" } });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "alice" });
    expect((await c.call("list_rooms")).rooms.map((r: any) => r.room_id)).toEqual([room]);
    await c.close();
  });

  test("a JWT may open several sockets until it expires (it is not single-use)", async () => {
    const token = await w.hs.token("multi");
    const a = await connectWs(s.wsUrl, { token });
    const b = await connectWs(s.wsUrl, { token });
    expect([a.frames[0]?.user_id, b.frames[0]?.user_id]).toEqual(["multi", "multi"]);
    await Promise.all([a.close(), b.close()]);
  });

  test("Authorization: Bearer <jwt> on the handshake (server clients)", async () => {
    const c = await connectWs(s.wsUrl, { headers: { Authorization: `Bearer ${await w.other.token("erin")}` } });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "erin" });
    await c.close();
  });

  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    test(`${alg} tokens connect`, async () => {
      const k = await genKey(alg, `ws-${alg}`);
      const t = await jwtTenant(s, `ws-${alg}`, { jwt_secret: null, jwt_public_keys: [k.jwk] });
      const c = await connectWs(s.wsUrl, { token: await signWith(k, claims(t.tenant_id, "gus")) });
      expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "gus" });
      await c.close();
    });
  }

  test("single-use tokens still work beside JWTs (told apart by shape)", async () => {
    const minted = await w.hs.as("alice").post("/ws/token");
    expect(minted.status).toBe(200);
    const c = await connectWs(s.wsUrl, { token: minted.body.token });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "alice" });
    await c.close();
  });
});

describe("4001 token expired", () => {
  test("a socket opened with a JWT is closed with 4001 once exp + 30 s leeway has passed", async () => {
    // exp 27 s ago: accepted within the leeway (with room for a slow machine), due to close about 3 s later.
    const exp = now() - 27;
    const token = await w.hs.token("late", { exp, iat: now() - 300 });
    const c = await connectWs(s.wsUrl, { token });
    expect(c.frames[0]).toMatchObject({ type: "connected", user_id: "late" });
    const closed = await within(c.closed, 10_000, "4001 close");
    // Not before exp + 30 s (whole seconds: exp has no finer resolution).
    expect(Date.now()).toBeGreaterThanOrEqual((exp + 30) * 1000);
    expect(closed).toEqual({ code: 4001, reason: "token expired" });
  });

  test("changing jwt_secret closes the tenant's JWT sockets with 4001 within 1 s; key sockets stay", async () => {
    const t = await jwtTenant(s, "ws-rotate");
    const viaJwt = await connectWs(s.wsUrl, { token: await t.token("alice") });
    const viaKey = await t.connect("bob");
    const other = await connectWs(s.wsUrl, { token: await w.other.token("alice") });
    await patchConfig(s, t.tenant_id, { jwt_secret: "r".repeat(40) });
    const started = performance.now();
    expect(await within(viaJwt.closed, 1000, "4001 within 1 s")).toEqual({ code: 4001, reason: "token expired" });
    expect(performance.now() - started).toBeLessThan(1000);
    await viaKey.barrier();
    await other.barrier();
    expect(viaKey.closeInfo).toBeUndefined();
    expect(other.closeInfo).toBeUndefined();
    await Promise.all([viaKey.close(), other.close()]);
  });

  test("a key change that keeps the socket's key (adding a public key) leaves it open", async () => {
    const a = await genKey("ES256", "keep-a");
    const t = await jwtTenant(s, "ws-add-key", { jwt_secret: null, jwt_public_keys: [a.jwk] });
    const c = await connectWs(s.wsUrl, { token: await signWith(a, claims(t.tenant_id, "alice")) });
    const noKid = await connectWs(s.wsUrl, { token: await signWith(a, claims(t.tenant_id, "bob"), { kid: undefined }) });
    await patchConfig(s, t.tenant_id, { jwt_public_keys: [a.jwk, (await genKey("RS256", "keep-b")).jwk] });
    // The token without kid is now ambiguous (two keys): it ends; the one naming its kid stays.
    expect(await within(noKid.closed, 1000, "4001 for the kid-less token")).toMatchObject({ code: 4001 });
    await c.barrier();
    expect(c.closeInfo).toBeUndefined();
    await c.close();
  });

  test("rotating the API key does not close JWT sockets", async () => {
    const t = await jwtTenant(s, "ws-rotate-key");
    const c = await connectWs(s.wsUrl, { token: await t.token("alice") });
    expect((await s.raw({ "x-master-key": TEST_MASTER_KEY }).post(`/admin/tenants/${t.tenant_id}/rotate-key`)).status).toBe(200);
    await c.barrier();
    expect(c.closeInfo).toBeUndefined();
    await c.close();
  });

  test("the handshake is refused with 401 once the key changed (the cached verification is gone)", async () => {
    const t = await jwtTenant(s, "ws-cache");
    const token = await t.token("alice");
    const first = await connectWs(s.wsUrl, { token });
    await patchConfig(s, t.tenant_id, { jwt_secret: "q".repeat(40) });
    await within(first.closed, 1000, "4001");
    expect((await tryUpgrade(s.url, q(token), {})).status).toBe(401);
  });

  test("an unopened socket with a bad JWT never gets a connected frame", async () => {
    const c = openWs(s.wsUrl, { token: await w.hs.token("alice", { exp: now() - 3600 }) });
    const closed = await within(c.closed, 3000, "refused socket");
    expect(closed.code).not.toBe(1000);
    expect(c.frames).toEqual([]);
  });
});
