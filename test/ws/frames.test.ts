// Issue 4: the client frame protocol end to end. Every client frame type with its reply data (docs/reference/rest.md
// section 4 table), malformed frames answered with error frames on a socket that keeps working,
// and rate limits per tenant (every frame) and per user (message sends).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { clockPast, makeTenant, type Frame, type WsConn } from "./ws-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

/** Sends raw text and resolves with the next `error` frame after it. */
async function errorFor(c: WsConn, raw: string | Uint8Array<ArrayBuffer>): Promise<Frame> {
  const mark = c.mark;
  c.ws.send(raw);
  return c.waitForFrame((f) => f.type === "error", 3000, `error for ${typeof raw === "string" ? raw.slice(0, 60) : "binary"}`, mark);
}

const MESSAGE_KEYS = ["attachments", "client_msg_id", "content", "created_at", "deleted_at", "edited_at", "last_reply_at", "mentions", "message_id", "meta", "parent_id", "reactions", "reply_count", "room_id", "sender_id", "seq"];

describe("malformed frames", () => {
  test("each malformed frame gets an error frame with the right code, id echoed when given, and the socket keeps working", async () => {
    const t = await makeTenant(s, "bad-frames");
    const room = await t.room("alice", ["bob"]);
    const c = await t.connect("alice");
    const cases: { name: string; raw: string | Uint8Array<ArrayBuffer>; id?: string; code: string; path?: string }[] = [
      { name: "invalid JSON", raw: '{"type":"ping",', code: "invalid_request" },
      { name: "array", raw: "[1,2]", code: "invalid_request" },
      { name: "string", raw: '"ping"', code: "invalid_request" },
      { name: "number", raw: "42", code: "invalid_request" },
      { name: "null", raw: "null", code: "invalid_request" },
      { name: "missing type", raw: '{"id":"m1","data":{}}', id: "m1", code: "invalid_request", path: "/type" },
      { name: "type not a string", raw: '{"type":7,"id":"m2"}', id: "m2", code: "invalid_request", path: "/type" },
      { name: "unknown type", raw: '{"type":"launch_missiles","id":"m3"}', id: "m3", code: "invalid_request" },
      { name: "missing data", raw: '{"type":"send_message","id":"m4"}', id: "m4", code: "invalid_request", path: "/data" },
      // content is optional in the frame schema (a send with attachments may omit it); the domain refuses a send with neither.
      { name: "missing field", raw: JSON.stringify({ type: "send_message", id: "m5", data: { room_id: room } }), id: "m5", code: "invalid_request", path: "/content" },
      { name: "wrong field type", raw: JSON.stringify({ type: "ack", id: "m6", data: { room_id: room, seq: "3" } }), id: "m6", code: "invalid_request", path: "/data/seq" },
      { name: "negative seq", raw: JSON.stringify({ type: "sync", id: "m7", data: { room_id: room, after_seq: -1 } }), id: "m7", code: "invalid_request", path: "/data/after_seq" },
      { name: "extra data field", raw: JSON.stringify({ type: "typing.start", id: "m8", data: { room_id: room, roomId: room } }), id: "m8", code: "invalid_request", path: "/data/roomId" },
      { name: "extra envelope field", raw: JSON.stringify({ type: "ping", id: "m9", extra: true }), id: "m9", code: "invalid_request", path: "/extra" },
      { name: "data not an object", raw: JSON.stringify({ type: "ack", id: "m10", data: [room, 1] }), id: "m10", code: "invalid_request" },
      { name: "binary frame", raw: new TextEncoder().encode('{"type":"ping","id":"b1"}'), code: "invalid_request" },
      // Well-formed frames the domain refuses.
      { name: "unknown room", raw: JSON.stringify({ type: "send_message", id: "d1", data: { room_id: "nope", content: "x" } }), id: "d1", code: "not_found" },
      { name: "ack beyond last_seq", raw: JSON.stringify({ type: "ack", id: "d2", data: { room_id: room, seq: 99 } }), id: "d2", code: "invalid_request" },
      { name: "empty content", raw: JSON.stringify({ type: "send_message", id: "d3", data: { room_id: room, content: "" } }), id: "d3", code: "invalid_request" },
      { name: "unknown message", raw: JSON.stringify({ type: "edit_message", id: "d4", data: { room_id: room, message_id: "nope", content: "x" } }), id: "d4", code: "not_found" },
    ];
    for (const k of cases) {
      const e = await errorFor(c, k.raw);
      expect({ case: k.name, error: e.error, id: e.id }).toEqual({ case: k.name, error: k.code, id: k.id });
      expect(typeof e.message).toBe("string");
      expect("request_id" in e).toBe(false);
      if (k.id === undefined) expect("id" in e).toBe(false);
      if (k.path) expect({ case: k.name, paths: (e.details ?? []).map((d: any) => d.path) }).toEqual({ case: k.name, paths: expect.arrayContaining([k.path]) });
    }
    // Still open and working: a valid ping gets pong and the reply.
    const mark = c.mark;
    expect(await c.call("ping")).toEqual({});
    expect(c.frames.slice(mark).map((f) => f.type)).toEqual(["pong", "reply"]);
    expect(c.closeInfo).toBeUndefined();
    expect(c.junk).toEqual([]);
    await c.close();
  });

  test("a frame over the tenant rate limit gets rate_limit_exceeded with retry_after_ms and the socket stays open", async () => {
    // Burst 2: the handshake takes one token, so one of four quick pings passes.
    const t = await makeTenant(s, "frame-rate", { rate_limit: 2, rate_limit_burst: 2 });
    const c = await t.connect("alice");
    const answers = await Promise.all([1, 2, 3, 4].map(() => c.request("ping")));
    expect(answers.map((a) => a.type)).toEqual(["reply", "error", "error", "error"]);
    for (const e of answers.slice(1)) {
      expect(e).toEqual({ type: "error", id: e.id, error: "rate_limit_exceeded", message: expect.any(String), retry_after_ms: expect.any(Number) });
      expect(e.retry_after_ms).toBeGreaterThan(0);
      expect(e.retry_after_ms).toBeLessThanOrEqual(500);
    }
    // A refused ping gets no pong.
    expect(c.ofType("pong")).toHaveLength(1);
    // Malformed frames cost a token too, and their answer is then the rate limit.
    expect((await errorFor(c, "not json")).error).toBe("rate_limit_exceeded");
    const limitedAt = Date.now();
    await clockPast(limitedAt, Math.max(...answers.slice(1).map((a) => a.retry_after_ms)) + 50);
    expect(await c.call("ping")).toEqual({});
    expect(c.closeInfo).toBeUndefined();
    await c.close();
  });

  test("per-user send bucket: with user_message_rate 1 the third quick send_message gets rate_limit_exceeded", async () => {
    const t = await makeTenant(s, "user-rate", { user_message_rate: 1 });
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const answers = await Promise.all([1, 2, 3].map((i) => alice.request("send_message", { room_id: room, content: `quick ${i}` })));
    expect(answers.map((a) => a.type)).toEqual(["reply", "reply", "error"]);
    // (Checked field by field: Bun's toMatchObject writes asymmetric matchers into the received object.)
    expect(answers[2]!.error).toBe("rate_limit_exceeded");
    expect(answers[2]!.retry_after_ms).toBeGreaterThan(0);
    // The bucket is per user: bob can still send, and alice's socket still works.
    expect((await bob.call("send_message", { room_id: room, content: "bob is fine" })).seq).toBe(3);
    // The reply may come before bob's own message frame (in cluster mode that frame comes back through Redis).
    await bob.waitForFrame((f) => f.type === "message" && f.seq === 3);
    await alice.barrier();
    expect(alice.closeInfo).toBeUndefined();
    // The refused message was never stored nor broadcast.
    expect(bob.messages(room).map((m) => m.content)).toEqual(["quick 1", "quick 2", "bob is fine"]);
    for (const c of [alice, bob]) await c.close();
  });
});

