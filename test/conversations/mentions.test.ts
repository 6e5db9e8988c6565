// Mentions (docs/guides/conversations.md, "Mentions", RoomSummary.unread_mentions, webhook `mentioned`).
import { describe, expect, test } from "bun:test";
import { convo, expectError, serverAndReceiver, wsError } from "./helpers";

const env = serverAndReceiver();

const summary = async (c: Awaited<ReturnType<typeof convo>>, user: string, roomId = c.roomId) =>
  (await c.as(user).get("/rooms?limit=200")).body.rooms.find((r: any) => r.room_id === roomId);

describe("mentions", () => {
  test("stored with the message, distinct in first-given order; repeats count once; 50 distinct is the limit", async () => {
    const users = Array.from({ length: 52 }, (_, i) => `u${i}`);
    const c = await convo(env.s, users);
    const m = await c.send("u0", { content: "hi", mentions: ["u1", "u2", "u1"] });
    expect(m.mentions).toEqual(["u1", "u2"]);
    expect((await c.as("u1").get(`/rooms/${c.roomId}/messages/${m.message_id}`)).body.mentions).toEqual(["u1", "u2"]);
    const fifty = users.slice(1, 51);
    expect((await c.send("u0", { content: "all", mentions: [...fifty, ...fifty] })).mentions).toEqual(fifty);
    expectError(await c.as("u0").post(`/rooms/${c.roomId}/messages`, { content: "x", mentions: users.slice(1, 52) }), 400, "invalid_request");
  });

  test("every mentioned user must be a member (400, REST and WS); bad ids are 400", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const r = await c.as("alice").post(`/rooms/${c.roomId}/messages`, { content: "x", mentions: ["bob", "stranger"] });
    expectError(r, 400, "invalid_request");
    expect(r.body.details[0].path).toBe("/mentions/1");
    expectError(await c.as("alice").post(`/rooms/${c.roomId}/messages`, { content: "x", mentions: [""] }), 400, "invalid_request");
    expectError(await c.as("alice").post(`/rooms/${c.roomId}/messages`, { content: "x", mentions: "bob" }), 400, "invalid_request");
    const ws = await c.connect("alice");
    expect((await wsError(ws, "send_message", { room_id: c.roomId, content: "x", mentions: ["stranger"] })).error).toBe("invalid_request");
    const ok = await ws.call("send_message", { room_id: c.roomId, content: "x", mentions: ["bob"] });
    expect(ok.mentions).toEqual(["bob"]);
    expect((await c.as("alice").get(`/rooms/${c.roomId}`)).body.last_seq).toBe(1);
    ws.close();
  });

  test("an edit with mentions replaces them; without mentions keeps them (REST and WS)", async () => {
    const c = await convo(env.s, ["alice", "bob", "carol"]);
    const m = await c.send("alice", { content: "hi", mentions: ["bob"] });
    const e1 = await c.as("alice").patch(`/rooms/${c.roomId}/messages/${m.message_id}`, { content: "edited" });
    expect(e1.body.mentions).toEqual(["bob"]);
    const e2 = await c.as("alice").patch(`/rooms/${c.roomId}/messages/${m.message_id}`, { mentions: ["carol"] });
    expect(e2.status).toBe(200);
    expect(e2.body).toMatchObject({ content: "edited", mentions: ["carol"] });
    expect((await summary(c, "bob")).unread_mentions).toBe(0);
    expect((await summary(c, "carol")).unread_mentions).toBe(1);
    expectError(await c.as("alice").patch(`/rooms/${c.roomId}/messages/${m.message_id}`, { mentions: ["nobody"] }), 400, "invalid_request");
    const ws = await c.connect("alice");
    const e3 = await ws.call("edit_message", { room_id: c.roomId, message_id: m.message_id, mentions: [] });
    expect(e3.mentions).toEqual([]);
    expect((await summary(c, "carol")).unread_mentions).toBe(0);
    ws.close();
  });

  test("unread_mentions counts unread messages mentioning the caller: not acked ones, not deleted ones, not one's own (REST and WS list_rooms)", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const m1 = await c.send("alice", { content: "1", mentions: ["bob"] });
    await c.send("alice", { content: "2" });
    const m3 = await c.send("alice", { content: "3", mentions: ["bob", "alice"] });
    const m4 = await c.send("alice", { content: "4", mentions: ["bob"] });
    expect(await summary(c, "bob")).toMatchObject({ unread_count: 4, unread_mentions: 3 });
    // The sender's own mention never counts.
    expect((await summary(c, "alice")).unread_mentions).toBe(0);
    await c.as("alice").del(`/rooms/${c.roomId}/messages/${m4.message_id}`);
    expect(await summary(c, "bob")).toMatchObject({ unread_count: 3, unread_mentions: 2 });
    await c.as("bob").post("/acks", { room_id: c.roomId, seq: m1.seq });
    expect(await summary(c, "bob")).toMatchObject({ unread_count: 2, unread_mentions: 1 });
    const ws = await c.connect("bob");
    const listed = (await ws.call("list_rooms", {})).rooms.find((r: any) => r.room_id === c.roomId);
    expect(listed).toMatchObject({ unread_count: 2, unread_mentions: 1 });
    await ws.call("ack", { room_id: c.roomId, seq: m3.seq });
    expect((await ws.call("list_rooms", {})).rooms[0].unread_mentions).toBe(0);
    // Mentioning oneself in a send: still 0 for the sender.
    await c.send("bob", { content: "me", mentions: ["bob"] });
    expect((await summary(c, "bob")).unread_mentions).toBe(0);
    ws.close();
  });

  test("webhook `mentioned` is true exactly for the mentioned recipients", async () => {
    const c = await convo(env.s, ["alice", "bob", "carol"], { webhook_url: env.rx.url });
    const m = await c.send("alice", { content: "hey", mentions: ["bob"] });
    const mine = (r: { body: any }) => r.body?.tenant_id === c.tenantId && r.body?.message?.message_id === m.message_id;
    await env.rx.waitForCount(2, 5000, mine);
    const byUser = Object.fromEntries(env.rx.received.filter(mine).map((r) => [r.body.recipient_id, r.body.mentioned]));
    expect(byUser).toEqual({ bob: true, carol: false });
  });
});
