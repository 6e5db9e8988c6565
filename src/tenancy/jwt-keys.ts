// Tenant keys of signed user tokens: the HS256 secret and the public JWKs (RS256, ES256, EdDSA).
// Validated when set (PATCH / POST /admin/tenants), stored normalized, imported lazily to verify.
import { createPublicKey } from "node:crypto";
import type { ErrorDetail } from "../errors";

/** Signature algorithms a tenant key can verify (docs/reference/rest.md#authentication). */
export type JwtAlg = "HS256" | "RS256" | "ES256" | "EdDSA";

/** A stored public key: only public members, with its `alg` always set. */
export interface PublicJwk {
  kty: "RSA" | "EC" | "OKP";
  kid: string;
  alg: "RS256" | "ES256" | "EdDSA";
  use?: "sig";
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export const JWT_SECRET_MIN_BYTES = 32;
export const JWT_SECRET_MAX_BYTES = 512;
export const MAX_PUBLIC_KEYS = 20;
const MAX_KID_CHARS = 128;
// Members that only private (or symmetric) JWKs carry: a tenant must never upload its signing key.
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const ALG_OF_KTY: Record<string, PublicJwk["alg"]> = { RSA: "RS256", EC: "ES256", OKP: "EdDSA" };
const CURVE_OF_KTY: Record<string, string | undefined> = { EC: "P-256", OKP: "Ed25519" };
const MIN_RSA_BITS = 2048;

/** Checks a jwt_secret: 32..512 UTF-8 bytes. Returns the problems (empty when valid). */
export function checkJwtSecret(secret: string): ErrorDetail[] {
  const bytes = Buffer.byteLength(secret, "utf8");
  if (bytes < JWT_SECRET_MIN_BYTES || bytes > JWT_SECRET_MAX_BYTES) {
    return [{ path: "/config/jwt_secret", message: `must be ${JWT_SECRET_MIN_BYTES}..${JWT_SECRET_MAX_BYTES} bytes (got ${bytes})` }];
  }
  return [];
}

/** Validates public JWKs (public only, supported type and curve, unique kid, importable); normalized keys or problems. */
export function parsePublicJwks(input: unknown[]): { keys: PublicJwk[]; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const keys: PublicJwk[] = [];
  const kids = new Set<string>();
  if (input.length > MAX_PUBLIC_KEYS) problems.push({ path: "/config/jwt_public_keys", message: `at most ${MAX_PUBLIC_KEYS} keys` });
  input.slice(0, MAX_PUBLIC_KEYS).forEach((raw, i) => {
    const path = `/config/jwt_public_keys/${i}`;
    const bad = (message: string) => problems.push({ path, message });
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return void bad("must be a JWK object");
    const jwk = raw as Record<string, unknown>;
    const priv = PRIVATE_MEMBERS.filter((m) => m in jwk);
    if (priv.length) return void bad(`holds private key material (${priv.join(", ")}): upload the public key only`);
    const kty = jwk.kty;
    if (typeof kty !== "string" || !(kty in ALG_OF_KTY)) return void bad('kty must be "RSA", "EC" or "OKP"');
    const alg = ALG_OF_KTY[kty]!;
    if (typeof jwk.kid !== "string" || jwk.kid.length < 1 || jwk.kid.length > MAX_KID_CHARS) return void bad(`kid must be a string of 1..${MAX_KID_CHARS} characters`);
    if (kids.has(jwk.kid)) return void bad(`duplicate kid ${JSON.stringify(jwk.kid)}`);
    kids.add(jwk.kid);
    if (jwk.alg !== undefined && jwk.alg !== alg) return void bad(`alg must be ${alg} for kty ${kty}`);
    if (jwk.use !== undefined && jwk.use !== "sig") return void bad('use must be "sig"');
    const curve = CURVE_OF_KTY[kty];
    if (curve !== undefined && jwk.crv !== curve) return void bad(`crv must be ${curve} for kty ${kty}`);
    const members = kty === "RSA" ? ["n", "e"] : kty === "EC" ? ["x", "y"] : ["x"];
    for (const m of members) if (typeof jwk[m] !== "string" || !/^[A-Za-z0-9_-]+$/.test(jwk[m] as string)) return void bad(`${m} must be a base64url string`);
    const key: PublicJwk = { kty: kty as PublicJwk["kty"], kid: jwk.kid, alg };
    if (jwk.use === "sig") key.use = "sig";
    if (curve !== undefined) key.crv = curve;
    for (const m of members) (key as unknown as Record<string, string>)[m] = jwk[m] as string;
    try {
      // node:crypto imports synchronously and rejects points off the curve and malformed moduli.
      const ko = createPublicKey({ key: key as never, format: "jwk" });
      if (kty === "RSA" && (ko.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return void bad(`RSA keys must have at least ${MIN_RSA_BITS} bits`);
    } catch {
      return void bad("is not a valid public key");
    }
    keys.push(key);
  });
  return { keys, problems };
}
