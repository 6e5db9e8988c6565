// Background workers: retention of finished deliveries, expired WS token purge, WAL checkpoints,
// outbox gauges, and a shutdown that never loses or fails an in-flight webhook. Plus OpenAPI coverage.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { createLogger } from "../../src/log";
import { retentionPass } from "../../src/delivery/maintenance";
import { openDatabase, migrate } from "../../src/storage/sqlite/db";
import { SqliteDeliveryStore, type DeliveryRow } from "../../src/storage/sqlite/delivery-store";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations";
import { SqliteWsTokenStore } from "../../src/storage/sqlite/ws-token-store";
import { GroupCommitWriter } from "../../src/storage/sqlite/writer";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { deliveryCount, send, tenantWithRoom } from "./fixtures";
import { Receiver } from "./receiver";

const DAY = 86_400_000;

function row(id: string, status: DeliveryRow["status"], finishedAt: number | null): DeliveryRow {
  return {
    delivery_id: id,
    tenant_id: "t1",
    kind: "message.new",
    payload: "{}",
    status,
    attempts: 1,
    next_attempt_at: 0,
    last_error: null,
    target_url: "http://x/",
    created_at: new Date(0).toISOString(),
    last_attempt_at: null,
    finished_at: finishedAt,
  };
}

test("retention pass: delivered past DELIVERY_RETENTION and dead past DEAD_LETTER_RETENTION go; pending never; expired tokens go", async () => {
  const db = openDatabase(":memory:", "normal");
  migrate(db, MIGRATIONS);
  db.query("INSERT INTO tenants (tenant_id, name, api_key_hash, created_at, updated_at) VALUES ('t1', 't', 'h', 'x', 'x')").run();
  const store = new SqliteDeliveryStore(db);
  const now = 100 * DAY;
  const rows = [
    row("old-delivered", "delivered", now - 8 * DAY),
    row("new-delivered", "delivered", now - 6 * DAY),
    row("old-dead", "dead", now - 31 * DAY),
    row("new-dead", "dead", now - 29 * DAY),
    row("ancient-pending", "pending", null),
  ];
  for (const r of rows) store.insert(r);
  const tokens = new SqliteWsTokenStore(db);
  tokens.insert("expired", "t1", "u", now - 1);
  tokens.insert("fresh", "t1", "u", now + 60_000);
  const writer = new GroupCommitWriter(db);
  const r = await retentionPass({
    deliveries: store,
    purgeWsTokens: () => tokens.purgeExpired(now),
    writer,
    log: createLogger("silent"),
    deliveryRetentionMs: 7 * DAY,
    deadLetterRetentionMs: 30 * DAY,
    now: () => now,
  });
  expect(r).toEqual({ delivered: 1, dead: 1, wsTokens: 1 });
  const left = (db.query("SELECT delivery_id FROM deliveries ORDER BY delivery_id").all() as { delivery_id: string }[]).map((x) => x.delivery_id);
  expect(left).toEqual(["ancient-pending", "new-dead", "new-delivered"]);
  expect(db.query("SELECT token_hash FROM ws_tokens").all()).toEqual([{ token_hash: "fresh" }]);
  db.close();
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
      await waitFor(() => deliveryCount(s.api, "delivered", ok.tenantId) === 1, 3000, "delivered");
      await waitFor(() => deliveryCount(s.api, "delivered", ok.tenantId) === 0, 3000, "retention to prune the delivered row");
      expect(deliveryCount(s.api, "dead", bad.tenantId)).toBe(1);
      // The dead-letter gauge is refreshed by the worker passes.
      await waitFor(async () => /\nchatapi_dead_letters [1-9]/.test(await (await fetch(`${s.url}/metrics`)).text()), 3000, "dead letter gauge");
    } finally {
      dead.stop();
    }
  });

  test("expired WS tokens are purged every WORKER_INTERVAL", async () => {
    const t = await tenantWithRoom(s, ["a", "b"]);
    s.api.db.query("INSERT INTO ws_tokens (token_hash, tenant_id, user_id, expires_at) VALUES (?, ?, ?, ?)").run("expired-token-hash", t.tenantId, "a", Date.now() - 1000);
    await waitFor(() => s.api.db.query("SELECT 1 FROM ws_tokens WHERE token_hash = 'expired-token-hash'").get() === null, 3000, "the token purge");
  });

  test("WAL checkpoints run and chatapi_wal_bytes reports the -wal file size", async () => {
    await waitFor(async () => {
      const m = /\nchatapi_wal_bytes (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text());
      return m && Number(m[1]) > 0;
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
      const db = new Database(join(s.dataDir, "chatapi.db"), { readonly: true });
      try {
        const rows = db.query("SELECT tenant_id, status, attempts, last_error FROM deliveries").all() as any[];
        expect(rows.find((r) => r.tenant_id === a.tenantId)).toEqual({ tenant_id: a.tenantId, status: "pending", attempts: 0, last_error: null });
        expect(rows.find((r) => r.tenant_id === b.tenantId)).toMatchObject({ status: "delivered", attempts: 1 });
      } finally {
        db.close();
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
