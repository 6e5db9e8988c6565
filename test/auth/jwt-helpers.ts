// Helpers of the signed-user-token (JWT) tests: tenants with keys, signing with jose (HS256, RS256,
// ES256, EdDSA), hand-made tokens for the hostile cases, and a Bearer REST client.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { TEST_MASTER_KEY, type RestClient, type TestServer } from "../helpers";
import { makeTenant, type TestTenant } from "../ws/ws-helpers";

export const SECRET = "s".repeat(16) + "-jwt-secret-for-tests-0123456789";

/** A generated key pair: the private key signs, `jwk` is the public JWK to upload (with kid). */
export interface TestKey {
  alg: "RS256" | "ES256" | "EdDSA";
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/** Generates a key pair for `alg` and its public JWK named `kid`. */
export async function genKey(alg: TestKey["alg"], kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
  const jwk = { ...(await exportJWK(publicKey)), kid };
  return { alg, kid, privateKey, jwk };
}

/** The private JWK of a key (to prove uploads of private material are refused). */
export async function privateJwk(k: TestKey): Promise<JWK> {
  return { ...(await exportJWK(k.privateKey)), kid: k.kid };
}

const now = () => Math.floor(Date.now() / 1000);

/** Claims of a valid token for (tenant, user), overridable; `undefined` values remove a claim. */
export function claims(tenantId: string, userId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const c: Record<string, unknown> = { tid: tenantId, sub: userId, iat: now(), exp: now() + 600, ...over };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

/** Signs `payload` with the HS256 `secret`. */
export function signHs(secret: string, payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT", ...header }).sign(new TextEncoder().encode(secret));
}

/** Signs `payload` with a generated key (kid in the header unless `kid: undefined` is passed in `header`). */
export function signWith(k: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = { kid: k.kid }): Promise<string> {
  const h: Record<string, unknown> = { alg: k.alg, typ: "JWT", ...header };
  for (const key of Object.keys(h)) if (h[key] === undefined) delete h[key];
  return new SignJWT(payload).setProtectedHeader(h as { alg: string }).sign(k.privateKey);
}

/** base64url of a string or bytes. */
export function b64u(x: string | Uint8Array): string {
  return Buffer.from(x).toString("base64url");
}

/** A hand-made compact token: header and payload JSON-encoded (strings kept verbatim), any signature. */
export function rawToken(header: unknown, payload: unknown, signature = "c2ln"): string {
  const enc = (v: unknown) => b64u(typeof v === "string" ? v : JSON.stringify(v));
  return `${enc(header)}.${enc(payload)}.${signature}`;
}

/** A REST client sending only `Authorization: Bearer <token>` (plus `extra`). */
export function bearer(s: TestServer, token: string, extra: Record<string, string> = {}): RestClient {
  return s.raw({ authorization: `Bearer ${token}`, ...extra });
}

/** A tenant with an HS256 secret (and optional public keys) plus its shortcuts. */
export interface JwtTenant extends TestTenant {
  secret: string;
  /** A valid HS256 token for `userId` (claims overridable). */
  token(userId: string, over?: Record<string, unknown>): Promise<string>;
}

/** Creates a tenant with `jwt_secret` = SECRET (unless `config` says otherwise). */
export async function jwtTenant(s: TestServer, name: string, config: Record<string, unknown> = {}): Promise<JwtTenant> {
  const t = await makeTenant(s, name, { jwt_secret: SECRET, ...config });
  const secret = (config.jwt_secret as string | undefined) ?? SECRET;
  return { ...t, secret, token: (u, over) => signHs(secret, claims(t.tenant_id, u, over)) };
}

/** PATCHes the tenant's config with the master key; throws unless 200. */
export async function patchConfig(s: TestServer, tenantId: string, config: Record<string, unknown>): Promise<any> {
  const r = await s.raw({ "x-master-key": TEST_MASTER_KEY }).patch(`/admin/tenants/${tenantId}`, { config });
  if (r.status !== 200) throw new Error(`patch: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
