// The 401 rules of signed user tokens (docs/reference/rest.md#authentication), as token factories shared by the REST and
// the WebSocket handshake tests: each names the rule it breaks.
import type { TestServer } from "../helpers";
import { claims, genKey, jwtTenant, rawToken, SECRET, signHs, signWith, type JwtTenant, type TestKey } from "./jwt-helpers";

/** Tenants and keys the cases sign with. */
export interface BadTokenWorld {
  /** Secret only. */
  hs: JwtTenant;
  /** Public keys only: an RS256 and an ES256 key (so a token without kid is ambiguous). */
  pk: JwtTenant;
  /** Another tenant with its own secret. */
  other: JwtTenant;
  rs: TestKey;
  es: TestKey;
  /** A key no tenant has. */
  stranger: TestKey;
}

/** Creates the tenants of the cases on `s`. */
export async function badTokenWorld(s: TestServer, prefix: string): Promise<BadTokenWorld> {
  const rs = await genKey("RS256", "rs-1");
  const es = await genKey("ES256", "es-1");
  const stranger = await genKey("RS256", "rs-1");
  const hs = await jwtTenant(s, `${prefix}-hs`);
  const pk = await jwtTenant(s, `${prefix}-pk`, { jwt_secret: null, jwt_public_keys: [rs.jwk, es.jwk] });
  const other = await jwtTenant(s, `${prefix}-other`, { jwt_secret: "o".repeat(40) });
  return { hs, pk, other, rs, es, stranger };
}

const now = () => Math.floor(Date.now() / 1000);

/** Every 401 case: `rule` names it, `make` builds the token. */
export const BAD_TOKENS: { rule: string; make: (w: BadTokenWorld) => Promise<string> | string }[] = [
  { rule: "alg none is refused", make: (w) => rawToken({ alg: "none", typ: "JWT" }, claims(w.hs.tenant_id, "alice"), "") },
  { rule: "alg NONE (any case) is refused", make: (w) => rawToken({ alg: "NONE" }, claims(w.hs.tenant_id, "alice"), "") },
  { rule: "an algorithm outside HS256/RS256/ES256/EdDSA is refused (HS512)", make: async (w) => {
    const { SignJWT } = await import("jose");
    return new SignJWT(claims(w.hs.tenant_id, "alice")).setProtectedHeader({ alg: "HS512" }).sign(new TextEncoder().encode(SECRET + SECRET));
  } },
  { rule: "HS256 for a tenant without jwt_secret (algorithm without a key)", make: (w) => signHs(SECRET, claims(w.pk.tenant_id, "alice")) },
  { rule: "RS256 for a tenant without public keys (algorithm without a key)", make: (w) => signWith(w.rs, claims(w.hs.tenant_id, "alice"), { kid: undefined }) },
  { rule: "bad signature: signed with another secret", make: (w) => signHs("x".repeat(40), claims(w.hs.tenant_id, "alice")) },
  { rule: "bad signature: payload changed after signing", make: async (w) => {
    const [h, , sig] = (await w.hs.token("alice")).split(".");
    return `${h}.${Buffer.from(JSON.stringify(claims(w.hs.tenant_id, "mallory"))).toString("base64url")}.${sig}`;
  } },
  { rule: "bad signature: RS256 signed by a stranger's key with a known kid", make: (w) => signWith(w.stranger, claims(w.pk.tenant_id, "alice")) },
  { rule: "wrong tid: another tenant's id, signed with this tenant's secret", make: (w) => signHs(SECRET, claims(w.other.tenant_id, "alice")) },
  { rule: "wrong tid: an unknown tenant", make: (w) => signHs(SECRET, claims("0190f000-0000-7000-8000-000000000000", "alice")) },
  { rule: "missing tid", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "alice", { tid: undefined })) },
  { rule: "tid not a string", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "alice", { tid: 7 })) },
  { rule: "missing sub", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "alice", { sub: undefined })) },
  { rule: "missing exp", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "alice", { exp: undefined })) },
  { rule: "exp not a number", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "alice", { exp: String(now() + 60) })) },
  { rule: "sub breaking the user-id rules: empty", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "")) },
  { rule: "sub breaking the user-id rules: 129 characters", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "a".repeat(129))) },
  { rule: "sub breaking the user-id rules: a control character", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "ali\u0007ce")) },
  { rule: "sub breaking the user-id rules: not a string", make: (w) => signHs(SECRET, claims(w.hs.tenant_id, "alice", { sub: 42 })) },
  { rule: "expired beyond the 30 s leeway", make: (w) => w.hs.token("alice", { exp: now() - 45, iat: now() - 120 }) },
  { rule: "exp beyond JWT_MAX_TTL (24 h + leeway)", make: (w) => w.hs.token("alice", { exp: now() + 24 * 3600 + 120 }) },
  { rule: "nbf in the future beyond the leeway", make: (w) => w.hs.token("alice", { nbf: now() + 120 }) },
  { rule: "iat in the future beyond the leeway", make: (w) => w.hs.token("alice", { iat: now() + 120 }) },
  { rule: "unknown kid", make: (w) => signWith(w.rs, claims(w.pk.tenant_id, "alice"), { kid: "no-such-kid" }) },
  { rule: "kid naming a key of another algorithm", make: (w) => signWith(w.es, claims(w.pk.tenant_id, "alice"), { kid: w.rs.kid }) },
  { rule: "a token without kid when the tenant's key is ambiguous (two public keys)", make: (w) => signWith(w.rs, claims(w.pk.tenant_id, "alice"), { kid: undefined }) },
  { rule: "malformed: not three parts", make: () => "abc.def" },
  { rule: "malformed: payload not JSON", make: (w) => `${w.hs.tenant_id ? "eyJhbGciOiJIUzI1NiJ9" : ""}.bm90IGpzb24.c2ln` },
];
