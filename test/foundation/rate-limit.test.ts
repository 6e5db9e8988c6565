// Tenant rate limits: exactly one token per request, 429 with Retry-After and RateLimit-* headers.
// The HTTP tests use GET /rooms (K U), the cheapest tenant route; the HttpAuth tests need no route.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors";
import { HttpAuth, isValidUserId } from "../../src/http/auth";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store";
import { TokenBuckets } from "../../src/tenancy/rate-limiter";
import { TenantService } from "../../src/tenancy/tenants";
import { startTestServer, TEST_MASTER_KEY, type TestServer } from "../helpers";

describe("HTTP (GET /rooms)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.stop());

  test("exactly one token per request: the burst succeeds, the next request is 429", async () => {
    // rate 1/s so that less than one token refills while the 11 requests run.
    const t = await s.createTenant("one-token", { rate_limit: 1, rate_limit_burst: 10 });
    const c = s.client(t.api_key, "alice");
    const remaining: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await c.get("/rooms");
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit-limit")).toBe("10");
      remaining.push(Number(r.headers.get("ratelimit-remaining")));
      expect(Number(r.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(1);
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const r = await c.get("/rooms");
    expect(r.status).toBe(429);
    expect(r.body.error).toBe("rate_limit_exceeded");
    expect(r.body.request_id).toBe(r.headers.get("x-request-id"));
    expect(r.body.retry_after_ms).toBeGreaterThan(0);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(Number(r.headers.get("retry-after")))).toBe(true);
    expect(r.headers.get("ratelimit-limit")).toBe("10");
    expect(r.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(r.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(1);
  });

  test("the default burst is 2x the tenant rate (rate_limit 5 -> capacity 10)", async () => {
    const t = await s.createTenant("burst-2x", { rate_limit: 5 });
    const r = await s.client(t.api_key, "alice").get("/rooms");
    expect(r.status).toBe(200);
    expect(r.headers.get("ratelimit-limit")).toBe("10");
    expect(r.headers.get("ratelimit-remaining")).toBe("9");
  });

  test("concurrent requests are charged one token each: exactly the capacity succeeds", async () => {
    const t = await s.createTenant("concurrent", { rate_limit: 1, rate_limit_burst: 6 });
    const c = s.client(t.api_key, "bob");
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => c.get("/rooms")))).map((r) => r.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(6);
    expect(statuses.filter((x) => x === 429)).toHaveLength(4);
  });

  test("each tenant has its own bucket: one tenant's 429 does not limit another", async () => {
    const a = await s.createTenant("bucket-a", { rate_limit: 1, rate_limit_burst: 2 });
    const b = await s.createTenant("bucket-b", { rate_limit: 1, rate_limit_burst: 2 });
    const ca = s.client(a.api_key, "u");
    await ca.get("/rooms");
    await ca.get("/rooms");
    expect((await ca.get("/rooms")).status).toBe(429);
    const rb = await s.client(b.api_key, "u").get("/rooms");
    expect(rb.status).toBe(200);
    expect(rb.headers.get("ratelimit-remaining")).toBe("1");
  });

  test("tenant responses that fail after authentication still carry RateLimit-* headers", async () => {
    const t = await s.createTenant("headers-on-4xx", { rate_limit: 1, rate_limit_burst: 10 });
    const r = await s.client(t.api_key).get("/rooms"); // no X-User-Id: 400
    expect(r.status).toBe(400);
    expect(r.headers.get("ratelimit-limit")).toBe("10");
    expect(r.headers.get("ratelimit-remaining")).toBe("9");
  });

  test("a tenant route refuses a missing or unknown API key with 401", async () => {
    expect((await s.raw({ "x-user-id": "u" }).get("/rooms")).status).toBe(401);
    expect((await s.client("not-a-key-0123456789abcdefghijklmnopqrstu", "u").get("/rooms")).status).toBe(401);
  });

  test("the API key is never taken from the query string", async () => {
    const t = await s.createTenant("no-query-key");
    const r = await s.raw({ "x-user-id": "u" }).get(`/rooms?api_key=${encodeURIComponent(t.api_key)}`);
    expect([400, 401]).toContain(r.status);
    expect(r.status).not.toBe(200);
  });

  test("after rotate-key the old key gets 401 on a tenant route at once; the new key works", async () => {
    const t = await s.createTenant("rotate-http");
    const old = s.client(t.api_key, "u");
    expect((await old.get("/rooms")).status).toBe(200);
    const rot = await s.raw({ "x-master-key": TEST_MASTER_KEY }).post(`/admin/tenants/${t.tenant_id}/rotate-key`);
    expect(rot.status).toBe(200);
    const r = await old.get("/rooms");
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("unauthorized");
    expect((await s.client(rot.body.api_key, "u").get("/rooms")).status).toBe(200);
  });
});

