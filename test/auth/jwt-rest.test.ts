// Issue 17: signed user tokens over REST. Every 401 rule, the accepted algorithms, Bearer replacing
// the key headers, 403 on K-only routes, rate limits, key changes versus API key rotation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, TEST_MASTER_KEY, type TestServer } from "../helpers";
import { BAD_TOKENS, badTokenWorld, type BadTokenWorld } from "./bad-tokens";
import { bearer, claims, genKey, jwtTenant, patchConfig, SECRET, signHs, signWith } from "./jwt-helpers";

let s: TestServer;
let w: BadTokenWorld;
beforeAll(async () => {
  s = await startTestServer();
  w = await badTokenWorld(s, "rest");
});
afterAll(() => s.stop());

const now = () => Math.floor(Date.now() / 1000);

/** A 401 with the error body of docs/reference/rest.md#conventions. */
function expect401(r: { status: number; body: any; headers: Headers }) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status: 401, error: "unauthorized" });
  expect(r.body.request_id).toBe(r.headers.get("x-request-id"));
}

describe("401 rules over REST (GET /rooms with Authorization: Bearer)", () => {
  for (const c of BAD_TOKENS) {
    test(`401: ${c.rule}`, async () => {
      expect401(await bearer(s, await c.make(w)).get("/rooms"));
    });
  }

  test("401: an empty Bearer credential", async () => {
    expect401(await s.raw({ authorization: "Bearer " }).get("/rooms"));
    expect401(await s.raw({ authorization: "Bearer" }).get("/rooms"));
  });

  test("401: a token over 8192 characters", async () => {
    expect401(await bearer(s, await w.hs.token("alice", { pad: "x".repeat(9000) })).get("/rooms"));
  });
});

describe("accepted tokens", () => {
  test("HS256 with the tenant's jwt_secret acts as sub in tid's tenant", async () => {
    const room = await w.hs.room("alice", ["bob"]);
    const r = await bearer(s, await w.hs.token("alice")).get(`/rooms/${room}`);
    expect(r.status).toBe(200);
    expect(r.body.room_id).toBe(room);
    const sent = await bearer(s, await w.hs.token("bob")).post(`/rooms/${room}/messages`, { content: "hi via jwt" });
    expect(sent.status).toBe(201);
    expect(sent.body.sender_id).toBe("bob");
  });

  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    test(`${alg}: a public JWK selected by kid verifies`, async () => {
      const k = await genKey(alg, `${alg}-key`);
      const t = await jwtTenant(s, `alg-${alg}`, { jwt_secret: null, jwt_public_keys: [k.jwk, (await genKey("ES256", "spare")).jwk] });
      const r = await bearer(s, await signWith(k, claims(t.tenant_id, "carol"))).post("/rooms", { type: "channel", name: "c" });
      expect(r.status).toBe(201);
      expect(r.body.created_by).toBe("carol");
    });
  }

  test("a token without kid uses the tenant's only public key when it has no secret", async () => {
    const k = await genKey("EdDSA", "only");
    const t = await jwtTenant(s, "single-key", { jwt_secret: null, jwt_public_keys: [k.jwk] });
    expect((await bearer(s, await signWith(k, claims(t.tenant_id, "dave"), { kid: undefined })).get("/rooms")).status).toBe(200);
    // With a secret as well, a token without kid is no longer unambiguous.
    await patchConfig(s, t.tenant_id, { jwt_secret: SECRET });
    expect401(await bearer(s, await signWith(k, claims(t.tenant_id, "dave"), { kid: undefined })).get("/rooms"));
  });

  test("the 30 s leeway: exp 10 s ago and nbf/iat 10 s ahead are accepted", async () => {
    expect((await bearer(s, await w.hs.token("alice", { exp: now() - 10, iat: now() - 100 })).get("/rooms")).status).toBe(200);
    expect((await bearer(s, await w.hs.token("alice", { nbf: now() + 10, iat: now() + 10 })).get("/rooms")).status).toBe(200);
  });

  test("exp just under JWT_MAX_TTL (24 h) is accepted", async () => {
    expect((await bearer(s, await w.hs.token("alice", { exp: now() + 24 * 3600 - 60 })).get("/rooms")).status).toBe(200);
  });
});

describe("Bearer replaces X-API-Key and X-User-Id", () => {
  test("bearer overrides headers: the token's tenant and user act, the headers are ignored", async () => {
    const room = await w.other.room("erin", ["frank"]);
    // Headers name another tenant and user; the token names other's erin.
    const r = await bearer(s, await w.other.token("erin"), { "x-api-key": w.hs.api_key, "x-user-id": "zed" }).get("/rooms");
    expect(r.status).toBe(200);
    expect(r.body.rooms.map((x: any) => x.room_id)).toEqual([room]);
  });

  test("an invalid Bearer token is 401 even with a valid API key and X-User-Id", async () => {
    expect401(await bearer(s, "not-a-jwt", { "x-api-key": w.hs.api_key, "x-user-id": "alice" }).get("/rooms"));
  });

  test("a Bearer token needs no X-User-Id (a missing one is not a 400)", async () => {
    expect((await bearer(s, await w.hs.token("alice")).get("/notifications")).status).toBe(200);
  });
});

