// The auth pass for tenant routes as an Elysia derive (runs before body validation, so 401/429 come first).
import { Elysia } from "elysia";
import type { Actor } from "../chat/types";
import type { Tenant } from "../tenancy/tenants";
import type { HttpAuth } from "./auth";

/** Routes with K + U (or a Bearer JWT): derives `actor` (tenant + user). */
export function userScoped(auth: HttpAuth) {
  return new Elysia().derive({ as: "scoped" }, ({ request, set }): { actor: Actor } | Promise<{ actor: Actor }> => wrap(auth.tenantUser(request, set.headers), (actor) => ({ actor })));
}

// Stays synchronous when the auth pass was (a cached key): no promise on the hot path.
function wrap<T, R>(v: T | Promise<T>, f: (v: T) => R): R | Promise<R> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/** Routes with K + U that a user token may not call (`POST /ws/token`): a Bearer JWT gets 403. */
export function keyUserScoped(auth: HttpAuth) {
  return new Elysia().derive({ as: "scoped" }, ({ request, set }): { actor: Actor } | Promise<{ actor: Actor }> => wrap(auth.keyUser(request, set.headers), (actor) => ({ actor })));
}

/** Routes with K only: derives `tenant`; a Bearer JWT gets 403. */
export function tenantScoped(auth: HttpAuth) {
  return new Elysia().derive({ as: "scoped" }, ({ request, set }): { tenant: Tenant } | Promise<{ tenant: Tenant }> => wrap(auth.tenant(request, set.headers), (tenant) => ({ tenant })));
}
