import { expect, test } from "bun:test";
import { createLogger } from "../log";
import type { DeliveryRow } from "../storage/delivery-store";
import { openSqliteStore } from "../storage/sqlite/sqlite-store";
import type { Tenant } from "../tenancy/tenants";
import { WebhookWorker } from "./webhook-worker";
import { waitFor } from "../../test/helpers";

async function setup(tenantIds: string[], rowsPerTenant: number) {
  const store = openSqliteStore({ path: ":memory:", synchronous: "normal" });
  const at = new Date(0).toISOString();
  await store.transaction(async (tx) => {
    for (const t of tenantIds) {
      await tx.tenants.insert({ tenant_id: t, name: "t", api_key_hash: `h-${t}`, config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: at, updated_at: at });
      const rows: DeliveryRow[] = [];
      for (let i = 0; i < rowsPerTenant; i++) {
        const id = `${t}-${i}`;
        rows.push({
          delivery_id: id,
          tenant_id: t,
          kind: "message.new",
          payload: JSON.stringify({ event_id: id }),
          status: "pending",
          attempts: 0,
          next_attempt_at: at,
          last_error: null,
          target_url: null,
          created_at: at,
          last_attempt_at: null,
          finished_at: null,
        });
      }
      await tx.deliveries.insert(rows);
    }
  });
  const tenants = {
    get: async (id: string) => ({ id, config: { webhook_url: `http://hook/${id}` }, webhookSecret: null }) as unknown as Tenant,
  };
  return { store, tenants };
}

test("per-tenant and global caps hold, lanes are served round-robin, and nothing is sent twice", async () => {
  const ids = ["A", "B", "C", "D"];
  const { store, tenants } = await setup(ids, 4);
  const active = new Map<string, number>();
  let total = 0;
  let maxTotal = 0;
  const maxPer = new Map<string, number>();
  const starts: string[] = [];
  const sent: string[] = [];
  const worker = new WebhookWorker({
    store,
    tenants,
    log: createLogger("silent"),
    retryMaxAttempts: 3,
    retryIntervalMs: 10,
    retryMaxIntervalMs: 100,
    workerIntervalMs: 1000,
    webhookTimeoutMs: 1000,
    concurrencyPerTenant: 2,
    globalConcurrency: 3,
    fetch: async (url, init) => {
      const t = url.slice(-1);
      starts.push(t);
      sent.push(JSON.parse(String(init.body)).event_id);
      active.set(t, (active.get(t) ?? 0) + 1);
      total++;
      maxTotal = Math.max(maxTotal, total);
      maxPer.set(t, Math.max(maxPer.get(t) ?? 0, active.get(t)!));
      // Yield a turn so sends overlap (the caps are what is measured, not a duration).
      await new Promise<void>((r) => setImmediate(r));
      active.set(t, active.get(t)! - 1);
      total--;
      return new Response("ok");
    },
  });
  worker.start();
  // Extra wakes while sends are in flight must not claim the same rows again.
  for (let i = 0; i < 5; i++) worker.wake();
  const delivered = async () => (await Promise.all(sent.map((id) => store.deliveries.get(id)))).filter((r) => r?.status === "delivered").length;
  await waitFor(async () => (worker.wake(), (await delivered()) >= 16), 5000, "all 16 delivered");
  await worker.stop(1000);
  expect(sent.length).toBe(16);
  expect(new Set(sent).size).toBe(16);
  expect(maxTotal).toBeLessThanOrEqual(3);
  for (const t of ids) expect(maxPer.get(t)!).toBeLessThanOrEqual(2);
  // Fairness: every tenant starts before any tenant starts its third delivery.
  expect(new Set(starts.slice(0, 4)).size).toBe(4);
  await store.close();
});

test("a failed attempt is rescheduled with backoff and retried by the due timer, then dead after the last attempt", async () => {
  const { store, tenants } = await setup(["A"], 1);
  const at: number[] = [];
  const worker = new WebhookWorker({
    store,
    tenants,
    log: createLogger("silent"),
    retryMaxAttempts: 3,
    retryIntervalMs: 20,
    retryMaxIntervalMs: 1000,
    workerIntervalMs: 60_000,
    webhookTimeoutMs: 1000,
    concurrencyPerTenant: 1,
    fetch: async () => {
      at.push(performance.now());
      return new Response("no", { status: 503 });
    },
  });
  worker.start();
  await waitFor(async () => (await store.deliveries.get("A-0"))!.status === "dead", 3000, "the delivery to become dead");
  await worker.stop(100);
  const row = (await store.deliveries.get("A-0"))!;
  expect(row).toMatchObject({ attempts: 3, last_error: "HTTP 503", target_url: "http://hook/A" });
  expect(at.length).toBe(3);
  // Retries came from the due timer (the poll is 60 s): delays within [step/2, step] plus scheduling.
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(9);
  expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(19);
  await store.close();
});
