// /admin/tenants*: master-key auth, the key shown once and stored hashed, rotation, PATCH rules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { startTestServer, TEST_MASTER_KEY, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
let admin: RestClient;
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

beforeAll(async () => {
  s = await startTestServer();
  admin = s.raw({ "x-master-key": TEST_MASTER_KEY });
});
afterAll(() => s.stop());

/** Every admin route, with a body where it takes one; `id` is a real tenant id. */
function adminRoutes(id: string): { method: string; path: string; body?: unknown }[] {
  return [
    { method: "POST", path: "/admin/tenants", body: { name: "x" } },
    { method: "GET", path: "/admin/tenants" },
    { method: "GET", path: `/admin/tenants/${id}` },
    { method: "PATCH", path: `/admin/tenants/${id}`, body: { name: "renamed" } },
    { method: "POST", path: `/admin/tenants/${id}/rotate-key` },
  ];
}

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await fetch(s.url + path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

function expectError(r: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body.error).toBe(code);
  expect(typeof r.body.message).toBe("string");
  expect(r.body.request_id).toBe(r.headers.get("x-request-id"));
}

describe("master key", () => {
  test("every admin route answers 401 without X-Master-Key", async () => {
    const t = await s.createTenant("auth-missing");
    for (const r of adminRoutes(t.tenant_id)) expectError(await call(r.method, r.path, {}, r.body), 401, "unauthorized");
  });

  test("every admin route answers 401 with a wrong master key", async () => {
    const t = await s.createTenant("auth-wrong");
    for (const r of adminRoutes(t.tenant_id)) {
      expectError(await call(r.method, r.path, { "x-master-key": TEST_MASTER_KEY + "x" }, r.body), 401, "unauthorized");
      expectError(await call(r.method, r.path, { "x-master-key": TEST_MASTER_KEY.slice(0, -1) + "X" }, r.body), 401, "unauthorized");
    }
  });

  test("a tenant key is refused on admin routes, as X-API-Key or as X-Master-Key", async () => {
    const t = await s.createTenant("auth-tenant-key");
    for (const r of adminRoutes(t.tenant_id)) {
      expectError(await call(r.method, r.path, { "x-api-key": t.api_key }, r.body), 401, "unauthorized");
      expectError(await call(r.method, r.path, { "x-master-key": t.api_key }, r.body), 401, "unauthorized");
    }
  });

  test("a refused admin request changes nothing", async () => {
    const t = await s.createTenant("auth-nochange");
    await call("POST", "/admin/tenants", { "x-master-key": "wrong-master-key-000000" }, { name: "intruder-create" });
    await call("POST", "/admin/tenants", { "x-api-key": t.api_key }, { name: "intruder-create" });
    await call("PATCH", `/admin/tenants/${t.tenant_id}`, {}, { name: "intruder" });
    await call("POST", `/admin/tenants/${t.tenant_id}/rotate-key`, { "x-api-key": t.api_key });
    const after = await admin.get("/admin/tenants");
    expect(after.body.tenants.some((x: any) => x.name === "intruder-create")).toBe(false);
    expect((await admin.get(`/admin/tenants/${t.tenant_id}`)).body.name).toBe("auth-nochange");
    expect((await s.api.tenants.authenticate(t.api_key))?.id).toBe(t.tenant_id);
  });
});

describe("POST /admin/tenants", () => {
  test("creates a tenant: 201 with tenant_id, name, api_key, resolved config and created_at", async () => {
    const r = await admin.post("/admin/tenants", { name: "acme" });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(["api_key", "config", "created_at", "name", "tenant_id"]);
    expect(r.body.name).toBe("acme");
    expect(r.body.created_at).toMatch(RFC3339_MS);
    // 32 random bytes, base64url or hex.
    expect(r.body.api_key).toMatch(/^([A-Za-z0-9_-]{43}|[0-9a-f]{64})$/);
    // startTestServer sets DEFAULT_RATE_LIMIT=100000.
    expect(r.body.config).toEqual({
      rate_limit: 100000,
      rate_limit_burst: 200000,
      user_message_rate: 10,
      max_message_bytes: 4000,
      max_attachment_bytes: 10485760,
      attachment_quota_bytes: 1073741824,
      webhook_url: null,
      has_webhook_secret: false,
      max_connections: 10000,
      max_pending_deliveries: 100000,
      has_jwt_secret: false,
      jwt_public_keys: [],
    });
  });

  test("every created tenant gets a distinct id and key", async () => {
    const a = await s.createTenant("distinct-a");
    const b = await s.createTenant("distinct-a");
    expect(a.tenant_id).not.toBe(b.tenant_id);
    expect(a.api_key).not.toBe(b.api_key);
  });

  test("create with an invalid body is 400 with details and creates nothing", async () => {
    const bodies = [
      {},
      { name: "" },
      { name: "invalid-create-1", config: { rate_limit: 0 } },
      { name: "invalid-create-2", config: { webhook_url: "ftp://x" } },
      { name: "invalid-create-3", config: { max_message_bytes: 8193 } },
    ];
    for (const body of bodies) {
      const r = await admin.post("/admin/tenants", body);
      expectError(r, 400, "invalid_request");
      expect(Array.isArray(r.body.details)).toBe(true);
      expect(r.body.details.length).toBeGreaterThan(0);
      for (const d of r.body.details) {
        expect(typeof d.path).toBe("string");
        expect(typeof d.message).toBe("string");
      }
    }
    const names = (await admin.get("/admin/tenants")).body.tenants.map((x: any) => x.name);
    for (const n of ["", "invalid-create-1", "invalid-create-2", "invalid-create-3"]) expect(names).not.toContain(n);
  });
});

