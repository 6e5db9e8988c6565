// Retries with growing backoff, dead letters after RETRY_MAX_ATTEMPTS, tenant-scoped dead-letter
// listing and retry (docs/reference/rest.md /admin/dead-letters and section 5).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { deliveryCount, outboxIdle, send, tenantWithRoom } from "./fixtures";
import { Receiver } from "./receiver";

const RETRY_MS = 50;

describe("failing 3 times, then succeeding (RETRY_MAX_ATTEMPTS=5)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ RETRY_INTERVAL: `${RETRY_MS}ms`, WORKER_INTERVAL: "100ms", RETRY_MAX_ATTEMPTS: "5" });
  });
  afterAll(() => s.stop());

  test("is delivered on attempt 4, same event_id, with growing delays", async () => {
    const rx = new Receiver((_r, i) => (i < 3 ? 500 : 204));
    try {
      const t = await tenantWithRoom(s, ["a", "b"], { webhook_url: rx.url });
      await send(t.owner, t.roomId, "retry me");
      const got = await rx.waitForCount(4, 5000);
      await outboxIdle(s.api);
      expect(rx.received.length).toBe(4);
      expect(new Set(got.map((r) => r.body.event_id)).size).toBe(1);
      expect(new Set(got.map((r) => r.raw)).size).toBe(1);
      const gaps = [1, 2, 3].map((i) => got[i]!.at - got[i - 1]!.at);
      // Delay after attempt n is in [step/2, step], step = RETRY_INTERVAL * 2^(n-1): 25-50, 50-100, 100-200 ms.
      gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual((RETRY_MS * 2 ** i) / 2 - 5));
      expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
      expect(gaps[1]! + 10).toBeGreaterThanOrEqual(gaps[0]!);
      expect(gaps[2]! + 10).toBeGreaterThanOrEqual(gaps[1]!);
      const row = (await s.api.store.deliveries.get(got[0]!.body.event_id))!;
      expect(row).toMatchObject({ status: "delivered", attempts: 4, last_error: null });
      expect(Number.isFinite(Date.parse(row.finished_at!))).toBe(true);
    } finally {
      rx.stop();
    }
  });
});

