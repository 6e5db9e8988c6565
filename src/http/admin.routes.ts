// /admin/tenants*: master-key routes for tenant management.
import { Elysia, t } from "elysia";
import type { TenantService } from "../tenancy/tenants";
import type { HttpAuth } from "./auth";
import { errorResponses, TenantConfigInputSchema, TenantSchema } from "./schemas";

const TenantIdParams = t.Object({ tenant_id: t.String({ minLength: 1, maxLength: 64 }) });
const NameSchema = t.String({ minLength: 1, maxLength: 200 });
const MasterHeaders = t.Object({ "x-master-key": t.Optional(t.String({ description: "The master key (MASTER_API_KEY or DATA_DIR/master.key)" })) });

/** Tenant CRUD and key rotation; every route requires X-Master-Key (tenant keys are refused). */
export function adminRoutes(deps: { auth: HttpAuth; tenants: TenantService }) {
  const { auth, tenants } = deps;
  return new Elysia({ prefix: "/admin/tenants", tags: ["Admin: tenants"] })
    .derive(({ request }) => {
      auth.master(request);
      return {};
    })
    .post(
      // "" (not "/") so the route and its OpenAPI path are exactly /admin/tenants.
      "",
      async ({ body, set }) => {
        const { tenant, apiKey } = await tenants.create(body.name, body.config ?? {});
        set.status = 201;
        return { ...tenant.view, api_key: apiKey };
      },
      {
        headers: MasterHeaders,
        body: t.Object({ name: NameSchema, config: t.Optional(TenantConfigInputSchema) }, { additionalProperties: false }),
        response: { 201: t.Composite([TenantSchema, t.Object({ api_key: t.String({ description: "Shown only here" }) })]), ...errorResponses },
        detail: { summary: "Create a tenant; the API key is shown only in this response" },
      },
    )
    .get("", async () => ({ tenants: await tenants.list() }), {
      headers: MasterHeaders,
      response: { 200: t.Object({ tenants: t.Array(TenantSchema) }), ...errorResponses },
      detail: { summary: "List tenants (never keys or secrets)" },
    })
    .get("/:tenant_id", async ({ params }) => (await tenants.get(params.tenant_id)).view, {
      headers: MasterHeaders,
      params: TenantIdParams,
      response: { 200: TenantSchema, ...errorResponses },
      detail: { summary: "Get a tenant" },
    })
    .patch("/:tenant_id", async ({ params, body }) => (await tenants.patch(params.tenant_id, body)).view, {
      headers: MasterHeaders,
      params: TenantIdParams,
      body: t.Object({ name: t.Optional(NameSchema), config: t.Optional(TenantConfigInputSchema) }, { additionalProperties: false }),
      response: { 200: TenantSchema, ...errorResponses },
      detail: { summary: "Rename a tenant or merge config keys (null resets a key to its default)" },
    })
    .post(
      "/:tenant_id/rotate-key",
      async ({ params }) => {
        const r = await tenants.rotateKey(params.tenant_id);
        return { tenant_id: r.tenantId, api_key: r.apiKey };
      },
      {
        headers: MasterHeaders,
        params: TenantIdParams,
        response: { 200: t.Object({ tenant_id: t.String(), api_key: t.String() }), ...errorResponses },
        detail: { summary: "Issue a new API key; the old one stops working at once" },
      },
    );
}
