// Verification of signed user tokens (docs/reference/rest.md#authentication): the token's `tid` names the tenant, whose
// keys (jwt_secret for HS256, jwt_public_keys by kid for RS256/ES256/EdDSA) must verify it.
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type CryptoKey } from "jose";
import { AppError } from "../errors";
import { JwtCache, type VerifiedToken } from "./jwt-cache";
import type { JwtAlg, PublicJwk } from "./jwt-keys";
import type { Tenant, TenantJwtKeys, TenantService } from "./tenants";

/** A caller authenticated by a signed user token. */
export interface JwtCaller {
  tenant: Tenant;
  userId: string;
  /** `exp` in unix milliseconds (a socket opened with the token closes by exp + leeway). */
  expMs: number;
}

export interface JwtVerifierOptions {
  tenants: TenantService;
  /** JWT_MAX_TTL: `exp` may be at most this far in the future. */
  maxTtlMs: number;
  /** Clock leeway for exp, nbf and iat (docs/reference/rest.md: 30 s). */
  leewayMs?: number;
  /** Bound of the verification cache (entries). */
  cacheEntries?: number;
  now?: () => number;
}

export const JWT_LEEWAY_MS = 30_000;
// Far above any real token (a few hundred bytes; RS256 about 1 KiB with claims), far below header limits.
export const MAX_JWT_CHARS = 8192;
const ACCEPTED_ALGS = new Set<string>(["HS256", "RS256", "ES256", "EdDSA"]);
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// User ids: 1..128 chars, no C0/C1 control characters (the X-User-Id rule).
const USER_ID_RE = /^[^\x00-\x1f\x7f-\x9f]{1,128}$/;

/** True when `token` has the shape of a compact JWS (three base64url parts), as opposed to a single-use ws token. */
export function looksLikeJwt(token: string): boolean {
  return token.length <= MAX_JWT_CHARS && token.split(".").length === 3;
}

const unauthorized = (message: string) => new AppError("unauthorized", message);
// Refusals that time may lift (nbf, iat, exp too far ahead): not remembered by the refusal cache.
const transient = new WeakSet<AppError>();
const later = (message: string) => {
  const err = unauthorized(message);
  transient.add(err);
  return err;
};

/** Verifies tokens against the current keys of their tenant; caches results (bounded, per token). */
export class JwtVerifier {
  readonly leewayMs: number;
  private readonly cache: JwtCache;
  private readonly now: () => number;
  // Imported keys, per stored key object: a key change replaces the objects, so stale ones are dropped.
  private readonly imported = new WeakMap<object, Promise<CryptoKey | Uint8Array>>();

  constructor(private readonly o: JwtVerifierOptions) {
    this.leewayMs = o.leewayMs ?? JWT_LEEWAY_MS;
    this.cache = new JwtCache(o.cacheEntries ?? 10_000, this.leewayMs);
    this.now = o.now ?? Date.now;
  }

  /** The caller of a valid token; throws unauthorized. Synchronous on a cache hit whose tenant is cached. */
  verify(token: string): JwtCaller | Promise<JwtCaller> {
    const hit = this.cache.get(token, this.now());
    if (hit) {
      const tenant = this.o.tenants.cached(hit.tenantId);
      if (tenant) return { tenant, userId: hit.userId, expMs: hit.expMs };
      return this.o.tenants.find(hit.tenantId).then((t) => (t ? { tenant: t, userId: hit.userId, expMs: hit.expMs } : this.checked(token)));
    }
    return this.checked(token);
  }

  private checked(token: string): Promise<JwtCaller> {
    // A token refused for a reason that cannot change until its tenant's keys do: no signature check again.
    const refused = this.cache.refused(token);
    if (refused !== undefined) throw unauthorized(refused);
    return this.verifyUncached(token);
  }

  /** Drops the tenant's cached tokens (its keys changed). */
  invalidateTenant(tenantId: string): void {
    this.cache.invalidateTenant(tenantId);
  }

  /** Entries in the verification cache (tests, metrics). */
  get cacheSize(): number {
    return this.cache.size;
  }