describe("keys are shown once and stored hashed", () => {
  test("GET list and GET one never return api_key or webhook_secret", async () => {
    const secret = "whsec-list-check-0123456789";
    const t = await s.createTenant("secretive", { webhook_url: "https://hooks.example.com/x", webhook_secret: secret });
    const list = await admin.get("/admin/tenants");
    const one = await admin.get(`/admin/tenants/${t.tenant_id}`);
    expect(list.status).toBe(200);
    expect(one.status).toBe(200);
    for (const r of [list, one]) {
      const text = JSON.stringify(r.body);
      expect(text).not.toContain(t.api_key);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('"api_key"');
      expect(text).not.toContain('"webhook_secret"');
      expect(text).not.toContain("api_key_hash");
    }
    const mine = list.body.tenants.find((x: any) => x.tenant_id === t.tenant_id);
    expect(mine).toEqual(one.body);
    expect(Object.keys(one.body).sort()).toEqual(["config", "created_at", "name", "tenant_id"]);
    expect(one.body.config.has_webhook_secret).toBe(true);
    expect(one.body.config.webhook_url).toBe("https://hooks.example.com/x");
  });

  test("the database holds the SHA-256 hex of the key, never the key itself", async () => {
    const t = await s.createTenant("hashed");
    const row = (await s.api.store.tenants.get(t.tenant_id))!;
    expect(row.api_key_hash).toBe(sha256(t.api_key));
    expect(row.api_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(t.api_key);
    // Every stored column, as the store keeps it (not only the fields of the row type).
    const stored = [...((await s.api.store.maintenance.dump()).get("tenants")?.values() ?? [])].find((r) => r.tenant_id === t.tenant_id);
    expect(stored).toBeDefined();
    expect(JSON.stringify(stored)).not.toContain(t.api_key);
  });
});

describe("GET /admin/tenants/{tenant_id}", () => {
  test("returns the Tenant", async () => {
    const t = await s.createTenant("get-one", { rate_limit: 3 });
    const r = await admin.get(`/admin/tenants/${t.tenant_id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ tenant_id: t.tenant_id, name: "get-one", config: t.config, created_at: t.created_at });
  });

  test("unknown tenant is 404 on GET, PATCH and rotate-key", async () => {
    const id = "01a00000-0000-7000-8000-000000000000";
    expectError(await call("GET", `/admin/tenants/${id}`, { "x-master-key": TEST_MASTER_KEY }), 404, "not_found");
    expectError(await call("PATCH", `/admin/tenants/${id}`, { "x-master-key": TEST_MASTER_KEY }, { name: "n" }), 404, "not_found");
    expectError(await call("POST", `/admin/tenants/${id}/rotate-key`, { "x-master-key": TEST_MASTER_KEY }), 404, "not_found");
  });
});

describe("POST /admin/tenants/{tenant_id}/rotate-key", () => {
  test("rotation returns a new key, stores its hash, and the old key stops authenticating at once", async () => {
    const t = await s.createTenant("rotating");
    // Warm the key cache first: rotation must invalidate it, not just the database row.
    expect((await s.api.tenants.authenticate(t.api_key))?.id).toBe(t.tenant_id);
    const r = await admin.post(`/admin/tenants/${t.tenant_id}/rotate-key`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["api_key", "tenant_id"]);
    expect(r.body.tenant_id).toBe(t.tenant_id);
    expect(r.body.api_key).not.toBe(t.api_key);
    expect(await s.api.tenants.authenticate(t.api_key)).toBeNull();
    expect((await s.api.tenants.authenticate(r.body.api_key))?.id).toBe(t.tenant_id);
    expect((await s.api.store.tenants.get(t.tenant_id))!.api_key_hash).toBe(sha256(r.body.api_key));
    // Rotation keeps everything else.
    const after = await admin.get(`/admin/tenants/${t.tenant_id}`);
    expect(after.body).toEqual({ tenant_id: t.tenant_id, name: "rotating", config: t.config, created_at: t.created_at });
  });

  test("a second rotation invalidates the first rotated key", async () => {
    const t = await s.createTenant("rotating-twice");
    const k1 = (await admin.post(`/admin/tenants/${t.tenant_id}/rotate-key`)).body.api_key;
    expect((await s.api.tenants.authenticate(k1))?.id).toBe(t.tenant_id);
    const k2 = (await admin.post(`/admin/tenants/${t.tenant_id}/rotate-key`)).body.api_key;
    expect(await s.api.tenants.authenticate(k1)).toBeNull();
    expect(await s.api.tenants.authenticate(t.api_key)).toBeNull();
    expect((await s.api.tenants.authenticate(k2))?.id).toBe(t.tenant_id);
  });
});

describe("PATCH /admin/tenants/{tenant_id}", () => {
  async function expectInvalidPatch(id: string, body: unknown, path: string) {
    const r = await admin.patch(`/admin/tenants/${id}`, body);
    expectError(r, 400, "invalid_request");
    expect(r.body.details.map((d: any) => d.path)).toContain(path);
  }

  test("rate_limit 0 is 400 with details", async () => {
    const t = await s.createTenant("patch-rate0");
    await expectInvalidPatch(t.tenant_id, { config: { rate_limit: 0 } }, "/config/rate_limit");
    await expectInvalidPatch(t.tenant_id, { config: { rate_limit: -5 } }, "/config/rate_limit");
    await expectInvalidPatch(t.tenant_id, { config: { rate_limit: 1.5 } }, "/config/rate_limit");
    await expectInvalidPatch(t.tenant_id, { config: { rate_limit_burst: 0 } }, "/config/rate_limit_burst");
    await expectInvalidPatch(t.tenant_id, { config: { user_message_rate: 0 } }, "/config/user_message_rate");
  });

  test("max_message_bytes 8193 is 400; 8192 and 1 are accepted", async () => {
    const t = await s.createTenant("patch-bytes");
    await expectInvalidPatch(t.tenant_id, { config: { max_message_bytes: 8193 } }, "/config/max_message_bytes");
    await expectInvalidPatch(t.tenant_id, { config: { max_message_bytes: 0 } }, "/config/max_message_bytes");
    expect((await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { max_message_bytes: 8192 } })).body.config.max_message_bytes).toBe(8192);
    expect((await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { max_message_bytes: 1 } })).body.config.max_message_bytes).toBe(1);
  });

  test("webhook_url must be an absolute http(s) URL", async () => {
    const t = await s.createTenant("patch-url");
    await expectInvalidPatch(t.tenant_id, { config: { webhook_url: "ftp://x" } }, "/config/webhook_url");
    await expectInvalidPatch(t.tenant_id, { config: { webhook_url: "not a url" } }, "/config/webhook_url");
    await expectInvalidPatch(t.tenant_id, { config: { webhook_url: "/relative/path" } }, "/config/webhook_url");
    const ok = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { webhook_url: "https://hooks.example.com/chat" } });
    expect(ok.status).toBe(200);
    expect(ok.body.config.webhook_url).toBe("https://hooks.example.com/chat");
  });

  test("unknown body fields cannot set anything: neither the key nor an unknown config key is stored", async () => {
    // Elysia normalizes bodies (drops unknown properties) rather than rejecting them.
    const t = await s.createTenant("patch-unknown");
    const a = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { colour: "blue" } });
    expect(a.body.config).toEqual(t.config);
    const b = await admin.patch(`/admin/tenants/${t.tenant_id}`, { api_key: "mine-0123456789abcdef", api_key_hash: "00" });
    expect(await s.api.tenants.authenticate("mine-0123456789abcdef")).toBeNull();
    expect((await s.api.tenants.authenticate(t.api_key))?.id).toBe(t.tenant_id);
    expect(JSON.stringify(b.body)).not.toContain("mine-0123456789abcdef");
  });

  test("a rejected PATCH leaves the tenant unchanged", async () => {
    const t = await s.createTenant("patch-atomic", { rate_limit: 4 });
    await admin.patch(`/admin/tenants/${t.tenant_id}`, { name: "changed", config: { rate_limit: 8, webhook_url: "ftp://x" } });
    const r = await admin.get(`/admin/tenants/${t.tenant_id}`);
    expect(r.body.name).toBe("patch-atomic");
    expect(r.body.config).toEqual(t.config);
  });

  test("webhook_secret is write-only: has_webhook_secret reports it, no response shows it, null clears it", async () => {
    const t = await s.createTenant("patch-secret");
    const secret = "whsec-patch-0123456789abcdef";
    const r = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { webhook_secret: secret } });
    expect(r.status).toBe(200);
    expect(r.body.config.has_webhook_secret).toBe(true);
    expect(JSON.stringify(r.body)).not.toContain(secret);
    expect("webhook_secret" in r.body.config).toBe(false);
    const g = await admin.get(`/admin/tenants/${t.tenant_id}`);
    expect(g.body.config.has_webhook_secret).toBe(true);
    expect(JSON.stringify(g.body)).not.toContain(secret);
    // Other PATCHes keep the secret.
    expect((await admin.patch(`/admin/tenants/${t.tenant_id}`, { name: "renamed" })).body.config.has_webhook_secret).toBe(true);
    const cleared = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { webhook_secret: null } });
    expect(cleared.body.config.has_webhook_secret).toBe(false);
  });

  test("null resets a config key to its default", async () => {
    const t = await s.createTenant("patch-null", { rate_limit: 7, user_message_rate: 3, max_message_bytes: 100, webhook_url: "https://h.example.com/" });
    expect(t.config).toMatchObject({ rate_limit: 7, user_message_rate: 3, max_message_bytes: 100, webhook_url: "https://h.example.com/" });
    const r = await admin.patch(`/admin/tenants/${t.tenant_id}`, {
      config: { rate_limit: null, user_message_rate: null, max_message_bytes: null, webhook_url: null },
    });
    expect(r.status).toBe(200);
    expect(r.body.config).toEqual({
      rate_limit: 100000,
      rate_limit_burst: 200000,
      user_message_rate: 10,
      max_message_bytes: 4000,
      max_attachment_bytes: 10485760,
      attachment_quota_bytes: 1073741824,
      webhook_url: null,
      has_webhook_secret: false,
      max_connections: 10000,
      max_pending_deliveries: 100000,
      has_jwt_secret: false,
      jwt_public_keys: [],
    });
  });

  test("PATCH merges: omitted config keys and the name are kept", async () => {
    const t = await s.createTenant("patch-merge", { rate_limit: 5, max_message_bytes: 500 });
    const a = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { user_message_rate: 2 } });
    expect(a.body.name).toBe("patch-merge");
    expect(a.body.config).toMatchObject({ rate_limit: 5, rate_limit_burst: 10, user_message_rate: 2, max_message_bytes: 500 });
    const b = await admin.patch(`/admin/tenants/${t.tenant_id}`, { name: "merged" });
    expect(b.body.name).toBe("merged");
    expect(b.body.config).toEqual(a.body.config);
    expect(b.body.created_at).toBe(t.created_at);
  });

  test("rate_limit_burst follows 2x rate_limit unless set explicitly", async () => {
    const t = await s.createTenant("patch-burst", { rate_limit: 5 });
    expect(t.config.rate_limit_burst).toBe(10);
    const patch = async (config: Record<string, unknown>) => (await admin.patch(`/admin/tenants/${t.tenant_id}`, { config })).body.config;
    expect(await patch({ rate_limit: 7 })).toMatchObject({ rate_limit: 7, rate_limit_burst: 14 });
    expect(await patch({ rate_limit_burst: 3 })).toMatchObject({ rate_limit: 7, rate_limit_burst: 3 });
    expect(await patch({ rate_limit: 9 })).toMatchObject({ rate_limit: 9, rate_limit_burst: 3 });
    expect(await patch({ rate_limit_burst: null })).toMatchObject({ rate_limit: 9, rate_limit_burst: 18 });
  });

  test("the rate-limit config seen by authentication changes at once after PATCH", async () => {
    const t = await s.createTenant("patch-cache", { rate_limit: 5 });
    expect((await s.api.tenants.authenticate(t.api_key))?.config.rate_limit).toBe(5);
    await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { rate_limit: 6 } });
    expect((await s.api.tenants.authenticate(t.api_key))?.config).toMatchObject({ rate_limit: 6, rate_limit_burst: 12 });
  });
});
