// Issue 13 (docs/reference/limits.md): a webhook payload stored once per message or notification, fan-out in
// background chunks, the outbox quota (dead letters, never dropped), dead letters without the URL's
// credentials or raw network errors, and an ownerless channel getting an owner.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { Receiver } from "../delivery/receiver";
import { storedRows } from "../support/store";

let s: TestServer;
let rx: Receiver;
beforeAll(async () => {
  s = await startTestServer({ RETRY_MAX_ATTEMPTS: "1" });
  rx = new Receiver();
});
afterAll(async () => {
  await s.stop();
  rx.stop();
});

/** Stored rows of `table` matching `where` (through the store's dump: no SQL in tests). */
const count = async (table: string, where: (r: Record<string, unknown>) => boolean) => (await storedRows(s.api, table)).filter(where).length;

describe("payload stored once", () => {
  test("a notify to 1,200 offline users (three chunks) stores one payload row; each delivery carries the full body", async () => {
    const t = await s.createTenant("payload-once", { webhook_url: rx.url });
    const users = Array.from({ length: 1000 }, (_, i) => `u${i}`);
    const owner = s.client(t.api_key, "owner");
    const room = (await owner.post("/rooms", { type: "channel", name: "big" })).body.room_id;
    for (let i = 0; i < 200; i += 25) await Promise.all(Array.from({ length: 25 }, (_, k) => s.client(t.api_key, `m${i + k}`).post(`/rooms/${room}/members`, { user_ids: [`m${i + k}`] })));
    const r = await s.client(t.api_key).post("/notify", { topic: "big", payload: { text: "x".repeat(2000) }, targets: { user_ids: users, room_id: room } });
    expect(r.status).toBe(202);
    // The union, each once: 1,000 named + 201 members.
    expect(r.body.recipients).toBe(1201);
    expect(await count("webhook_payloads", (r) => r.tenant_id === t.tenant_id)).toBe(1);
    expect(await count("deliveries", (r) => r.tenant_id === t.tenant_id)).toBe(1201);
    expect(await count("deliveries", (r) => r.tenant_id === t.tenant_id && r.payload !== null)).toBe(0);
    expect(await count("notification_recipients", (x) => x.tenant_id === t.tenant_id && x.notification_id === r.body.notification_id)).toBe(1201);
    await waitFor(() => rx.received.filter((x) => x.body?.notification?.notification_id === r.body.notification_id).length === 1201, 20_000, "1201 webhooks");
    const one = rx.received.find((x) => x.body?.recipient_id === "u7")!;
    expect(Object.keys(one.body)).toEqual(["event", "event_id", "tenant_id", "recipient_id", "notification"]);
    expect(one.body.notification.payload.text.length).toBe(2000);
    expect(one.headers.get("x-chatapi-event-id")).toBe(one.body.event_id);
  }, 30_000);

  test("a message to a room of offline members stores one payload; each body keeps the documented field order and its own `mentioned`", async () => {
    const t = await s.createTenant("payload-msg", { webhook_url: rx.url });
    const owner = s.client(t.api_key, "owner");
    const members = Array.from({ length: 30 }, (_, i) => `off${i}`);
    const room = (await owner.post("/rooms", { type: "group", name: "g", members, metadata: { k: 1 } })).body.room_id;
    const m = (await owner.post(`/rooms/${room}/messages`, { content: "hello @off3", mentions: ["off3"] })).body;
    await waitFor(() => rx.received.filter((x) => x.body?.message?.message_id === m.message_id).length === 30, 10_000, "30 webhooks");
    expect(await count("webhook_payloads", (r) => r.tenant_id === t.tenant_id)).toBe(1);
    const got = rx.received.filter((x) => x.body?.message?.message_id === m.message_id);
    expect(Object.keys(got[0]!.body)).toEqual(["event", "event_id", "tenant_id", "room_id", "recipient_id", "room_metadata", "mentioned", "message"]);
    expect(got[0]!.body.room_metadata).toEqual({ k: 1 });
    // The per-recipient field is composed for each delivery from the one stored payload.
    for (const x of got) expect(x.body.mentioned).toBe(x.body.recipient_id === "off3");
    expect(got.filter((x) => x.body.mentioned).length).toBe(1);
    expect(got[0]!.body.message.parent_id).toBeNull();
    expect(got[0]!.body.message.attachments).toEqual([]);
    expect(await count("fanout_jobs", (r) => r.tenant_id === t.tenant_id)).toBe(0);
  }, 15_000);
});

describe("outbox quota", () => {
  test("past max_pending_deliveries new deliveries become dead letters with a clear last_error", async () => {
    // A URL nobody answers quickly: deliveries stay pending while the quota is measured.
    const hang = new Receiver(() => "hang");
    try {
      const t = await s.createTenant("quota", { webhook_url: hang.url, max_pending_deliveries: 3 });
      const r = await s.client(t.api_key).post("/notify", { topic: "q", payload: 1, targets: { user_ids: ["a", "b", "c", "d", "e", "f", "g"] } });
      expect(r.body.recipients).toBe(7);
      expect(await count("deliveries", (r) => r.tenant_id === t.tenant_id)).toBe(7);
      expect(await count("deliveries", (r) => r.tenant_id === t.tenant_id && r.status === "dead")).toBe(4);
      const dl = (await s.client(t.api_key).get("/admin/dead-letters")).body.dead_letters;
      expect(dl.length).toBe(4);
      for (const d of dl) {
        expect(d.last_error).toContain("max_pending_deliveries");
        expect(d.payload.notification.notification_id).toBe(r.body.notification_id);
      }
    } finally {
      hang.stop();
    }
  });
});

describe("dead letters", () => {
  test("show the webhook URL without credentials and a sanitized last_error", async () => {
    const port = Bun.serve({ port: 0, fetch: () => new Response("x") });
    const closedPort = port.port;
    port.stop(true);
    const t = await s.createTenant("creds", { webhook_url: `http://hookuser:s3cret@127.0.0.1:${closedPort}/hook` });
    await s.client(t.api_key).post("/notify", { topic: "c", payload: 1, targets: { user_ids: ["offline"] } });
    const dl = await waitFor(async () => (await s.client(t.api_key).get("/admin/dead-letters")).body.dead_letters[0], 10_000, "dead letter");
    expect(dl.target_url).toBe(`http://127.0.0.1:${closedPort}/hook`);
    expect(JSON.stringify(dl)).not.toContain("s3cret");
    expect(dl.last_error).toMatch(/^network error( \([A-Za-z0-9_]+\))?$/);
    expect(dl.last_error).not.toContain("127.0.0.1");
  }, 15_000);
});

describe("ownerless channel", () => {
  test("a channel whose last member left gets an owner when someone joins", async () => {
    const t = await s.createTenant("ownerless");
    const ch = (await s.client(t.api_key, "first").post("/rooms", { type: "channel", name: "c" })).body.room_id;
    expect((await s.client(t.api_key, "first").del(`/rooms/${ch}/members/first`)).status).toBe(204);
    const join = await s.client(t.api_key, "later").post(`/rooms/${ch}/members`, { user_ids: ["later"] });
    expect(join.status).toBe(200);
    expect(join.body.members).toEqual([expect.objectContaining({ user_id: "later", role: "owner" })]);
    // The new owner can act as one.
    expect((await s.client(t.api_key, "later").patch(`/rooms/${ch}`, { name: "renamed" })).status).toBe(200);
    const second = await s.client(t.api_key, "second").post(`/rooms/${ch}/members`, { user_ids: ["second"] });
    expect(second.body.members.find((m: any) => m.user_id === "second").role).toBe("member");
  });
});
