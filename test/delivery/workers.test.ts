// Background workers: retention of finished deliveries, expired WS token purge, WAL checkpoints,
// outbox gauges, and a shutdown that never loses or fails an in-flight webhook. Plus OpenAPI coverage.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log";
import { retentionPass } from "../../src/delivery/maintenance";
import type { DeliveryRow } from "../../src/storage/delivery-store";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store";
import { sha256Hex } from "../../src/tenancy/keys";
import { metricValue, startTestServer, waitFor, type TestServer } from "../helpers";
import { onlyOn } from "../support/test-store";
import { peek, reopenStore, seed } from "../support/store";
import { deliveryCount, send, tenantWithRoom } from "./fixtures";
import { Receiver } from "./receiver";

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function row(id: string, status: DeliveryRow["status"], finishedAt: number | null): DeliveryRow {
  return {
    delivery_id: id,
    tenant_id: "t1",
    kind: "message.new",
    payload: "{}",
    status,
    attempts: 1,
    next_attempt_at: iso(0),
    last_error: null,
    target_url: "http://x/",
    created_at: iso(0),
    last_attempt_at: null,
    finished_at: finishedAt === null ? null : iso(finishedAt),
  };
}

test("retention pass: delivered past DELIVERY_RETENTION and dead past DEAD_LETTER_RETENTION go; pending never; expired tokens go", async () => {
  const store = openSqliteStore({ path: ":memory:", synchronous: "normal" });
  const now = 100 * DAY;
  await store.transaction(async (tx) => {
    await tx.tenants.insert({ tenant_id: "t1", name: "t", api_key_hash: "h", config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: iso(0), updated_at: iso(0) });
    await tx.deliveries.insert([
      row("old-delivered", "delivered", now - 8 * DAY),
      row("new-delivered", "delivered", now - 6 * DAY),
      row("old-dead", "dead", now - 31 * DAY),
      row("new-dead", "dead", now - 29 * DAY),
      row("ancient-pending", "pending", null),
    ]);
    await tx.wsTokens.insert("expired", "t1", "u", iso(now - 1));
    await tx.wsTokens.insert("fresh", "t1", "u", iso(now + 60_000));
  });
  const r = await retentionPass({
    store,
    log: createLogger("silent"),
    deliveryRetentionMs: 7 * DAY,
    deadLetterRetentionMs: 30 * DAY,
    now: () => now,
  });
  expect(r).toEqual({ delivered: 1, dead: 1, wsTokens: 1 });
  const left = (await store.deliveries.list({}, 100)).map((x) => x.delivery_id).sort();
  expect(left).toEqual(["ancient-pending", "new-dead", "new-delivered"]);
  // Consumed inside a transaction that is rolled back: a look without a trace.
  const look = async (hash: string) => {
    try {
      await store.transaction(async (tx) => {
        throw new Error(JSON.stringify(await tx.wsTokens.consume(hash)));
      });
    } catch (err) {
      return JSON.parse((err as Error).message);
    }
  };
  expect(await look("expired")).toBeNull();
  expect(await look("fresh")).toMatchObject({ tenant_id: "t1", user_id: "u" });
  await store.close();
});