describe("K-only routes answer a JWT with 403", () => {
  const kOnly: [string, string, unknown?][] = [
    ["POST", "/notify", { user_ids: ["alice"], topic: "t", payload: {} }],
    ["GET", "/admin/dead-letters"],
    ["POST", "/admin/dead-letters/0190f000-0000-7000-8000-000000000000/retry", {}],
    ["POST", "/ws/token", {}],
  ];
  for (const [method, path, body] of kOnly) {
    test(`403: ${method} ${path} with a valid JWT (with or without the API key too)`, async () => {
      const token = await w.hs.token("alice");
      for (const extra of [{}, { "x-api-key": w.hs.api_key, "x-user-id": "alice" }] as Record<string, string>[]) {
        const c = bearer(s, token, extra);
        const r = method === "GET" ? await c.get(path) : await c.post(path, body);
        expect({ status: r.status, error: r.body?.error }).toEqual({ status: 403, error: "forbidden" });
      }
      // The key alone still works there.
      const k = s.client(w.hs.api_key, "alice");
      const ok = method === "GET" ? await k.get(path) : await k.post(path, body);
      expect(ok.status).not.toBe(403);
    });
  }

  test("403: the admin routes refuse a JWT as they refuse tenant keys (401 without the master key)", async () => {
    const r = await bearer(s, await w.hs.token("alice")).get("/admin/tenants");
    expect(r.status).toBe(401);
  });
});

describe("rate limits apply as with the key", () => {
  test("a JWT caller is charged to the tenant bucket: RateLimit-* headers, then 429", async () => {
    const t = await jwtTenant(s, "rl", { rate_limit: 1, rate_limit_burst: 2 });
    const c = bearer(s, await t.token("alice"));
    const a = await c.get("/rooms");
    expect(a.status).toBe(200);
    expect(a.headers.get("ratelimit-limit")).toBe("2");
    expect(a.headers.get("ratelimit-remaining")).toBe("1");
    expect((await c.get("/rooms")).status).toBe(200);
    const limited = await c.get("/rooms");
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("rate_limit_exceeded");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The key shares the same bucket.
    expect((await t.as("alice").get("/rooms")).status).toBe(429);
  });
});

describe("key changes", () => {
  test("changing jwt_secret ends old tokens at once (next REST request 401); new ones work", async () => {
    const t = await jwtTenant(s, "rotate-secret");
    const old = await t.token("alice");
    expect((await bearer(s, old).get("/rooms")).status).toBe(200); // now cached
    await patchConfig(s, t.tenant_id, { jwt_secret: "n".repeat(48) });
    expect401(await bearer(s, old).get("/rooms"));
    expect((await bearer(s, await signHs("n".repeat(48), claims(t.tenant_id, "alice"))).get("/rooms")).status).toBe(200);
  });

  test("clearing jwt_secret (null) ends HS256 tokens at once", async () => {
    const t = await jwtTenant(s, "clear-secret");
    const old = await t.token("alice");
    expect((await bearer(s, old).get("/rooms")).status).toBe(200);
    await patchConfig(s, t.tenant_id, { jwt_secret: null });
    expect401(await bearer(s, old).get("/rooms"));
  });

  test("removing a public key ends the tokens it signed at once", async () => {
    const a = await genKey("ES256", "a");
    const b = await genKey("RS256", "b");
    const t = await jwtTenant(s, "rotate-jwks", { jwt_secret: null, jwt_public_keys: [a.jwk, b.jwk] });
    const byA = await signWith(a, claims(t.tenant_id, "alice"));
    const byB = await signWith(b, claims(t.tenant_id, "alice"));
    expect((await bearer(s, byA).get("/rooms")).status).toBe(200);
    expect((await bearer(s, byB).get("/rooms")).status).toBe(200);
    await patchConfig(s, t.tenant_id, { jwt_public_keys: [b.jwk] });
    expect401(await bearer(s, byA).get("/rooms"));
    expect((await bearer(s, byB).get("/rooms")).status).toBe(200);
  });

  test("rotating the API key does not end user tokens", async () => {
    const t = await jwtTenant(s, "rotate-api-key");
    const token = await t.token("alice");
    expect((await bearer(s, token).get("/rooms")).status).toBe(200);
    const rot = await s.raw({ "x-master-key": TEST_MASTER_KEY }).post(`/admin/tenants/${t.tenant_id}/rotate-key`);
    expect(rot.status).toBe(200);
    expect((await t.as("alice").get("/rooms")).status).toBe(401); // the old key is gone
    expect((await bearer(s, token).get("/rooms")).status).toBe(200);
  });
});
