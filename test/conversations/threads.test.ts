// Threads (docs/guides/conversations.md, "Threads"): replies are ordinary messages with parent_id; the root's
// reply_count/last_reply_at follow every new or deleted reply; thread.updated; /replies; top_level.
import { describe, expect, test } from "bun:test";
import { convo, expectError, serverAndReceiver, wsError } from "./helpers";

const env = serverAndReceiver();

describe("replies", () => {
  test("a reply is a room message with its own seq; the root's reply_count and last_reply_at follow (REST)", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const root = await c.send("alice", { content: "root" });
    expect(root).toMatchObject({ parent_id: null, reply_count: 0, last_reply_at: null, mentions: [], reactions: [] });
    const r1 = await c.send("bob", { content: "r1", parent_id: root.message_id });
    const r2 = await c.send("alice", { content: "r2", parent_id: root.message_id });
    expect([r1.seq, r2.seq]).toEqual([2, 3]);
    expect(r1).toMatchObject({ parent_id: root.message_id, reply_count: 0, last_reply_at: null });
    const got = (await c.as("bob").get(`/rooms/${c.roomId}/messages/${root.message_id}`)).body;
    expect(got).toMatchObject({ reply_count: 2, last_reply_at: r2.created_at });
    // Replies are in the room's history, and count as unread like any message.
    const hist = (await c.as("bob").get(`/rooms/${c.roomId}/messages`)).body.messages;
    expect(hist.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    const rooms = (await c.as("bob").get("/rooms")).body.rooms;
    // Bob's own reply advanced his read position to 2: the later reply (seq 3) is unread.
    expect(rooms[0]).toMatchObject({ room_id: c.roomId, unread_count: 1 });
  });

  test("parent_id: unknown, another room's, or a reply: 400; deleted: 409 (REST and WS)", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const other = await c.room("alice", ["bob"]);
    const foreign = await c.send("alice", { content: "elsewhere", room_id: other });
    const root = await c.send("alice", { content: "root" });
    const reply = await c.send("alice", { content: "reply", parent_id: root.message_id });
    const post = (parent_id: string) => c.as("alice").post(`/rooms/${c.roomId}/messages`, { content: "x", parent_id });
    expectError(await post("01900000-0000-7000-8000-000000000000"), 400, "invalid_request");
    expectError(await post(foreign.message_id), 400, "invalid_request");
    expectError(await post(reply.message_id), 400, "invalid_request");
    expect((await c.as("alice").del(`/rooms/${c.roomId}/messages/${root.message_id}`)).status).toBe(204);
    expectError(await post(root.message_id), 409, "conflict");
    const ws = await c.connect("alice");
    expect((await wsError(ws, "send_message", { room_id: c.roomId, content: "x", parent_id: reply.message_id })).error).toBe("invalid_request");
    expect((await wsError(ws, "send_message", { room_id: c.roomId, content: "x", parent_id: root.message_id })).error).toBe("conflict");
    // Nothing was stored by the refused sends: the room's seq did not move.
    expect((await c.as("alice").get(`/rooms/${c.roomId}`)).body.last_seq).toBe(2);
    ws.close();
  });

  test("WS send_message with parent_id; message then thread.updated to online members", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const root = await c.send("alice", { content: "root" });
    const a = await c.connect("alice");
    const b = await c.connect("bob");
    const mark = b.mark;
    const reply = await a.call("send_message", { room_id: c.roomId, content: "hi", parent_id: root.message_id });
    expect(reply).toMatchObject({ parent_id: root.message_id, seq: 2 });
    const upd = await b.waitForFrame((f) => f.type === "thread.updated", 3000, "thread.updated", mark);
    expect(upd).toEqual({ type: "thread.updated", room_id: c.roomId, message_id: root.message_id, reply_count: 1, last_reply_at: reply.created_at });
    const order = b.frames.slice(mark).map((f) => f.type).filter((t) => t === "message" || t === "thread.updated");
    expect(order).toEqual(["message", "thread.updated"]);
    await a.waitForFrame((f) => f.type === "thread.updated");
    a.close();
    b.close();
  });

  test("deleting a reply recounts the root (newest remaining reply) and emits thread.updated; deleting the root keeps its replies and reply_count", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const root = await c.send("alice", { content: "root" });
    const r1 = await c.send("bob", { content: "r1", parent_id: root.message_id });
    const r2 = await c.send("bob", { content: "r2", parent_id: root.message_id });
    const b = await c.connect("bob");
    const mark = b.mark;
    expect((await c.as("bob").del(`/rooms/${c.roomId}/messages/${r2.message_id}`)).status).toBe(204);
    const upd = await b.waitForFrame((f) => f.type === "thread.updated", 3000, "thread.updated", mark);
    expect(upd).toMatchObject({ message_id: root.message_id, reply_count: 1, last_reply_at: r1.created_at });
    const rootNow = (await c.as("bob").get(`/rooms/${c.roomId}/messages/${root.message_id}`)).body;
    expect(rootNow).toMatchObject({ reply_count: 1, last_reply_at: r1.created_at });
    // Deleting the last reply: 0 and null.
    await c.as("bob").del(`/rooms/${c.roomId}/messages/${r1.message_id}`);
    expect((await c.as("bob").get(`/rooms/${c.roomId}/messages/${root.message_id}`)).body).toMatchObject({ reply_count: 0, last_reply_at: null });
    // A root with a reply, then deleted: the tombstone keeps reply_count; the reply stays.
    const r3 = await c.send("bob", { content: "r3", parent_id: root.message_id });
    await c.as("alice").del(`/rooms/${c.roomId}/messages/${root.message_id}`);
    const tomb = (await c.as("bob").get(`/rooms/${c.roomId}/messages/${root.message_id}`)).body;
    expect(tomb).toMatchObject({ content: "", reply_count: 1, last_reply_at: r3.created_at });
    expect(tomb.deleted_at).not.toBeNull();
    expect((await c.as("bob").get(`/rooms/${c.roomId}/messages/${r3.message_id}`)).body.content).toBe("r3");
    b.close();
  });

  test("GET .../replies pages a thread with the history rules and lists reply tombstones", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const root = await c.send("alice", { content: "root" });
    const other = await c.send("alice", { content: "other root" });
    const replies: any[] = [];
    for (let i = 0; i < 7; i++) {
      replies.push(await c.send("bob", { content: `r${i}`, parent_id: root.message_id }));
      await c.send("alice", { content: `noise${i}`, parent_id: other.message_id });
    }
    await c.as("bob").del(`/rooms/${c.roomId}/messages/${replies[3].message_id}`);
    const url = `/rooms/${c.roomId}/messages/${root.message_id}/replies`;
    const latest = (await c.as("alice").get(`${url}?limit=3`)).body;
    expect(latest.messages.map((m: any) => m.content)).toEqual(["r4", "r5", "r6"]);
    expect(latest.has_more).toBe(true);
    const older = (await c.as("alice").get(`${url}?limit=3&before_seq=${replies[4].seq}`)).body;
    expect(older.messages.map((m: any) => m.seq)).toEqual([replies[1].seq, replies[2].seq, replies[3].seq]);
    expect(older.messages[2]).toMatchObject({ content: "", meta: null });
    expect(older.messages[2].deleted_at).not.toBeNull();
    expect(older.has_more).toBe(true);
    const after = (await c.as("alice").get(`${url}?after_seq=0&limit=200`)).body;
    expect(after.messages.map((m: any) => m.seq)).toEqual(replies.map((r) => r.seq));
    expect(after.has_more).toBe(false);
    expect(after.messages.every((m: any) => m.parent_id === root.message_id)).toBe(true);
    expectError(await c.as("alice").get(`${url}?limit=0`), 400, "invalid_request");
    expectError(await c.as("alice").get(`${url}?after_seq=-1`), 400, "invalid_request");
    expectError(await c.as("alice").get(`/rooms/${c.roomId}/messages/01900000-0000-7000-8000-000000000000/replies`), 404, "not_found");
    expectError(await c.as("mallory").get(url), 403, "forbidden");
  });

  test("history ?top_level=true skips replies with the same paging rules; bad values are 400", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const roots: any[] = [];
    for (let i = 0; i < 5; i++) {
      const root = await c.send("alice", { content: `root${i}` });
      roots.push(root);
      await c.send("bob", { content: `reply${i}`, parent_id: root.message_id });
    }
    const base = `/rooms/${c.roomId}/messages`;
    const latest = (await c.as("bob").get(`${base}?top_level=true&limit=2`)).body;
    expect(latest.messages.map((m: any) => m.content)).toEqual(["root3", "root4"]);
    expect(latest.has_more).toBe(true);
    const first = (await c.as("bob").get(`${base}?top_level=true&after_seq=0&limit=3`)).body;
    expect(first.messages.map((m: any) => m.content)).toEqual(["root0", "root1", "root2"]);
    expect(first.has_more).toBe(true);
    const window = (await c.as("bob").get(`${base}?top_level=true&after_seq=${roots[0].seq}&before_seq=${roots[4].seq}`)).body;
    expect(window.messages.map((m: any) => m.content)).toEqual(["root1", "root2", "root3"]);
    expect(window.has_more).toBe(false);
    const all = (await c.as("bob").get(`${base}?top_level=false`)).body;
    expect(all.messages.length).toBe(10);
    expectError(await c.as("bob").get(`${base}?top_level=yes`), 400, "invalid_request");
  });

  test("replies replay on connect like any message; the offline webhook carries parent_id", async () => {
    const c = await convo(env.s, ["alice", "bob"], { webhook_url: env.rx.url });
    const root = await c.send("alice", { content: "root" });
    const reply = await c.send("alice", { content: "reply", parent_id: root.message_id });
    const mine = (r: { body: any }) => r.body?.tenant_id === c.tenantId;
    await env.rx.waitForCount(2, 5000, mine);
    const hooks = env.rx.received.filter(mine).map((r) => r.body.message).sort((x, y) => x.seq - y.seq);
    expect(hooks.map((m: any) => m.parent_id)).toEqual([null, root.message_id]);
    const b = await c.connect("bob");
    const replayed = b.messages(c.roomId);
    expect(replayed.map((f) => f.seq)).toEqual([1, 2]);
    expect(replayed[1]).toMatchObject({ message_id: reply.message_id, parent_id: root.message_id });
    expect(replayed[0]).toMatchObject({ reply_count: 1, last_reply_at: reply.created_at });
    b.close();
  });
});
