// The one auth pass of a request: API key (header only), X-User-Id, signed user token (Bearer JWT),
// master key, tenant rate limit.
import { isValidUserId, USER_ID_RULE } from "../chat/validate";
import { AppError, invalid } from "../errors";
import type { JwtVerifier } from "../tenancy/jwt";
import { constantTimeEqual } from "../tenancy/keys";
import { rateLimitHeaders, rateLimited, type RateLimiter, type TakeResult } from "../tenancy/rate-limiter";
import type { Tenant, TenantService } from "../tenancy/tenants";
import { contextOf } from "./context";

/** A caller authenticated with a tenant key, optionally acting as a user. */
export interface TenantCaller {
  tenant: Tenant;
  userId: string;
}

/** The token of an `Authorization: Bearer <token>` header, or null when there is no such header. */
export function bearerToken(request: Request): string | null {
  const h = request.headers.get("authorization");
  if (h === null) return null;
  // Any Bearer credential is a user token attempt (then verified or refused), whatever follows it.
  if (!/^bearer(?:\s|$)/i.test(h)) return null;
  return h.slice(6).trim();
}

// One user-id rule for headers and bodies (chat/validate.ts).
export { isValidUserId } from "../chat/validate";

/** Authenticates requests; each method charges the tenant bucket exactly once. */
export class HttpAuth {
  constructor(
    private readonly tenants: TenantService,
    private readonly buckets: RateLimiter,
    private readonly masterKey: string,
    /** Verifier of signed user tokens; without one, every Bearer token is refused. */
    private readonly jwt?: JwtVerifier,
  ) {}

  /**
   * K-only routes: tenant key from `X-API-Key` (never the query string); a Bearer JWT is refused with
   * 403; charges one tenant token. Synchronous when the key is cached (the hot path); throws or rejects.
   */
  tenant(request: Request, headersOut: Record<string, unknown>): Tenant | Promise<Tenant> {
    if (bearerToken(request) !== null) throw new AppError("forbidden", "this route takes the tenant API key (X-API-Key), not a user token");
    const key = request.headers.get("x-api-key");
    if (!key) throw new AppError("unauthorized", "missing X-API-Key header");
    const cached = this.tenants.authenticateCached(key);
    if (cached !== undefined) return this.admit(request, cached, headersOut);
    return this.tenants.authenticate(key).then((t) => this.admit(request, t, headersOut));
  }

  // Charges one tenant token and sets RateLimit-* headers (a null tenant: the key is unknown).
  private admit(request: Request, tenant: Tenant | null, headersOut: Record<string, unknown>): Tenant | Promise<Tenant> {
    if (!tenant) throw new AppError("unauthorized", "invalid API key");
    contextOf(request).tenantId = tenant.id;
    const charged = this.charge(tenant, headersOut);
    return charged instanceof Promise ? charged.then(() => tenant) : tenant;
  }

  /**
   * U routes: `Authorization: Bearer <jwt>` (then X-API-Key and X-User-Id are ignored), else the tenant
   * key plus a valid `X-User-Id`. Synchronous when nothing has to be read or verified.
   */
  tenantUser(request: Request, headersOut: Record<string, unknown>): TenantCaller | Promise<TenantCaller> {
    const token = bearerToken(request);
    if (token !== null) {
      if (!this.jwt) throw new AppError("unauthorized", "signed user tokens are not accepted here");
      const v = this.jwt.verify(token);
      return v instanceof Promise ? v.then((c) => this.jwtCaller(request, c, headersOut)) : this.jwtCaller(request, v, headersOut);
    }
    return this.keyUser(request, headersOut);
  }

  /** K U routes that a user token may not call (`POST /ws/token`): the key and X-User-Id; a Bearer JWT gets 403. */
  keyUser(request: Request, headersOut: Record<string, unknown>): TenantCaller | Promise<TenantCaller> {
    const t = this.tenant(request, headersOut);
    return t instanceof Promise ? t.then((tenant) => this.userOf(request, tenant)) : this.userOf(request, t);
  }

  private userOf(request: Request, tenant: Tenant): TenantCaller {
    const userId = request.headers.get("x-user-id");
    if (userId === null) throw invalid("missing X-User-Id header", [{ path: "/headers/x-user-id", message: "required" }]);
    if (!isValidUserId(userId)) throw invalid(`X-User-Id must be ${USER_ID_RULE}`, [{ path: "/headers/x-user-id", message: "invalid" }]);
    contextOf(request).userId = userId;
    return { tenant, userId };
  }

  private jwtCaller(request: Request, c: { tenant: Tenant; userId: string }, headersOut: Record<string, unknown>): TenantCaller | Promise<TenantCaller> {
    const ctx = contextOf(request);
    ctx.tenantId = c.tenant.id;
    ctx.userId = c.userId;
    const caller = { tenant: c.tenant, userId: c.userId };
    const charged = this.charge(c.tenant, headersOut);
    return charged instanceof Promise ? charged.then(() => caller) : caller;
  }

  /** Charges one token of the tenant bucket; throws 429 when empty. Synchronous with in-process buckets (cluster mode: one Redis round trip). */
  charge(tenant: Tenant, headersOut: Record<string, unknown>): void | Promise<void> {
    const apply = (r: TakeResult) => {
      Object.assign(headersOut, rateLimitHeaders(r));
      if (!r.ok) throw rateLimited(r, "tenant");
    };
    const r = this.buckets.take(tenant.id, tenant.config.rate_limit, tenant.config.rate_limit_burst);
    return r instanceof Promise ? r.then(apply) : apply(r);
  }

  /** `X-Master-Key`, compared in constant time; tenant keys are refused. */
  master(request: Request): void {
    const key = request.headers.get("x-master-key");
    if (!key || !constantTimeEqual(key, this.masterKey)) throw new AppError("unauthorized", key ? "invalid master key" : "missing X-Master-Key header");
  }
}
