// Issue 4: live fan-out over real sockets. A message reaches every socket of every online member
// exactly once and in seq order, never a non-member nor another tenant; membership changes apply to
// open sockets at once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { makeTenant, range, sendMany, type Frame, type WsConn } from "./ws-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

// Frames a socket may get without any room activity concerning it.
const QUIET = new Set(["connected", "sync.complete", "pong", "reply"]);
const noisy = (c: WsConn) => c.frames.filter((f) => !QUIET.has(f.type));

describe("fan-out", () => {
  test("REST and WS sends reach all sockets of every online member once, in seq order, and nobody else", async () => {
    const a = await makeTenant(s, "fan-a", { user_message_rate: 1000 });
    const b = await makeTenant(s, "fan-b", { user_message_rate: 1000 });
    const room = await a.room("alice", ["bob", "carol"]);
    // dave belongs to tenant A but not to the room; tenant B has its own "bob" with a room of his own.
    await a.room("dave", ["erin"]);
    await b.room("bob", ["alice"]);

    // Tenant B's pair share a room, so they see each other's presence: connect them first, then
    // everything they receive from here on must be nothing (A's same-named users are strangers).
    const otherBob = await b.connect("bob");
    const otherAlice = await b.connect("alice");
    await otherBob.waitForFrame((f) => f.type === "presence.update" && f.user_id === "alice");
    const otherMarks = new Map([otherBob, otherAlice].map((c) => [c, c.mark]));
    const alice = await a.connect("alice");
    const bob1 = await a.connect("bob");
    const bob2 = await a.connect("bob");
    const carol = await a.connect("carol");
    const dave = await a.connect("dave");
    const marks = new Map([alice, bob1, bob2, carol].map((c) => [c, c.mark]));

    const viaRest = await sendMany(a.as("alice"), room, 6, { prefix: "rest", concurrency: 3 });
    const viaWs: Frame[] = [];
    for (let i = 0; i < 4; i++) viaWs.push(await alice.call("send_message", { room_id: room, content: `ws-${i}`, client_msg_id: `c-${i}` }));
    const sent = [...viaRest, ...viaWs];
    expect(sent.map((m) => m.seq)).toEqual(range(1, 10));

    for (const c of [alice, bob1, bob2, carol]) {
      await c.waitUntil((fs) => fs.filter((f) => f.type === "message").length >= 10, 3000, "10 messages");
      await c.barrier();
      const got = c.frames.slice(marks.get(c)).filter((f) => f.type === "message");
      expect(got.map((m) => m.seq)).toEqual(range(1, 10));
      expect(got.map((m) => m.message_id)).toEqual(sent.map((m) => m.message_id));
      expect(got.map((m) => m.content)).toEqual(sent.map((m) => m.content));
      // Flat frames with the Message fields.
      expect(Object.keys(got[0]!).sort()).toEqual(["attachments", "client_msg_id", "content", "created_at", "deleted_at", "edited_at", "last_reply_at", "mentions", "message_id", "meta", "parent_id", "reactions", "reply_count", "room_id", "sender_id", "seq", "type"]);
      expect(got.every((m) => m.room_id === room && m.sender_id === "alice")).toBe(true);
    }
    await dave.barrier();
    expect(noisy(dave)).toEqual([]);
    for (const c of [otherBob, otherAlice]) {
      await c.barrier();
      expect(c.frames.slice(otherMarks.get(c)).filter((f) => !QUIET.has(f.type))).toEqual([]);
    }
    for (const c of [alice, bob1, bob2, carol, dave, otherBob, otherAlice]) await c.close();
  });

  test("a user added to a group gets member.joined and then the room's messages without reconnecting", async () => {
    const t = await makeTenant(s, "fan-join");
    const room = await t.room("alice", ["bob"]);
    const bob = await t.connect("bob");
    const erin1 = await t.connect("erin");
    const erin2 = await t.connect("erin");

    const first = await t.as("alice").post(`/rooms/${room}/messages`, { content: "before erin" });
    expect(first.status).toBe(201);
    await bob.waitForFrame((f) => f.type === "message" && f.seq === 1);
    for (const e of [erin1, erin2]) {
      await e.barrier();
      expect(noisy(e)).toEqual([]);
    }

    const added = await t.as("alice").post(`/rooms/${room}/members`, { user_ids: ["erin"] });
    expect(added.status).toBe(200);
    for (const c of [erin1, erin2, bob]) {
      const joined = await c.waitForFrame((f) => f.type === "member.joined", 3000, "member.joined");
      expect(joined).toEqual({ type: "member.joined", room_id: room, user_id: "erin", role: "member" });
    }
    const second = await t.as("alice").post(`/rooms/${room}/messages`, { content: "welcome erin" });
    expect(second.status).toBe(201);
    for (const e of [erin1, erin2]) {
      const m = await e.waitForFrame((f) => f.type === "message", 3000, "message after join");
      expect(m).toMatchObject({ room_id: room, seq: 2, content: "welcome erin" });
      // member.joined came first, and no socket ever got seq 1 (it was sent before erin joined).
      expect(e.frames.indexOf(m)).toBeGreaterThan(e.frames.findIndex((f) => f.type === "member.joined"));
      await e.barrier();
      expect(e.messages().map((x) => x.seq)).toEqual([2]);
    }
    // erin can also send into the room from the socket opened before she joined.
    const fromErin = await erin1.call("send_message", { room_id: room, content: "hi all" });
    expect(fromErin.seq).toBe(3);
    await bob.waitForFrame((f) => f.type === "message" && f.seq === 3);
    for (const c of [bob, erin1, erin2]) await c.close();
  });

  test("a removed user gets member.left and then nothing more from that room", async () => {
    const t = await makeTenant(s, "fan-leave");
    const room = await t.room("alice", ["bob", "erin"]);
    const bob = await t.connect("bob");
    const erin1 = await t.connect("erin");
    const erin2 = await t.connect("erin");

    expect((await t.as("alice").post(`/rooms/${room}/messages`, { content: "one" })).status).toBe(201);
    for (const e of [erin1, erin2]) await e.waitForFrame((f) => f.type === "message" && f.seq === 1);

    expect((await t.as("alice").del(`/rooms/${room}/members/erin`)).status).toBe(204);
    for (const c of [erin1, erin2, bob]) {
      const left = await c.waitForFrame((f) => f.type === "member.left", 3000, "member.left");
      expect(left).toEqual({ type: "member.left", room_id: room, user_id: "erin", role: "member" });
    }

    expect((await t.as("alice").post(`/rooms/${room}/messages`, { content: "two" })).status).toBe(201);
    expect((await t.as("alice").patch(`/rooms/${room}`, { name: "renamed" })).status).toBe(200);
    await bob.waitForFrame((f) => f.type === "message" && f.seq === 2);
    await bob.waitForFrame((f) => f.type === "room.updated");
    expect((await bob.call("typing.start", { room_id: room }))).toEqual({});
    for (const e of [erin1, erin2]) {
      await e.barrier();
      const after = e.frames.slice(e.frames.findIndex((f) => f.type === "member.left") + 1);
      expect(after.filter((f) => f.room_id === room)).toEqual([]);
      expect(e.messages().map((m) => m.seq)).toEqual([1]);
    }
    // And the server refuses her frames for it.
    const denied = await erin1.request("send_message", { room_id: room, content: "still here?" });
    expect(denied).toMatchObject({ type: "error", error: "forbidden" });
    for (const c of [bob, erin1, erin2]) await c.close();
  });

  test("a socket sees only its own tenant even when user and room ids are guessed", async () => {
    const a = await makeTenant(s, "fan-iso-a");
    const b = await makeTenant(s, "fan-iso-b");
    const roomA = await a.room("alice", ["bob"]);
    const mallory = await b.connect("alice");
    for (const [type, data] of [
      ["send_message", { room_id: roomA, content: "x" }],
      ["sync", { room_id: roomA }],
      ["ack", { room_id: roomA, seq: 0 }],
      ["typing.start", { room_id: roomA }],
    ] as const) {
      const r = await mallory.request(type, data);
      expect({ type, frame: r.type, error: r.error }).toEqual({ type, frame: "error", error: "not_found" });
    }
    const rooms = await mallory.call("list_rooms");
    expect(rooms.rooms).toEqual([]);
    await mallory.close();
  });
});
