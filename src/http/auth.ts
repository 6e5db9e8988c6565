// The one auth pass of a request: API key (header only), X-User-Id, master key, tenant rate limit.
import { isValidUserId, USER_ID_RULE } from "../chat/validate";
import { AppError, invalid } from "../errors";
import { constantTimeEqual } from "../tenancy/keys";
import { rateLimitHeaders, rateLimited, type TokenBuckets } from "../tenancy/rate-limiter";
import type { Tenant, TenantService } from "../tenancy/tenants";
import { contextOf } from "./context";

/** A caller authenticated with a tenant key, optionally acting as a user. */
export interface TenantCaller {
  tenant: Tenant;
  userId: string;
}

// One user-id rule for headers and bodies (chat/validate.ts).
export { isValidUserId } from "../chat/validate";

/** Authenticates requests; each method charges the tenant bucket exactly once. */
export class HttpAuth {
  constructor(
    private readonly tenants: TenantService,
    private readonly buckets: TokenBuckets,
    private readonly masterKey: string,
  ) {}

  /** Tenant key from `X-API-Key` (never the query string); charges one tenant token; sets RateLimit-* headers. */
  tenant(request: Request, headersOut: Record<string, unknown>): Tenant {
    const key = request.headers.get("x-api-key");
    const tenant = key ? this.tenants.authenticate(key) : null;
    if (!tenant) throw new AppError("unauthorized", key ? "invalid API key" : "missing X-API-Key header");
    contextOf(request).tenantId = tenant.id;
    this.charge(tenant, headersOut);
    return tenant;
  }

  /** Tenant key plus a valid `X-User-Id`. */
  tenantUser(request: Request, headersOut: Record<string, unknown>): TenantCaller {
    const tenant = this.tenant(request, headersOut);
    const userId = request.headers.get("x-user-id");
    if (userId === null) throw invalid("missing X-User-Id header", [{ path: "/headers/x-user-id", message: "required" }]);
    if (!isValidUserId(userId)) throw invalid(`X-User-Id must be ${USER_ID_RULE}`, [{ path: "/headers/x-user-id", message: "invalid" }]);
    contextOf(request).userId = userId;
    return { tenant, userId };
  }

  /** Charges one token of the tenant bucket; throws 429 when empty. */
  charge(tenant: Tenant, headersOut: Record<string, unknown>): void {
    const r = this.buckets.take(tenant.id, tenant.config.rate_limit, tenant.config.rate_limit_burst);
    Object.assign(headersOut, rateLimitHeaders(r));
    if (!r.ok) throw rateLimited(r, "tenant");
  }

  /** `X-Master-Key`, compared in constant time; tenant keys are refused. */
  master(request: Request): void {
    const key = request.headers.get("x-master-key");
    if (!key || !constantTimeEqual(key, this.masterKey)) throw new AppError("unauthorized", key ? "invalid master key" : "missing X-Master-Key header");
  }
}
