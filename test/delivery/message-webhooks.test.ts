// message.new webhooks (docs/guides/webhooks.md): one signed POST per offline recipient and message, the
// exact body, fresh tenant config per attempt, and per-tenant isolation of slow endpoints.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { deliveryCount, LiveSocket, outboxIdle, send, tenantWithRoom } from "./fixtures";
import { expectedSignature, Receiver } from "./receiver";
import { deliveryRows } from "../support/store";

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let s: TestServer;
let rx: Receiver;

beforeAll(async () => {
  rx = new Receiver();
  s = await startTestServer({ RETRY_INTERVAL: "50ms", WORKER_INTERVAL: "100ms", RETRY_MAX_ATTEMPTS: "3", WEBHOOK_TIMEOUT: "2s", SHUTDOWN_DRAIN_TIMEOUT: "300ms" });
});
afterAll(async () => {
  await s.stop();
  rx.stop();
});

describe("message.new", () => {
  test("each offline member gets exactly one signed webhook per message, with every field", async () => {
    const secret = "whsec-test-0123456789";
    const t = await tenantWithRoom(s, ["alice", "bob", "carol"], { webhook_url: rx.url, webhook_secret: secret }, { topic: "launch", n: 1 });
    const m1 = await send(t.owner, t.roomId, "hello  there ");
    const m2 = await send(t.owner, t.roomId, "second");
    const mine = (r: { body: any }) => r.body?.tenant_id === t.tenantId;
    await rx.waitForCount(4, 5000, mine);
    await outboxIdle(s.api);
    const got = rx.received.filter(mine);
    expect(got.length).toBe(4);
    // Sender excluded; one per (recipient, message).
    const pairs = got.map((r) => `${r.body.recipient_id}/${r.body.message.seq}`).sort();
    expect(pairs).toEqual(["bob/1", "bob/2", "carol/1", "carol/2"]);
    expect(new Set(got.map((r) => r.body.event_id)).size).toBe(4);
    for (const r of got) {
      const m = r.body.message.seq === 1 ? m1 : m2;
      expect(Object.keys(r.body)).toEqual(["event", "event_id", "tenant_id", "room_id", "recipient_id", "room_metadata", "mentioned", "message"]);
      expect(r.body.event).toBe("message.new");
      expect(r.body.event_id).toMatch(UUIDV7);
      expect(r.body.tenant_id).toBe(t.tenantId);
      expect(r.body.room_id).toBe(t.roomId);
      expect(r.body.room_metadata).toEqual({ topic: "launch", n: 1 });
      expect(r.body.message).toEqual({ message_id: m.message_id, sender_id: "alice", content: m.content, seq: m.seq, created_at: m.created_at, parent_id: null, attachments: [] });
      expect(r.body.mentioned).toBe(false);
      expect(r.body.message.created_at).toMatch(RFC3339_MS);
      expect(r.path).toBe("/hook");
      expect(r.headers.get("content-type")).toStartWith("application/json");
      expect(r.headers.get("x-chatapi-event-id")).toBe(r.body.event_id);
      const ts = Number(r.headers.get("x-chatapi-timestamp"));
      expect(Number.isInteger(ts)).toBe(true);
      expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(30);
      expect(r.headers.get("x-chatapi-signature")).toBe(expectedSignature(secret, r));
      expect(r.headers.get("x-chatapi-signature")).not.toBe(expectedSignature(secret + "x", r));
    }
    // Delivered rows record the attempt.
    const rows = await deliveryRows(s.api, { tenantId: t.tenantId });
    expect(rows.every((r) => r.status === "delivered" && r.attempts === 1 && r.last_error === null && r.target_url === rx.url)).toBe(true);
  });

  test("room_metadata is sent exactly as the room has it, for every JSON type", async () => {
    const values: unknown[] = [{ a: { b: [1, "x"] } }, [1, "two", null], "just a string", 42.5, true, false, null];
    const t = await tenantWithRoom(s, ["u1", "u2"], { webhook_url: rx.url });
    const rooms: { id: string; metadata: unknown }[] = [];
    for (const metadata of values) {
      const body: Record<string, unknown> = { type: "group", members: ["u2"], metadata };
      const r = await t.owner.post("/rooms", body);
      expect(r.status).toBe(201);
      rooms.push({ id: r.body.room_id, metadata });
      await send(t.owner, r.body.room_id, "hi");
    }
    const mine = (r: { body: any }) => r.body?.tenant_id === t.tenantId;
    await rx.waitForCount(values.length, 5000, mine);
    for (const room of rooms) {
      const hits = rx.received.filter((r) => mine(r) && r.body.room_id === room.id);
      expect(hits.length).toBe(1);
      expect(hits[0]!.body.room_metadata).toEqual(room.metadata);
      expect("room_metadata" in hits[0]!.body).toBe(true);
      // No secret: no signature header.
      expect(hits[0]!.headers.get("x-chatapi-signature")).toBeNull();
    }
  });

  test("a member with an open socket gets no webhook; the others do", async () => {
    const t = await tenantWithRoom(s, ["sender", "online", "offline"], { webhook_url: rx.url });
    const sock = await LiveSocket.open(s, t.apiKey, "online");
    try {
      const m = await send(t.owner, t.roomId, "who is here");
      await sock.next((f) => f.type === "message" && f.message_id === m.message_id);
      const mine = (r: { body: any }) => r.body?.tenant_id === t.tenantId;
      await rx.waitForCount(1, 5000, mine);
      await outboxIdle(s.api);
      expect(rx.received.filter(mine).map((r) => r.body.recipient_id)).toEqual(["offline"]);
    } finally {
      await sock.close();
    }
  });

  test("a tenant without webhook_url gets no deliveries at all", async () => {
    const t = await tenantWithRoom(s, ["a", "b"]);
    await send(t.owner, t.roomId, "nobody listens");
    const n = (await deliveryRows(s.api, { tenantId: t.tenantId })).length;
    expect(n).toBe(0);
  });

  test("URL and secret are read per attempt; a URL removed later makes a dead letter 'tenant has no webhook_url'", async () => {
    const failing = new Receiver(() => 500);
    const other = new Receiver();
    try {
      const t = await tenantWithRoom(s, ["a", "b"], { webhook_url: failing.url });
      const admin = s.raw({ "x-master-key": "test-master-key-0123456789abcdef" });
      await send(t.owner, t.roomId, "first");
      await failing.waitForCount(1);
      // Switch URL and add a secret: the retry goes to the new URL, signed with the new secret.
      expect((await admin.patch(`/admin/tenants/${t.tenantId}`, { config: { webhook_url: other.url, webhook_secret: "fresh-secret" } })).status).toBe(200);
      const [r] = await other.waitForCount(1);
      expect(r!.headers.get("x-chatapi-signature")).toBe(expectedSignature("fresh-secret", r!));
      await outboxIdle(s.api);
      // Now fail again, then remove the URL before the retry.
      expect((await admin.patch(`/admin/tenants/${t.tenantId}`, { config: { webhook_url: failing.url } })).status).toBe(200);
      const before = failing.received.length;
      await send(t.owner, t.roomId, "second");
      await failing.waitForCount(before + 1);
      expect((await admin.patch(`/admin/tenants/${t.tenantId}`, { config: { webhook_url: null } })).status).toBe(200);
      await outboxIdle(s.api);
      const dead = await t.owner.get("/admin/dead-letters");
      expect(dead.status).toBe(200);
      expect(dead.body.dead_letters.length).toBe(1);
      expect(dead.body.dead_letters[0].last_error).toBe("tenant has no webhook_url");
      expect(dead.body.dead_letters[0].payload.message.content).toBe("second");
    } finally {
      failing.stop();
      other.stop();
    }
  });

  test("a hanging endpoint of one tenant does not delay another tenant's deliveries", async () => {
    const hang = new Receiver(() => "hang");
    const fast = new Receiver();
    try {
      const a = await tenantWithRoom(s, ["a1", "a2"], { webhook_url: hang.url, user_message_rate: 1000 });
      const b = await tenantWithRoom(s, ["b1", "b2"], { webhook_url: fast.url });
      for (let i = 0; i < 12; i++) await send(a.owner, a.roomId, `a${i}`);
      // Tenant A saturates its lane: at most WEBHOOK_CONCURRENCY_PER_TENANT (4) requests hang, per
      // node (docs/reference/limits.md): 8 in cluster mode, where each node claims its share.
      const inFlight = 4 * s.nodeUrls.length;
      await hang.waitForCount(inFlight);
      const t0 = performance.now();
      const m = await send(b.owner, b.roomId, "b is fine");
      const [r] = await fast.waitForCount(1, 1000);
      expect(r!.body.message.message_id).toBe(m.message_id);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(hang.received.length).toBe(inFlight);
      expect(hang.hangingCount()).toBe(inFlight);
      // Deliveries are expanded from the send's durable fan-out job just after the commit (issue 13),
      // on the node that took the send (in cluster mode the other node's jobs are not this fanout's).
      await s.api.fanout.idle();
      await waitFor(async () => (await deliveryCount(s.api, "pending", a.tenantId)) === 12, 3000, "12 pending deliveries");
    } finally {
      hang.stop();
      fast.stop();
    }
  });

  test("delivery_attempts and delivery_failures are counted", async () => {
    // Summed over the nodes: each counts its own attempts (in cluster mode both nodes send).
    const m = { delivery_attempts: 0, delivery_failures: 0 };
    for (const url of s.nodeUrls) {
      const one = (await (await fetch(`${url}/metrics?format=json`)).json()) as Record<string, number>;
      m.delivery_attempts += one.delivery_attempts!;
      m.delivery_failures += one.delivery_failures!;
    }
    expect(m.delivery_attempts).toBeGreaterThan(5);
    expect(m.delivery_failures).toBeGreaterThan(0);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    for (const name of ["chatapi_delivery_attempts_total", "chatapi_delivery_failures_total", "chatapi_outbox_depth", "chatapi_dead_letters", "chatapi_outbox_oldest_pending_seconds"]) {
      expect(text).toContain(name);
    }
  });
});
