// Tenant settings max_attachment_bytes (1..100 MiB) and attachment_quota_bytes: validated, resolved
// from MAX_ATTACHMENT_BYTES / ATTACHMENT_QUOTA_BYTES, null resets them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, TEST_MASTER_KEY, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ MAX_ATTACHMENT_BYTES: "2048", ATTACHMENT_QUOTA_BYTES: "4096" });
});
afterAll(() => s.stop());

test("defaults come from the environment; valid values are kept; out of range is 400; null resets", async () => {
  const t = await s.createTenant("att-config");
  expect(t.config).toMatchObject({ max_attachment_bytes: 2048, attachment_quota_bytes: 4096 });
  const master = s.raw({ "x-master-key": TEST_MASTER_KEY });
  const ok = await master.patch(`/admin/tenants/${t.tenant_id}`, { config: { max_attachment_bytes: 104857600, attachment_quota_bytes: 0 } });
  expect(ok.status).toBe(200);
  expect(ok.body.config).toMatchObject({ max_attachment_bytes: 104857600, attachment_quota_bytes: 0 });
  for (const bad of [{ max_attachment_bytes: 104857601 }, { max_attachment_bytes: 0 }, { attachment_quota_bytes: -1 }, { max_attachment_bytes: "10" }]) {
    expect((await master.patch(`/admin/tenants/${t.tenant_id}`, { config: bad })).status).toBe(400);
  }
  const reset = await master.patch(`/admin/tenants/${t.tenant_id}`, { config: { max_attachment_bytes: null, attachment_quota_bytes: null } });
  expect(reset.body.config).toMatchObject({ max_attachment_bytes: 2048, attachment_quota_bytes: 4096 });
});
