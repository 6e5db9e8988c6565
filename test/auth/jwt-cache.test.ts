// Issue 17: the verification cache of user tokens. Bounded (LRU), an entry never outlives its token
// (exp + leeway) nor a key change of its tenant, and a hit skips the signature check.
import { afterEach, describe, expect, test } from "bun:test";
import { openSqliteStore, type SqliteStore } from "../../src/storage/sqlite/sqlite-store";
import { JwtVerifier } from "../../src/tenancy/jwt";
import { TenantService } from "../../src/tenancy/tenants";
import { claims, SECRET, signHs } from "./jwt-helpers";

let db: SqliteStore | undefined;
afterEach(() => db?.close());

async function setup(cacheEntries = 100) {
  db = openSqliteStore({ path: ":memory:", synchronous: "full" });
  const tenants = new TenantService(db, { rateLimit: 100 });
  let nowMs = Date.now();
  const jwt = new JwtVerifier({ tenants, maxTtlMs: 86_400_000, cacheEntries, now: () => nowMs });
  tenants.onJwtKeysChanged((id) => jwt.invalidateTenant(id));
  const { tenant } = await tenants.create("cache", { jwt_secret: SECRET });
  const sign = (user: string, over: Record<string, unknown> = {}) =>
    signHs(SECRET, claims(tenant.id, user, { iat: Math.floor(nowMs / 1000), exp: Math.floor(nowMs / 1000) + 60, ...over }));
  return { tenants, jwt, tenant, sign, advance: (ms: number) => (nowMs += ms) };
}

async function verifyCode(p: () => unknown): Promise<string> {
  try {
    await p();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe("verification cache", () => {
  test("a verified token is answered synchronously from the cache the next time", async () => {
    const { jwt, sign } = await setup();
    const token = await sign("alice");
    const first = jwt.verify(token);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).userId).toBe("alice");
    const second = jwt.verify(token);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as { userId: string }).userId).toBe("alice");
  });

  test("the cache is bounded: the least recently used entries go first", async () => {
    const { jwt, sign } = await setup(3);
    const tokens = await Promise.all(["a", "b", "c", "d", "e"].map((u) => sign(u)));
    for (const t of tokens.slice(0, 3)) await jwt.verify(t);
    jwt.verify(tokens[0]!); // a is now the most recent
    for (const t of tokens.slice(3)) await jwt.verify(t);
    expect(jwt.cacheSize).toBe(3);
    expect(jwt.verify(tokens[0]!)).not.toBeInstanceOf(Promise); // kept (recently used)
    expect(jwt.verify(tokens[1]!)).toBeInstanceOf(Promise); // evicted: verified again
  });

  test("an entry never outlives its token: past exp + 30 s the cached token is expired", async () => {
    const { jwt, sign, advance } = await setup();
    const token = await sign("alice");
    await jwt.verify(token);
    advance(60_000 + 29_000);
    expect(jwt.verify(token)).not.toBeInstanceOf(Promise); // within the leeway
    advance(2_000);
    expect(await verifyCode(() => jwt.verify(token))).toBe("unauthorized");
  });

  test("a key change of the tenant drops its entries at once", async () => {
    const { jwt, sign, tenants, tenant } = await setup();
    const token = await sign("alice");
    await jwt.verify(token);
    expect(jwt.cacheSize).toBe(1);
    await tenants.patch(tenant.id, { config: { jwt_secret: "z".repeat(40) } });
    expect(jwt.cacheSize).toBe(0);
    expect(await verifyCode(() => jwt.verify(token))).toBe("unauthorized");
  });

  test("a verification in flight during a key change is not cached", async () => {
    const { jwt, sign, tenants, tenant } = await setup();
    const token = await sign("alice");
    const pending = jwt.verify(token);
    expect(pending).toBeInstanceOf(Promise);
    await tenants.patch(tenant.id, { config: { jwt_secret: "y".repeat(40) } });
    await Promise.resolve(pending).catch(() => undefined);
    expect(jwt.cacheSize).toBe(0);
  });

  test("a change of other config (rate limit, name) keeps the cache; so does an identical secret", async () => {
    const { jwt, sign, tenants, tenant } = await setup();
    await jwt.verify(await sign("alice"));
    await tenants.patch(tenant.id, { name: "renamed", config: { rate_limit: 7, jwt_secret: SECRET } });
    expect(jwt.cacheSize).toBe(1);
  });

  test("a refused token is refused again without a signature check, until the tenant's keys change", async () => {
    const { jwt, tenants, tenant } = await setup();
    const other = "o".repeat(40);
    const token = await signHs(other, claims(tenant.id, "alice"));
    expect(await verifyCode(() => jwt.verify(token))).toBe("unauthorized");
    // Now refused synchronously (a throw, not a rejected promise).
    let syncCode = "none";
    try {
      jwt.verify(token);
    } catch (e) {
      syncCode = (e as { code: string }).code;
    }
    expect(syncCode).toBe("unauthorized");
    // The tenant switches to the secret the token was signed with: the refusal is forgotten.
    await tenants.patch(tenant.id, { config: { jwt_secret: other } });
    expect((await jwt.verify(token)).userId).toBe("alice");
  });

  test("a refusal that time lifts (nbf in the future) is not remembered", async () => {
    const { jwt, sign, advance } = await setup();
    const token = await sign("alice", { nbf: Math.floor(Date.now() / 1000) + 120, exp: Math.floor(Date.now() / 1000) + 600 });
    expect(await verifyCode(() => jwt.verify(token))).toBe("unauthorized");
    advance(150_000);
    expect(await verifyCode(() => jwt.verify(token))).toBe("ok");
  });

  test("valid tokens are never cached as failures: a failed verification stores nothing positive", async () => {
    const { jwt, sign } = await setup();
    expect(await verifyCode(() => jwt.verify("x.y.z"))).toBe("unauthorized");
    expect(await verifyCode(async () => jwt.verify(await sign("alice", { exp: 1 })))).toBe("unauthorized");
    expect(jwt.cacheSize).toBe(0);
  });
});
