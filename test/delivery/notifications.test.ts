// POST /notify, GET /notifications, POST /notifications/{id}/ack (docs/reference/rest.md "Notifications"),
// live `notification` frames and notification.new webhooks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RecordingBus } from "../../src/bus/recording";
import { startTestServer, type RestClient, type TestServer } from "../helpers";
import { LiveSocket, outboxIdle, tenantWithRoom, type TenantRoom } from "./fixtures";
import { expectedSignature, Receiver } from "./receiver";
import { deliveryRows } from "../support/store";

let s: TestServer;
let rx: Receiver;
let bus: RecordingBus;

beforeAll(async () => {
  rx = new Receiver();
  s = await startTestServer({ RETRY_INTERVAL: "50ms", WORKER_INTERVAL: "100ms" });
  bus = new RecordingBus();
  s.api.bus.tap(bus);
});
afterAll(async () => {
  await s.stop();
  rx.stop();
});

// Tenant key only; to the in-process node (s.node), whose bus the recorder taps: in cluster mode a
// notification sent through the other node would be published out of its sight.
const notifyAs = (t: TenantRoom) => s.node.client(t.apiKey);
const userEvents = (notificationId: string) =>
  bus.events.filter((e) => e.to === "user" && e.frame.type === "notification" && e.frame.notification_id === notificationId) as { userId: string; tenantId: string; frame: any }[];

describe("targets", () => {
  let t: TenantRoom;
  beforeAll(async () => {
    t = await tenantWithRoom(s, ["alice", "bob", "carol"], { webhook_url: rx.url, webhook_secret: "notify-secret" });
    for (const u of ["bob", "dave"]) expect((await t.as(u).post("/subscriptions", { topic: "deploys" })).status).toBe(201);
    expect((await t.as("frank").post("/subscriptions", { topic: "other" })).status).toBe(201);
  });

  test("recipients are the union of user_ids, the room's members and topic subscribers, each once", async () => {
    const r = await notifyAs(t).post("/notify", {
      topic: "deploys",
      payload: { build: 42, ok: true },
      targets: { user_ids: ["erin", "bob", "erin"], room_id: t.roomId, topic_subscribers: true },
    });
    expect(r.status).toBe(202);
    expect(Object.keys(r.body).sort()).toEqual(["created_at", "notification_id", "recipients", "topic"]);
    expect(r.body.topic).toBe("deploys");
    expect(r.body.recipients).toBe(5);
    const id = r.body.notification_id;
    const recipients = ["alice", "bob", "carol", "dave", "erin"];
    for (const u of recipients) {
      const list = await t.as(u).get("/notifications");
      expect(list.status).toBe(200);
      expect(list.body.notifications).toEqual([{ notification_id: id, topic: "deploys", payload: { build: 42, ok: true }, created_at: r.body.created_at, acked_at: null }]);
    }
    expect((await t.as("frank").get("/notifications")).body.notifications).toEqual([]);

    // A live frame through the bus for each recipient, once.
    const events = userEvents(id);
    expect(events.map((e) => e.userId).sort()).toEqual(recipients);
    for (const e of events) {
      expect(e.tenantId).toBe(t.tenantId);
      expect(e.frame).toEqual({ type: "notification", notification_id: id, topic: "deploys", payload: { build: 42, ok: true }, created_at: r.body.created_at });
    }

    // Nobody is online: each recipient gets one signed notification.new webhook.
    const mine = (x: { body: any }) => x.body?.notification?.notification_id === id;
    const hooks = await rx.waitForCount(5, 5000, mine);
    await outboxIdle(s.api);
    expect(rx.received.filter(mine).length).toBe(5);
    expect(hooks.map((h) => h.body.recipient_id).sort()).toEqual(recipients);
    for (const h of hooks) {
      expect(Object.keys(h.body)).toEqual(["event", "event_id", "tenant_id", "recipient_id", "notification"]);
      expect(h.body).toMatchObject({ event: "notification.new", tenant_id: t.tenantId });
      expect(h.body.notification).toEqual({ notification_id: id, topic: "deploys", payload: { build: 42, ok: true }, created_at: r.body.created_at });
      expect(h.headers.get("x-chatapi-event-id")).toBe(h.body.event_id);
      expect(h.headers.get("x-chatapi-signature")).toBe(expectedSignature("notify-secret", h));
    }
  });

  test("each target alone resolves to exactly its users", async () => {
    const byUsers = await notifyAs(t).post("/notify", { topic: "x", payload: 1, targets: { user_ids: ["zed"] } });
    expect(byUsers.body.recipients).toBe(1);
    const byRoom = await notifyAs(t).post("/notify", { topic: "x", payload: 2, targets: { room_id: t.roomId } });
    expect(byRoom.body.recipients).toBe(3);
    const bySubs = await notifyAs(t).post("/notify", { topic: "deploys", payload: 3, targets: { topic_subscribers: true } });
    expect(bySubs.body.recipients).toBe(2);
    expect(userEvents(bySubs.body.notification_id).map((e) => e.userId).sort()).toEqual(["bob", "dave"]);
    expect(userEvents(byRoom.body.notification_id).map((e) => e.userId).sort()).toEqual(["alice", "bob", "carol"]);
  });

  test("an empty resolution stores 0 recipients and sends nothing (never a tenant-wide fallback)", async () => {
    const before = (await deliveryRows(s.api, { tenantId: t.tenantId })).length;
    for (const targets of [{ user_ids: [] }, { topic_subscribers: true }]) {
      const r = await notifyAs(t).post("/notify", { topic: "nobody-subscribes", payload: "x", targets });
      expect(r.status).toBe(202);
      expect(r.body.recipients).toBe(0);
      expect(userEvents(r.body.notification_id)).toEqual([]);
    }
    const after = (await deliveryRows(s.api, { tenantId: t.tenantId })).length;
    expect(after).toBe(before);
  });

  test("room_id of another tenant or an unknown room is 404", async () => {
    const other = await tenantWithRoom(s, ["p", "q"]);
    for (const roomId of [other.roomId, "0190aaaa-0000-7000-8000-000000000000"]) {
      const r = await notifyAs(t).post("/notify", { topic: "x", payload: null, targets: { room_id: roomId } });
      expect(r.status).toBe(404);
      expect(r.body.error).toBe("not_found");
    }
    // Nothing was stored for the other tenant's members.
    expect((await other.as("p").get("/notifications")).body.notifications).toEqual([]);
  });
});

