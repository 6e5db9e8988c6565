import { describe, expect, test } from "bun:test";
import { isJwt, jwtExpiryMs, TokenCache } from "./token-cache.ts";

const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims: Record<string, unknown>) => `${b64u({ alg: "HS256" })}.${b64u(claims)}.sig`;

describe("token shape and exp", () => {
  test("a JWT is three base64url parts; single-use tokens are not", () => {
    expect(isJwt(jwt({ exp: 1 }))).toBe(true);
    expect(isJwt("q2sd8f7g6h5j4k3l2m1n0bvcxzasdfghjklqwertyu0")).toBe(false);
    expect(isJwt("a.b")).toBe(false);
  });
  test("exp is read without verifying, in milliseconds; unreadable gives undefined", () => {
    expect(jwtExpiryMs(jwt({ exp: 1700000000 }))).toBe(1700000000000);
    expect(jwtExpiryMs(jwt({ sub: "x" }))).toBeUndefined();
    expect(jwtExpiryMs("a.!!!.c")).toBeUndefined();
  });
});

describe("TokenCache", () => {
  test("single-use tokens are fetched for every get", async () => {
    let n = 0;
    const c = new TokenCache(async () => `single-use-token-${++n}`);
    expect([await c.get(), await c.get()]).toEqual(["single-use-token-1", "single-use-token-2"]);
  });

  test("a JWT is reused until refreshBeforeMs before its exp, then fetched again", async () => {
    let now = 1_000_000_000_000;
    let n = 0;
    const c = new TokenCache(async () => jwt({ exp: Math.floor(now / 1000) + 600, n: ++n }), { refreshBeforeMs: 60_000, now: () => now });
    const first = await c.get();
    now += 500_000;
    expect(await c.get()).toBe(first);
    now += 50_000; // 50 s before exp: inside the refresh margin
    expect(await c.get()).not.toBe(first);
    expect(n).toBe(2);
  });

  test("a short-lived JWT is refreshed at half its remaining life at the latest", async () => {
    let now = 1_000_000_000_000;
    const c = new TokenCache(async () => jwt({ exp: Math.floor(now / 1000) + 20 }), { now: () => now });
    const first = await c.get();
    now += 9_000;
    expect(await c.get()).toBe(first);
    now += 2_000;
    expect(await c.get()).not.toBe(first);
  });

  test("invalidate forgets the JWT; concurrent gets share one fetch", async () => {
    let n = 0;
    const c = new TokenCache(async () => jwt({ exp: Math.floor(Date.now() / 1000) + 3600, n: ++n }));
    const [a, b] = await Promise.all([c.get(), c.get()]);
    expect(a).toBe(b);
    expect(n).toBe(1);
    c.invalidate();
    expect(await c.get()).not.toBe(a);
    expect(n).toBe(2);
  });
});
