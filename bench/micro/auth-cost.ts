// `bun run bench/micro/auth-cost.ts`: CPU cost of the auth pass of one REST request, in-process and
// interleaved (so machine load hits both alike): API key + X-User-Id versus a cached Bearer JWT, and
// the first (uncached) verification of a JWT per algorithm. Prints a markdown table.
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { HttpAuth } from "../../src/http/auth";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store";
import { JwtVerifier } from "../../src/tenancy/jwt";
import { TokenBuckets } from "../../src/tenancy/rate-limiter";
import { TenantService } from "../../src/tenancy/tenants";

const SECRET = "micro-bench-secret-0123456789abcdef-0123";
const db = openSqliteStore({ path: ":memory:", synchronous: "full" });
const tenants = new TenantService(db, { rateLimit: 1_000_000_000 });
const keys = await Promise.all((["RS256", "ES256", "EdDSA"] as const).map(async (alg) => ({ alg, ...(await generateKeyPair(alg, { extractable: true })) })));
const jwks = await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.alg })));
const { tenant, apiKey } = await tenants.create("micro", { jwt_secret: SECRET, jwt_public_keys: jwks, rate_limit: 1_000_000_000, rate_limit_burst: 1_000_000_000 });
const jwt = new JwtVerifier({ tenants, maxTtlMs: 86_400_000, cacheEntries: 1_000_000 });
const auth = new HttpAuth(tenants, new TokenBuckets(), "micro-master-key-0123456789", jwt);
const exp = Math.floor(Date.now() / 1000) + 3600;
const sign = (alg: string, key: CryptoKey | Uint8Array, sub: string) => new SignJWT({ tid: tenant.id }).setProtectedHeader({ alg, kid: alg }).setSubject(sub).setExpirationTime(exp).sign(key);
const hsToken = await sign("HS256", new TextEncoder().encode(SECRET), "alice");
const keyReq = new Request("http://x/rooms", { headers: { "x-api-key": apiKey, "x-user-id": "alice" } });
const jwtReq = new Request("http://x/rooms", { headers: { authorization: `Bearer ${hsToken}` } });
await auth.tenantUser(jwtReq, {}); // cached from now on

function perCallNs(fn: () => unknown, n: number): number {
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i++) fn();
  return (Bun.nanoseconds() - t0) / n;
}
const N = 100_000;
const keyNs: number[] = [];
const jwtNs: number[] = [];
for (let round = 0; round < 10; round++) {
  keyNs.push(perCallNs(() => auth.tenantUser(keyReq, {}), N));
  jwtNs.push(perCallNs(() => auth.tenantUser(jwtReq, {}), N));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Uncached: a fresh token each time (distinct sub), so every call checks the signature.
const uncached: [string, number][] = [];
for (const [alg, key] of [["HS256", new TextEncoder().encode(SECRET)] as const, ...keys.map((k) => [k.alg, k.privateKey] as const)]) {
  const tokens = await Promise.all(Array.from({ length: 2000 }, (_, i) => sign(alg, key, `u${i}`)));
  const t0 = Bun.nanoseconds();
  for (const t of tokens) await jwt.verify(t);
  uncached.push([alg, (Bun.nanoseconds() - t0) / tokens.length]);
}
const us = (ns: number) => (ns / 1000).toFixed(2);
console.log(`| auth pass of one request (in-process, medians of 10 interleaved rounds of ${N.toLocaleString("en-US")}) | µs per call |`);
console.log("|---|---|");
console.log(`| API key + X-User-Id (SHA-256 of the key, cached tenant) | ${us(median(keyNs))} |`);
console.log(`| Bearer JWT, verification cached | ${us(median(jwtNs))} |`);
for (const [alg, ns] of uncached) console.log(`| Bearer JWT, first use (signature checked), ${alg} | ${us(ns)} |`);
await db.close();