  private async verifyUncached(token: string): Promise<JwtCaller> {
    if (token.length > MAX_JWT_CHARS) throw unauthorized(`token longer than ${MAX_JWT_CHARS} characters`);
    if (!JWT_SHAPE.test(token)) throw unauthorized("malformed token: expected a JWT (three base64url parts)");
    let header: { alg?: unknown; kid?: unknown };
    let claims: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      throw unauthorized("malformed token: header and payload must be base64url JSON objects");
    }
    const alg = header.alg;
    if (typeof alg !== "string" || alg.toLowerCase() === "none") throw unauthorized("unsigned tokens (alg none) are not accepted");
    if (!ACCEPTED_ALGS.has(alg)) throw unauthorized(`algorithm ${JSON.stringify(alg.slice(0, 20))} is not accepted (HS256, RS256, ES256, EdDSA)`);
    const tid = claims.tid;
    if (typeof tid !== "string" || tid.length === 0) throw unauthorized("missing or invalid tid claim (the tenant id)");
    const tenant = tid.length <= 64 ? await this.o.tenants.find(tid) : null;
    if (!tenant) throw unauthorized("invalid token");
    const generation = this.cache.generation(tenant.id);
    try {
      return await this.verifyWithKeys(token, tenant, generation, alg as JwtAlg, header.kid, claims);
    } catch (err) {
      if (err instanceof AppError && !transient.has(err)) this.cache.refuse(token, tenant.id, generation, err.message);
      throw err;
    }
  }

  // Checks the signature with the tenant's key and the claims; caches the result.
  private async verifyWithKeys(token: string, tenant: Tenant, generation: number, alg: JwtAlg, kid: unknown, claims: Record<string, unknown>): Promise<JwtCaller> {
    let key: CryptoKey | Uint8Array;
    try {
      key = await this.keyFor(tenant.jwt, alg, kid);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw unauthorized("invalid token");
    }
    const nowMs = this.now();
    try {
      await jwtVerify(token, key, {
        algorithms: [alg],
        clockTolerance: Math.round(this.leewayMs / 1000),
        requiredClaims: ["exp", "sub", "tid"],
        currentDate: new Date(nowMs),
      });
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized("token expired");
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw unauthorized("token signature does not verify");
      // nbf in the future becomes valid later: never remembered as refused.
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw (err.claim === "nbf" ? later : unauthorized)(`invalid token: ${err.message}`);
      throw unauthorized("invalid token");
    }
    const { sub, exp, iat } = claims;
    if (typeof sub !== "string" || !USER_ID_RE.test(sub)) throw unauthorized("sub must be a user id (1..128 characters, no control characters)");
    const expMs = (exp as number) * 1000;
    if (expMs > nowMs + this.o.maxTtlMs + this.leewayMs) throw later(`exp is more than JWT_MAX_TTL (${Math.round(this.o.maxTtlMs / 1000)} s) in the future`);
    if (typeof iat === "number" && iat * 1000 > nowMs + this.leewayMs) throw later("iat is in the future");
    const verified: VerifiedToken = { tenantId: tenant.id, userId: sub, expMs };
    this.cache.set(token, verified, generation);
    return { tenant, userId: sub, expMs };
  }

  // The tenant key for this algorithm: the secret for HS256, else the public key named by `kid`
  // (without kid: the only public key when the tenant has exactly one and no secret).
  private keyFor(keys: TenantJwtKeys, alg: JwtAlg, kid: unknown): Promise<CryptoKey | Uint8Array> {
    if (alg === "HS256") {
      if (keys.secret === null) throw unauthorized("the tenant has no jwt_secret: HS256 tokens are not accepted");
      const raw = new TextEncoder().encode(keys.secret);
      return this.importOnce(keys, () => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]) as Promise<CryptoKey>);
    }
    let jwk: PublicJwk | undefined;
    if (keys.publicKeys.length === 0) throw unauthorized(`the tenant has no jwt_public_keys: ${alg} tokens are not accepted`);
    if (typeof kid === "string") {
      jwk = keys.publicKeys.find((k) => k.kid === kid);
      if (!jwk) throw unauthorized("unknown kid");
    } else if (kid !== undefined) {
      throw unauthorized("kid must be a string");
    } else {
      if (keys.publicKeys.length !== 1 || keys.secret !== null) throw unauthorized("token without kid: the tenant has no single public key to use");
      jwk = keys.publicKeys[0]!;
    }
    if (jwk.alg !== alg) throw unauthorized(`kid ${JSON.stringify(jwk.kid)} is a ${jwk.alg} key, not ${alg}`);
    const k = jwk;
    return this.importOnce(k, () => importJWK({ ...k }, k.alg) as Promise<CryptoKey>);
  }

  private importOnce(owner: object, load: () => Promise<CryptoKey | Uint8Array>): Promise<CryptoKey | Uint8Array> {
    let p = this.imported.get(owner);
    if (!p) {
      p = load();
      this.imported.set(owner, p);
      // A failed import is not cached (the stored key was validated; this is defensive).
      p.catch(() => this.imported.delete(owner));
    }
    return p;
  }
}
