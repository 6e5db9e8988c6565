// The /ws handshake before upgrade: origin, credentials (single-use token or key + user), tenant
// rate limit. Refusals are AppErrors the gateway answers as HTTP (403, 401, 400, 429).
import type { Config } from "../config";
import { AppError } from "../errors";
import type { RequestContext } from "../http/context";
import { isValidUserId } from "../http/auth";
import { rateLimited, type RateLimiter, type TakeResult } from "../tenancy/rate-limiter";
import type { TenantService } from "../tenancy/tenants";
import type { WsTokenService } from "./tokens";

export interface HandshakeDeps {
  config: Readonly<Config>;
  tenants: TenantService;
  tokens: WsTokenService;
  /** The tenant buckets shared with HTTP: a handshake costs one token. */
  buckets: RateLimiter;
}

/** Who is connecting, and the tenant bucket after this handshake took its token; throws AppError when refused. */
export async function authenticateUpgrade(d: HandshakeDeps, req: Request, ctx: RequestContext): Promise<{ tenantId: string; userId: string; rate: TakeResult }> {
  const origin = req.headers.get("origin");
  if (origin !== null && !originAllowed(d.config, origin, req)) throw new AppError("forbidden", "origin not allowed");
  const token = new URL(req.url).searchParams.get("token");
  let tenantId: string;
  let userId: string;
  if (token !== null) {
    // A token takes precedence: headers are ignored.
    const t = await d.tokens.redeem(token);
    tenantId = t.tenantId;
    userId = t.userId;
  } else {
    const key = req.headers.get("x-api-key");
    const tenant = key ? await d.tenants.authenticate(key) : null;
    if (!tenant) throw new AppError("unauthorized", key ? "invalid API key" : "missing X-API-Key header or ?token=");
    const uid = req.headers.get("x-user-id");
    if (uid === null || !isValidUserId(uid)) throw new AppError("invalid_request", "missing or invalid X-User-Id header", [{ path: "/headers/x-user-id", message: "invalid" }]);
    tenantId = tenant.id;
    userId = uid;
  }
  const tenant = await d.tenants.get(tenantId);
  ctx.tenantId = tenantId;
  ctx.userId = userId;
  const rate = await d.buckets.take(tenant.id, tenant.config.rate_limit, tenant.config.rate_limit_burst);
  if (!rate.ok) throw rateLimited(rate, "tenant");
  return { tenantId, userId, rate };
}

/**
 * ALLOWED_ORIGINS lists the allowed Origins (`*` = any); unset refuses every Origin. One addition:
 * while the console is enabled, the server's own origin (Origin host == Host) is allowed, since the
 * console page is served from it; a cross-site page cannot forge the Host its browser sends.
 */
export function originAllowed(config: Readonly<Config>, origin: string, req: Request): boolean {
  const o = origin.replace(/\/+$/, "");
  const allowed = config.allowedOrigins;
  if (allowed && (allowed.includes("*") || allowed.includes(o))) return true;
  if (!config.consoleEnabled) return false;
  const host = req.headers.get("host");
  try {
    return host !== null && new URL(o).host === host;
  } catch {
    return false;
  }
}
