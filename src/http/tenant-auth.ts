// The auth pass for tenant routes as an Elysia derive (runs before body validation, so 401/429 come first).
import { Elysia } from "elysia";
import type { Actor } from "../chat/types";
import type { Tenant } from "../tenancy/tenants";
import type { HttpAuth } from "./auth";

/** Routes with K + U (or a Bearer JWT): derives `actor` (tenant + user). */
export function userScoped(auth: HttpAuth) {
  return new Elysia().derive({ as: "scoped" }, async ({ request, set }): Promise<{ actor: Actor }> => ({ actor: await auth.tenantUser(request, set.headers) }));
}

/** Routes with K + U that a user token may not call (`POST /ws/token`): a Bearer JWT gets 403. */
export function keyUserScoped(auth: HttpAuth) {
  return new Elysia().derive({ as: "scoped" }, async ({ request, set }): Promise<{ actor: Actor }> => ({ actor: await auth.keyUser(request, set.headers) }));
}

/** Routes with K only: derives `tenant`; a Bearer JWT gets 403. */
export function tenantScoped(auth: HttpAuth) {
  return new Elysia().derive({ as: "scoped" }, async ({ request, set }): Promise<{ tenant: Tenant }> => ({ tenant: await auth.tenant(request, set.headers) }));
}