describe("validation", () => {
  let k: RestClient;
  beforeAll(async () => {
    const t = await tenantWithRoom(s, ["a", "b"]);
    k = notifyAs(t);
  });

  test("targets must name user_ids, room_id or topic_subscribers: true", async () => {
    for (const body of [
      { topic: "x", payload: 1 },
      { topic: "x", payload: 1, targets: {} },
      { topic: "x", payload: 1, targets: { topic_subscribers: false } },
      { topic: "x", payload: 1, targets: null },
    ]) {
      const r = await k.post("/notify", body);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_request");
    }
  });

  test("payload is required; null is accepted; at most 16 KiB serialized", async () => {
    const missing = await k.post("/notify", { topic: "x", targets: { user_ids: ["u"] } });
    expect(missing.status).toBe(400);
    expect(missing.body.details?.[0]?.path).toBe("/payload");
    const nul = await k.post("/notify", { topic: "x", payload: null, targets: { user_ids: ["u"] } });
    expect(nul.status).toBe(202);
    // JSON.stringify of a string adds 2 quote bytes.
    const exact = await k.post("/notify", { topic: "x", payload: "a".repeat(16 * 1024 - 2), targets: { user_ids: [] } });
    expect(exact.status).toBe(202);
    const over = await k.post("/notify", { topic: "x", payload: "a".repeat(16 * 1024 - 1), targets: { user_ids: [] } });
    expect(over.status).toBe(400);
    expect(over.body.error).toBe("invalid_request");
    const overObj = await k.post("/notify", { topic: "x", payload: { big: "é".repeat(8200) }, targets: { user_ids: [] } });
    expect(overObj.status).toBe(400);
  });

  test("topic is 1..128 characters; user_ids at most 1000 valid ids", async () => {
    for (const topic of ["", "t".repeat(129), 5]) expect((await k.post("/notify", { topic, payload: 1, targets: { user_ids: [] } })).status).toBe(400);
    expect((await k.post("/notify", { topic: "t".repeat(128), payload: 1, targets: { user_ids: [] } })).status).toBe(202);
    const many = Array.from({ length: 1001 }, (_, i) => `u${i}`);
    expect((await k.post("/notify", { topic: "x", payload: 1, targets: { user_ids: many } })).status).toBe(400);
    expect((await k.post("/notify", { topic: "x", payload: 1, targets: { user_ids: [""] } })).status).toBe(400);
    expect((await k.post("/notify", { topic: "x", payload: 1, targets: { user_ids: ["bad\u0001id"] } })).status).toBe(400);
  });

  test("auth: /notify needs only the key; /notifications needs X-User-Id", async () => {
    expect((await s.raw({}).post("/notify", { topic: "x", payload: 1, targets: { user_ids: [] } })).status).toBe(401);
    expect((await k.get("/notifications")).status).toBe(400);
  });
});