describe("ordering of one socket's frames", () => {
  test("regression: 40 quick send_message frames of one socket get seqs in the order sent (frames pipelined up to the commit order on SQLite, one at a time on PostgreSQL), replies in order, every member sees them in that order", async () => {
    const t = await makeTenant(s, "quick-order", { user_message_rate: 10_000 });
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const n = 40;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => alice.request("send_message", { room_id: room, content: `q${i}` })));
    expect(answers.map((a) => a.type)).toEqual(Array(n).fill("reply"));
    expect(answers.map((a) => [a.data.seq, a.data.content])).toEqual(Array.from({ length: n }, (_, i) => [i + 1, `q${i}`]));
    // Replies arrive in the order of the frames.
    const replyOrder = alice.frames.filter((f) => f.type === "reply").map((f) => f.data.content);
    expect(replyOrder).toEqual(Array.from({ length: n }, (_, i) => `q${i}`));
    await bob.waitUntil((fs) => fs.filter((f) => f.type === "message").length === n, 5000, `${n} messages`);
    expect(bob.messages(room).map((m) => [m.seq, m.content])).toEqual(Array.from({ length: n }, (_, i) => [i + 1, `q${i}`]));
    for (const c of [alice, bob]) await c.close();
  });
});

describe("every client frame type", () => {
  test("send_message: reply is the Message, broadcast to members incl. the sender; a repeated client_msg_id returns the original", async () => {
    const t = await makeTenant(s, "f-send");
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const m = await alice.call("send_message", { room_id: room, content: "  hello  ", meta: "a string meta", client_msg_id: "cm-1" });
    expect(Object.keys(m).sort()).toEqual(MESSAGE_KEYS);
    expect(m).toMatchObject({ room_id: room, seq: 1, sender_id: "alice", content: "  hello  ", meta: "a string meta", client_msg_id: "cm-1", edited_at: null, deleted_at: null });
    expect(m.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    for (const c of [alice, bob]) {
      const f = await c.waitForFrame((x) => x.type === "message");
      expect(f).toEqual({ type: "message", ...m });
    }
    const again = await alice.call("send_message", { room_id: room, content: "different text", client_msg_id: "cm-1" });
    expect(again).toEqual(m);
    // Also idempotent against the REST path with the same key.
    const rest = await t.as("alice").post(`/rooms/${room}/messages`, { content: "x" }, { "Idempotency-Key": "cm-1" });
    expect(rest.status).toBe(200);
    expect(rest.body.message_id).toBe(m.message_id);
    await bob.barrier();
    expect(bob.messages(room)).toHaveLength(1);
    expect((await t.as("alice").get(`/rooms/${room}`)).body.last_seq).toBe(1);
    for (const c of [alice, bob]) await c.close();
  });

  test("edit_message and delete_message: replies per the table, message.edited and message.deleted to members", async () => {
    const t = await makeTenant(s, "f-edit");
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const m = await alice.call("send_message", { room_id: room, content: "v1", meta: { k: 1 } });
    const edited = await alice.call("edit_message", { room_id: room, message_id: m.message_id, content: "v2" });
    expect(Object.keys(edited).sort()).toEqual(MESSAGE_KEYS);
    expect(edited).toMatchObject({ message_id: m.message_id, seq: 1, content: "v2", meta: { k: 1 }, deleted_at: null });
    expect(typeof edited.edited_at).toBe("string");
    for (const c of [alice, bob]) expect(await c.waitForFrame((f) => f.type === "message.edited")).toEqual({ type: "message.edited", ...edited });
    // Only the sender edits.
    expect(await bob.request("edit_message", { room_id: room, message_id: m.message_id, content: "hijack" })).toMatchObject({ type: "error", error: "forbidden" });

    expect(await alice.call("delete_message", { room_id: room, message_id: m.message_id })).toEqual({});
    for (const c of [alice, bob]) {
      const d = await c.waitForFrame((f) => f.type === "message.deleted");
      expect(d).toMatchObject({ type: "message.deleted", message_id: m.message_id, room_id: room, seq: 1, content: "", meta: null });
      expect(typeof d.deleted_at).toBe("string");
    }
    for (const c of [alice, bob]) await c.close();
  });

  test("ack: reply {room_id, last_ack, unread_count}; ack.received to members including the acker's own sockets", async () => {
    const t = await makeTenant(s, "f-ack");
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob1 = await t.connect("bob");
    const bob2 = await t.connect("bob");
    for (let i = 0; i < 3; i++) await alice.call("send_message", { room_id: room, content: `m${i}` });
    expect(await bob1.call("ack", { room_id: room, seq: 2 })).toEqual({ room_id: room, last_ack: 2, unread_count: 1 });
    for (const c of [alice, bob1, bob2]) {
      expect(await c.waitForFrame((f) => f.type === "ack.received")).toEqual({ type: "ack.received", room_id: room, seq: 2, user_id: "bob" });
    }
    // An older seq leaves last_ack unchanged and announces nothing.
    expect(await bob1.call("ack", { room_id: room, seq: 1 })).toEqual({ room_id: room, last_ack: 2, unread_count: 1 });
    await alice.barrier();
    expect(alice.ofType("ack.received")).toHaveLength(1);
    for (const c of [alice, bob1, bob2]) await c.close();
  });

  test("typing.start / typing.stop reply {}; sync replies {messages, has_more}; list_rooms replies {rooms, next_cursor}; ping pongs", async () => {
    const t = await makeTenant(s, "f-misc");
    const room = await t.room("alice", ["bob"]);
    const second = await t.room("alice", ["carol"]);
    const alice = await t.connect("alice");
    expect(await alice.call("typing.start", { room_id: room })).toEqual({});
    expect(await alice.call("typing.stop", { room_id: room })).toEqual({});

    for (let i = 1; i <= 5; i++) await alice.call("send_message", { room_id: room, content: `h${i}` });
    const latest = await alice.call("sync", { room_id: room, limit: 2 });
    expect(Object.keys(latest).sort()).toEqual(["has_more", "messages"]);
    expect(latest.messages.map((m: any) => m.seq)).toEqual([4, 5]);
    expect(latest.has_more).toBe(true);
    expect((await alice.call("sync", { room_id: room, after_seq: 3 })).messages.map((m: any) => m.seq)).toEqual([4, 5]);
    expect(await alice.call("sync", { room_id: room, before_seq: 3, limit: 1 })).toMatchObject({ messages: [{ seq: 2 }], has_more: true });
    expect(await alice.call("sync", { room_id: room, after_seq: 1, before_seq: 4 })).toMatchObject({ messages: [{ seq: 2 }, { seq: 3 }], has_more: false });
    expect(Object.keys((await alice.call("sync", { room_id: room, limit: 1 })).messages[0]).sort()).toEqual(MESSAGE_KEYS);

    const page1 = await alice.call("list_rooms", { limit: 1 });
    expect(Object.keys(page1).sort()).toEqual(["next_cursor", "rooms"]);
    expect(page1.rooms.map((r: any) => r.room_id)).toEqual([room]);
    expect(page1.rooms[0]).toMatchObject({ last_seq: 5, unread_count: 0, last_message: { seq: 5, content: "h5" } });
    expect(typeof page1.next_cursor).toBe("string");
    const page2 = await alice.call("list_rooms", { limit: 1, cursor: page1.next_cursor });
    expect(page2.rooms.map((r: any) => r.room_id)).toEqual([second]);
    // data may be omitted for list_rooms and ping.
    expect((await alice.call("list_rooms")).rooms).toHaveLength(2);

    const mark = alice.mark;
    alice.send({ type: "ping" });
    expect(await alice.waitForFrame((f) => f.type === "pong", 3000, "pong without id", mark)).toEqual({ type: "pong" });
    expect(await alice.call("ping", {})).toEqual({});
    await alice.close();
  });

  test("notification.ack: acks the caller's notification (or not_found while the notification service is not wired)", async () => {
    const t = await makeTenant(s, "f-notify");
    const bob = await t.connect("bob");
    const notify = await s.client(t.api_key).post("/notify", { topic: "orders", payload: { n: 1 }, targets: { user_ids: ["bob"] } });
    if (notify.status === 404) {
      // POST /notify is not routed in this build: the gateway has no notifications port either.
      expect(await bob.request("notification.ack", { notification_id: "01939a7e-0000-7000-8000-000000000000" })).toMatchObject({ type: "error", error: "not_found" });
      await bob.close();
      return;
    }
    expect(notify.status).toBe(202);
    const id = notify.body.notification_id;
    const live = await bob.waitForFrame((f) => f.type === "notification", 3000, "notification frame");
    expect(live).toEqual({ type: "notification", notification_id: id, topic: "orders", payload: { n: 1 }, created_at: notify.body.created_at });
    // Unacked notifications replay before sync.complete on the next connect.
    const bob2 = await t.connect("bob");
    const end = bob2.frames.findIndex((f) => f.type === "sync.complete");
    expect(bob2.frames.slice(0, end).filter((f) => f.type === "notification").map((f) => f.notification_id)).toEqual([id]);
    const carol = await t.connect("carol");
    expect(await carol.request("notification.ack", { notification_id: id })).toMatchObject({ type: "error", error: "not_found" });
    expect(await bob.call("notification.ack", { notification_id: id })).toEqual({});
    const unacked = await t.as("bob").get("/notifications?unacked=true");
    expect(unacked.body.notifications).toEqual([]);
    for (const c of [bob, bob2, carol]) await c.close();
  });
});