describe("HttpAuth (no route needed)", () => {
  async function setup(config: Record<string, number>) {
    const db = openSqliteStore({ path: ":memory:", synchronous: "full" });
    const tenants = new TenantService(db, { rateLimit: 100 });
    let nowMs = 1_000_000;
    const buckets = new TokenBuckets(() => nowMs);
    const auth = new HttpAuth(tenants, buckets, TEST_MASTER_KEY);
    const { tenant, apiKey } = await tenants.create("unit", config);
    const req = (headers: Record<string, string>) => new Request("http://x/rooms", { headers });
    return { db, auth, tenants, tenant, apiKey, req, advance: (ms: number) => (nowMs += ms) };
  }

  test("tenantUser charges exactly one token per call; the 11th call at burst 10 is rate_limit_exceeded", async () => {
    const { db, auth, apiKey, req } = await setup({ rate_limit: 5 });
    try {
      for (let i = 0; i < 10; i++) {
        const headers: Record<string, unknown> = {};
        await auth.tenantUser(req({ "x-api-key": apiKey, "x-user-id": "u" }), headers);
        expect(headers["RateLimit-Remaining"]).toBe(String(9 - i));
        expect(headers["RateLimit-Limit"]).toBe("10");
      }
      const headers: Record<string, unknown> = {};
      let err: unknown;
      try {
        await auth.tenantUser(req({ "x-api-key": apiKey, "x-user-id": "u" }), headers);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("rate_limit_exceeded");
      expect((err as AppError).headers?.["Retry-After"]).toBe("1");
      expect((err as AppError).extra?.retry_after_ms).toBe(200);
    } finally {
      await db.close();
    }
  });

  test("the bucket refills at rate_limit tokens per second", async () => {
    const { db, auth, apiKey, req, advance } = await setup({ rate_limit: 5 });
    try {
      const call = async () => auth.tenant(req({ "x-api-key": apiKey }), {});
      for (let i = 0; i < 10; i++) await call();
      await expect(call()).rejects.toThrow(AppError);
      advance(199);
      await expect(call()).rejects.toThrow(AppError);
      advance(1); // 200 ms at 5/s = one token
      await call();
      await expect(call()).rejects.toThrow(AppError);
    } finally {
      await db.close();
    }
  });

  test("a refused request (bad key, bad user id) never charges another tenant, and a 401 charges nothing", async () => {
    const { db, auth, apiKey, req, tenants } = await setup({ rate_limit: 1, rate_limit_burst: 3 });
    try {
      await expect((async () => auth.tenant(req({ "x-api-key": "wrong" }), {}))()).rejects.toThrow(AppError);
      await expect((async () => auth.tenant(req({}), {}))()).rejects.toThrow(AppError);
      const headers: Record<string, unknown> = {};
      await auth.tenant(req({ "x-api-key": apiKey }), headers);
      expect(headers["RateLimit-Remaining"]).toBe("2");
      const other = await tenants.create("other", { rate_limit: 1, rate_limit_burst: 3 });
      const h2: Record<string, unknown> = {};
      await auth.tenant(req({ "x-api-key": other.apiKey }), h2);
      expect(h2["RateLimit-Remaining"]).toBe("2");
    } finally {
      await db.close();
    }
  });

  test("X-User-Id must be present, 1..128 chars, without control characters", async () => {
    const { db, auth, apiKey, req } = await setup({});
    try {
      const user = (u?: string) => auth.keyUser(req(u === undefined ? { "x-api-key": apiKey } : { "x-api-key": apiKey, "x-user-id": u }), {});
      expect((await user("a".repeat(128))).userId).toBe("a".repeat(128));
      expect((await user("user@example.com")).userId).toBe("user@example.com");
      for (const bad of [undefined, "a".repeat(129)]) {
        let err: unknown;
        try {
          await user(bad);
        } catch (e) {
          err = e;
        }
        expect((err as AppError)?.code).toBe("invalid_request");
      }
      // Control characters cannot even be put in a fetch Headers object; check the rule itself.
      // One rule for headers and bodies (issue 13): what a header value carries as is, i.e. Latin-1.
      expect(isValidUserId("ünïcödé")).toBe(true);
      for (const bad of ["", "a\tb", "a\nb", "a\u0000b", "a\u007fb", "a\u0085b", "a".repeat(129), "用户", " lead", "trail "]) expect(isValidUserId(bad)).toBe(false);
    } finally {
      await db.close();
    }
  });

  test("master() accepts only the master key; a tenant key is refused", async () => {
    const { db, auth, apiKey, req } = await setup({});
    try {
      auth.master(req({ "x-master-key": TEST_MASTER_KEY }));
      for (const h of <Record<string, string>[]>[{}, { "x-master-key": apiKey }, { "x-api-key": apiKey }, { "x-master-key": TEST_MASTER_KEY.slice(0, -1) }, { "x-master-key": TEST_MASTER_KEY + "0" }]) {
        let err: unknown;
        try {
          auth.master(req(h));
        } catch (e) {
          err = e;
        }
        expect((err as AppError)?.code).toBe("unauthorized");
      }
    } finally {
      await db.close();
    }
  });
});