describe("list and ack", () => {
  let t: TenantRoom;
  const ids: string[] = [];
  const payloads: unknown[] = [{ o: 1 }, [1, 2], "text", 7, false, null];
  beforeAll(async () => {
    t = await tenantWithRoom(s, ["me", "you"]);
    for (const payload of payloads) {
      const r = await notifyAs(t).post("/notify", { topic: "t", payload, targets: { user_ids: ["me"] } });
      ids.push(r.body.notification_id);
    }
  });

  test("GET returns the caller's notifications newest first, payload as JSON (not a string), ?limit", async () => {
    const r = await t.as("me").get("/notifications");
    expect(r.body.notifications.map((n: any) => n.notification_id)).toEqual([...ids].reverse());
    expect(r.body.notifications.map((n: any) => n.payload)).toEqual([...payloads].reverse());
    const two = await t.as("me").get("/notifications?limit=2");
    expect(two.body.notifications.map((n: any) => n.notification_id)).toEqual([ids[5], ids[4]]);
    for (const bad of ["0", "201", "x"]) expect((await t.as("me").get(`/notifications?limit=${bad}`)).status).toBe(400);
    expect((await t.as("you").get("/notifications")).body.notifications).toEqual([]);
  });

  test("ack: 204, twice is fine, others' 404; ?unacked=true filters", async () => {
    const first = await t.as("me").post(`/notifications/${ids[0]}/ack`);
    expect(first.status).toBe(204);
    const list1 = await t.as("me").get("/notifications");
    const acked = list1.body.notifications.find((n: any) => n.notification_id === ids[0]);
    expect(typeof acked.acked_at).toBe("string");
    expect((await t.as("me").post(`/notifications/${ids[0]}/ack`)).status).toBe(204);
    const list2 = await t.as("me").get("/notifications");
    expect(list2.body.notifications.find((n: any) => n.notification_id === ids[0]).acked_at).toBe(acked.acked_at);

    const unacked = await t.as("me").get("/notifications?unacked=true");
    expect(unacked.body.notifications.map((n: any) => n.notification_id)).toEqual(ids.slice(1).reverse());
    expect(unacked.body.notifications.every((n: any) => n.acked_at === null)).toBe(true);

    const notMine = await t.as("you").post(`/notifications/${ids[1]}/ack`);
    expect(notMine.status).toBe(404);
    expect(notMine.body.error).toBe("not_found");
    const other = await tenantWithRoom(s, ["me", "x"]);
    expect((await other.as("me").post(`/notifications/${ids[1]}/ack`)).status).toBe(404);
    expect((await t.as("me").post("/notifications/unknown-id/ack")).status).toBe(404);
    // Still unacked for its recipient.
    expect((await t.as("me").get("/notifications?unacked=true")).body.notifications.length).toBe(5);
  });

  test("unacked() for the gateway: oldest first, frame fields only", async () => {
    const list = await s.api.notifications.unacked(t.tenantId, "me");
    expect(list.map((n) => n.notification_id)).toEqual(ids.slice(1));
    expect(Object.keys(list[0]!).sort()).toEqual(["created_at", "notification_id", "payload", "topic"]);
    expect((await s.api.notifications.unacked(t.tenantId, "me", 2)).map((n) => n.notification_id)).toEqual(ids.slice(1, 3));
  });
});

describe("live sockets", () => {
  test("an online recipient gets the frame and no webhook; an offline one gets the webhook", async () => {
    const t = await tenantWithRoom(s, ["on", "off"], { webhook_url: rx.url });
    const sock = await LiveSocket.open(s, t.apiKey, "on");
    try {
      const r = await notifyAs(t).post("/notify", { topic: "live", payload: { hi: 1 }, targets: { user_ids: ["on", "off"] } });
      expect(r.status).toBe(202);
      const f = await sock.next((x) => x.type === "notification");
      expect(f).toEqual({ type: "notification", notification_id: r.body.notification_id, topic: "live", payload: { hi: 1 }, created_at: r.body.created_at });
      const mine = (x: { body: any }) => x.body?.notification?.notification_id === r.body.notification_id;
      await rx.waitForCount(1, 5000, mine);
      await outboxIdle(s.api);
      expect(rx.received.filter(mine).map((x) => x.body.recipient_id)).toEqual(["off"]);
      // The WS ack frame goes through the same service.
      sock.ws.send(JSON.stringify({ type: "notification.ack", id: "a1", data: { notification_id: r.body.notification_id } }));
      const reply = await sock.next((x) => x.id === "a1");
      expect(reply.type).toBe("reply");
      expect((await t.as("on").get("/notifications?unacked=true")).body.notifications).toEqual([]);
    } finally {
      await sock.close();
    }
  });

  test("unacked notifications are replayed on connect, oldest first", async () => {
    const t = await tenantWithRoom(s, ["late", "z"]);
    const a = await notifyAs(t).post("/notify", { topic: "n", payload: 1, targets: { user_ids: ["late"] } });
    const b = await notifyAs(t).post("/notify", { topic: "n", payload: 2, targets: { user_ids: ["late"] } });
    const sock = await LiveSocket.open(s, t.apiKey, "late");
    try {
      const frames = sock.frames.filter((f) => f.type === "notification").map((f) => f.notification_id);
      expect(frames).toEqual([a.body.notification_id, b.body.notification_id]);
    } finally {
      await sock.close();
    }
  });
});