describe("always failing (RETRY_MAX_ATTEMPTS=3)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ RETRY_INTERVAL: `${RETRY_MS}ms`, WORKER_INTERVAL: "100ms", RETRY_MAX_ATTEMPTS: "3" });
  });
  afterAll(() => s.stop());

  test("becomes a dead letter after 3 attempts, visible only to its tenant, and retry delivers it", async () => {
    let healthy = false;
    const rx = new Receiver(() => (healthy ? 200 : 500));
    try {
      const t = await tenantWithRoom(s, ["a", "b"], { webhook_url: rx.url, webhook_secret: "sekret-value-123" });
      const other = await tenantWithRoom(s, ["x", "y"], { webhook_url: rx.url });
      const m = await send(t.owner, t.roomId, "doomed");
      await rx.waitForCount(3);
      await outboxIdle(s.api);
      expect(rx.received.length).toBe(3);

      const tenantKey = s.client(t.apiKey); // tenant key only: X-User-Id is not required
      const list = await tenantKey.get("/admin/dead-letters");
      expect(list.status).toBe(200);
      expect(list.body.dead_letters.length).toBe(1);
      const dl = list.body.dead_letters[0];
      expect(Object.keys(dl).sort()).toEqual(["attempts", "created_at", "id", "kind", "last_attempt_at", "last_error", "payload", "target_url"]);
      expect(dl).toMatchObject({ kind: "message.new", target_url: rx.url, attempts: 3, last_error: "HTTP 500" });
      expect(dl.id).toBe(rx.received[0]!.body.event_id);
      expect(dl.payload).toEqual(rx.received[0]!.body);
      expect(dl.payload.message.message_id).toBe(m.message_id);
      expect(typeof dl.last_attempt_at).toBe("string");
      expect(JSON.stringify(list.body)).not.toContain("sekret-value-123");

      // Another tenant: an empty list, and 404 for this id.
      const otherKey = s.client(other.apiKey);
      expect((await otherKey.get("/admin/dead-letters")).body).toEqual({ dead_letters: [] });
      const foreign = await otherKey.post(`/admin/dead-letters/${dl.id}/retry`);
      expect(foreign.status).toBe(404);
      expect(foreign.body.error).toBe("not_found");
      expect((await tenantKey.post("/admin/dead-letters/no-such-id/retry")).status).toBe(404);
      // Master key and missing key are refused.
      expect((await s.raw({ "x-master-key": "test-master-key-0123456789abcdef" }).get("/admin/dead-letters")).status).toBe(401);
      expect((await s.raw({}).get("/admin/dead-letters")).status).toBe(401);

      // The receiver recovers: retry re-queues with fresh attempts and it is delivered at once.
      healthy = true;
      const retry = await tenantKey.post(`/admin/dead-letters/${dl.id}/retry`);
      expect(retry.status).toBe(202);
      await rx.waitForCount(4, 2000);
      await outboxIdle(s.api);
      expect(rx.received.length).toBe(4);
      expect(rx.received[3]!.body.event_id).toBe(dl.id);
      expect((await tenantKey.get("/admin/dead-letters")).body.dead_letters).toEqual([]);
      const row = (await s.api.store.deliveries.get(dl.id))!;
      expect({ status: row.status, attempts: row.attempts }).toEqual({ status: "delivered", attempts: 1 });
      // Not a dead letter any more: a second retry is 404.
      expect((await tenantKey.post(`/admin/dead-letters/${dl.id}/retry`)).status).toBe(404);
    } finally {
      rx.stop();
    }
  });

  test("the list is newest first, honours ?limit and rejects limits outside 1..1000", async () => {
    const rx = new Receiver(() => 400);
    try {
      const t = await tenantWithRoom(s, ["a", "b"], { webhook_url: rx.url });
      for (const c of ["one", "two", "three"]) await send(t.owner, t.roomId, c);
      await rx.waitForCount(9);
      await outboxIdle(s.api);
      const k = s.client(t.apiKey);
      const all = await k.get("/admin/dead-letters");
      expect(all.body.dead_letters.map((d: any) => d.payload.message.content)).toEqual(["three", "two", "one"]);
      const two = await k.get("/admin/dead-letters?limit=2");
      expect(two.body.dead_letters.map((d: any) => d.payload.message.content)).toEqual(["three", "two"]);
      for (const bad of ["0", "1001", "x"]) expect((await k.get(`/admin/dead-letters?limit=${bad}`)).status).toBe(400);
    } finally {
      rx.stop();
    }
  });

  test("timeouts and network errors are recorded as last_error", async () => {
    const s2 = await startTestServer({ RETRY_INTERVAL: "20ms", WORKER_INTERVAL: "100ms", RETRY_MAX_ATTEMPTS: "2", WEBHOOK_TIMEOUT: "100ms" });
    const hang = new Receiver(() => "hang");
    try {
      const slow = await tenantWithRoom(s2, ["a", "b"], { webhook_url: hang.url });
      const down = await tenantWithRoom(s2, ["a", "b"], { webhook_url: "http://127.0.0.1:1/hook" });
      await send(slow.owner, slow.roomId, "slow");
      await send(down.owner, down.roomId, "down");
      // Both end as dead letters (waited for as such: in cluster mode the other node may still be
      // expanding a send's fan-out, which this node's idle outbox does not show).
      await waitFor(async () => (await deliveryCount(s2.api, "dead", slow.tenantId)) === 1 && (await deliveryCount(s2.api, "dead", down.tenantId)) === 1, 5000, "both dead letters");
      await outboxIdle(s2.api);
      const a = (await s2.client(slow.apiKey).get("/admin/dead-letters")).body.dead_letters;
      expect(a.map((d: any) => d.last_error)).toEqual(["timeout after 100 ms"]);
      expect(a[0].attempts).toBe(2);
      const b = (await s2.client(down.apiKey).get("/admin/dead-letters")).body.dead_letters;
      expect(b.length).toBe(1);
      expect(b[0].last_error.length).toBeGreaterThan(0);
      expect(b[0].last_error).not.toMatch(/^HTTP/);
    } finally {
      await s2.stop();
      hang.stop();
    }
  });
});