describe("running workers", () => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    rx = new Receiver();
    s = await startTestServer({
      WORKER_INTERVAL: "50ms",
      WAL_CHECKPOINT_INTERVAL: "50ms",
      DELIVERY_RETENTION: "200ms",
      RETRY_MAX_ATTEMPTS: "1",
    });
  });
  afterAll(async () => {
    await s.stop();
    rx.stop();
  });

  test("delivered rows are pruned after DELIVERY_RETENTION; dead letters stay (30 d)", async () => {
    const dead = new Receiver(() => 500);
    try {
      const ok = await tenantWithRoom(s, ["a", "b"], { webhook_url: rx.url });
      const bad = await tenantWithRoom(s, ["a", "b"], { webhook_url: dead.url });
      await send(ok.owner, ok.roomId, "keep briefly");
      await send(bad.owner, bad.roomId, "dies");
      await waitFor(async () => (await deliveryCount(s.api, "delivered", ok.tenantId)) === 1, 3000, "delivered");
      await waitFor(async () => (await deliveryCount(s.api, "delivered", ok.tenantId)) === 0, 3000, "retention to prune the delivered row");
      expect(await deliveryCount(s.api, "dead", bad.tenantId)).toBe(1);
      // The dead-letter gauge is refreshed by the worker passes.
      await waitFor(async () => (metricValue(await (await fetch(`${s.url}/metrics`)).text(), "chatapi_dead_letters") ?? 0) > 0, 3000, "dead letter gauge");
    } finally {
      dead.stop();
    }
  });

  test("expired WS tokens are purged every WORKER_INTERVAL", async () => {
    const t = await tenantWithRoom(s, ["a", "b"]);
    const hash = sha256Hex("expired-token-0123456789");
    await seed(s.api, (tx) => tx.wsTokens.insert(hash, t.tenantId, "a", iso(Date.now() - 1000)));
    await waitFor(async () => (await peek(s.api, (tx) => tx.wsTokens.consume(hash))) === null, 3000, "the token purge");
  });

  // SQLite's WAL: PostgreSQL checkpoints by itself (the worker's checkpoint is a no-op there).
  test.skipIf(onlyOn("sqlite", "chatapi_wal_bytes: the WAL file is SQLite's"))("WAL checkpoints run and chatapi_wal_bytes reports the -wal file size", async () => {
    await waitFor(async () => {
      return (metricValue(await (await fetch(`${s.url}/metrics`)).text(), "chatapi_wal_bytes") ?? 0) > 0;
    }, 3000, "a WAL size gauge");
  });
});

describe("shutdown", () => {
  test("an in-flight webhook that cannot finish within the drain stays pending, untouched; one that finishes is recorded", async () => {
    const hang = new Receiver(() => "hang");
    const slow = new Receiver(() => ({ status: 200, delayMs: 100 }));
    const s = await startTestServer({ SHUTDOWN_DRAIN_TIMEOUT: "300ms", WEBHOOK_TIMEOUT: "5s", RETRY_MAX_ATTEMPTS: "1" });
    try {
      const a = await tenantWithRoom(s, ["a", "b"], { webhook_url: hang.url });
      const b = await tenantWithRoom(s, ["a", "b"], { webhook_url: slow.url });
      await send(a.owner, a.roomId, "stuck");
      await send(b.owner, b.roomId, "slow");
      await hang.waitForCount(1);
      await slow.waitForCount(1);
      const t0 = performance.now();
      await s.api.stop();
      expect(performance.now() - t0).toBeLessThan(2000);
      const store = await reopenStore(s.api);
      try {
        const rows = await store.deliveries.list({}, 100);
        expect(rows.find((r) => r.tenant_id === a.tenantId)).toMatchObject({ status: "pending", attempts: 0, last_error: null });
        expect(rows.find((r) => r.tenant_id === b.tenantId)).toMatchObject({ status: "delivered", attempts: 1 });
      } finally {
        await store.close();
      }
    } finally {
      await s.stop();
      hang.stop();
      slow.stop();
    }
  });
});

test("OpenAPI documents every notification, subscription and dead-letter route with its tag", async () => {
  const s = await startTestServer();
  try {
    const doc = (await (await fetch(`${s.url}/docs/json`)).json()) as any;
    const want: [string, string, string][] = [
      ["/notify", "post", "Notifications"],
      ["/notifications", "get", "Notifications"],
      ["/notifications/{notification_id}/ack", "post", "Notifications"],
      ["/subscriptions", "post", "Notifications"],
      ["/subscriptions", "get", "Notifications"],
      ["/subscriptions/{id}", "delete", "Notifications"],
      ["/admin/dead-letters", "get", "Admin: dead letters"],
      ["/admin/dead-letters/{id}/retry", "post", "Admin: dead letters"],
    ];
    for (const [path, method, tag] of want) {
      const op = doc.paths?.[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.tags).toContain(tag);
      expect(Object.keys(op.responses ?? {})).toContain("404");
    }
    expect(doc.paths["/notify"].post.requestBody).toBeDefined();
  } finally {
    await s.stop();
  }
});
