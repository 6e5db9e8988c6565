// Signing of user tokens with a tenant's jwt_secret (HS256), for `chatapi token` (development, scripts).
import { SignJWT } from "jose";

/** A compact HS256 JWT with `tid`, `sub`, `iat` and `exp` = now + ttlMs (rounded down to whole seconds). */
export async function signUserToken(secret: string, tenantId: string, userId: string, ttlMs: number, nowMs = Date.now()): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return await new SignJWT({ tid: tenantId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.floor(ttlMs / 1000))
    .sign(new TextEncoder().encode(secret));
}
