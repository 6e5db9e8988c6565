// The changes feed (docs/guides/conversations.md, "Changes"): GET /rooms/{room_id}/changes and the WS `changes` frame.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { convo, expectError, wsError } from "./helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

const feed = (roomId: string, since?: string, limit?: number) => {
  const q = new URLSearchParams();
  if (since !== undefined) q.set("since", since);
  if (limit !== undefined) q.set("limit", String(limit));
  return `/rooms/${roomId}/changes${q.size ? `?${q}` : ""}`;
};

describe("changes", () => {
  test("without since: no messages and the present cursor; then every create, edit, delete, reaction and reply count once, in the order of its latest change", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const old = await c.send("alice", { content: "before the cursor" });
    const start = await c.as("bob").get(feed(c.roomId));
    expect(start.status).toBe(200);
    expect(start.body.messages).toEqual([]);
    expect(start.body.has_more).toBe(false);
    expect(typeof start.body.next_cursor).toBe("string");
    const a = await c.send("alice", { content: "a" });
    const b = await c.send("alice", { content: "b" });
    await c.as("alice").patch(`/rooms/${c.roomId}/messages/${a.message_id}`, { content: "a2" });
    await c.as("bob").post(`/rooms/${c.roomId}/messages/${old.message_id}/reactions`, { reaction: "x" });
    const reply = await c.send("bob", { content: "r", parent_id: b.message_id });
    await c.as("alice").del(`/rooms/${c.roomId}/messages/${a.message_id}`);
    const r = (await c.as("bob").get(feed(c.roomId, start.body.next_cursor))).body;
    // Latest change order: old (reaction), reply (created), b (reply count), a (deleted).
    expect(r.messages.map((m: any) => m.message_id)).toEqual([old.message_id, reply.message_id, b.message_id, a.message_id]);
    expect(r.messages[0].reactions).toEqual([{ reaction: "x", count: 1, user_ids: ["bob"] }]);
    expect(r.messages[2]).toMatchObject({ reply_count: 1, last_reply_at: reply.created_at });
    expect(r.messages[3]).toMatchObject({ content: "" });
    expect(r.messages[3].deleted_at).not.toBeNull();
    expect(r.has_more).toBe(false);
    // Nothing changed since: empty, and the cursor stays usable.
    const again = (await c.as("bob").get(feed(c.roomId, r.next_cursor))).body;
    expect(again).toEqual({ messages: [], next_cursor: r.next_cursor, has_more: false });
    // The present cursor equals the one reached by reading everything.
    expect((await c.as("bob").get(feed(c.roomId))).body.next_cursor).toBe(r.next_cursor);
  });

  test("paging: limit 1..200 (default 100), has_more, next_cursor continues exactly", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const cursor0 = (await c.as("bob").get(feed(c.roomId))).body.next_cursor;
    const sent: string[] = [];
    for (let i = 0; i < 105; i++) sent.push((await c.send("alice", { content: `m${i}` })).message_id);
    const def = (await c.as("bob").get(feed(c.roomId, cursor0))).body;
    expect(def.messages.length).toBe(100);
    expect(def.has_more).toBe(true);
    const got: string[] = [];
    let cur = cursor0;
    for (;;) {
      const p = (await c.as("bob").get(feed(c.roomId, cur, 7))).body;
      got.push(...p.messages.map((m: any) => m.message_id));
      cur = p.next_cursor;
      if (!p.has_more) break;
    }
    expect(got).toEqual(sent);
    for (const l of [0, 201]) expectError(await c.as("bob").get(feed(c.roomId, cursor0, l)), 400, "invalid_request");
    expectError(await c.as("bob").get(`/rooms/${c.roomId}/changes?limit=1.5`), 400, "invalid_request");
  });

  test("a cursor the server did not issue, an empty since, or another room's cursor: 400; outsiders: 403/404", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const other = await c.room("alice", ["bob"]);
    const otherCursor = (await c.as("alice").get(feed(other))).body.next_cursor;
    const mine = (await c.as("alice").get(feed(c.roomId))).body.next_cursor;
    for (const bad of ["", "garbage", "MTAuYWJj", `${mine}A`, otherCursor, Buffer.from("999999.aaaaaaaaaaaa").toString("base64url")]) {
      expectError(await c.as("alice").get(`/rooms/${c.roomId}/changes?since=${encodeURIComponent(bad)}`), 400, "invalid_request");
    }
    expectError(await c.as("mallory").get(feed(c.roomId)), 403, "forbidden");
    expectError(await c.as("alice").get(feed("01900000-0000-7000-8000-000000000000")), 404, "not_found");
    const t2 = await convo(s, ["zed", "zoe"]);
    expectError(await t2.as("zed").get(feed(c.roomId)), 404, "not_found");
  });

  test("cursors do not expire: one taken long ago still returns everything after it", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const cursor = (await c.as("bob").get(feed(c.roomId))).body.next_cursor;
    for (let i = 0; i < 30; i++) await c.send("alice", { content: `m${i}` });
    const r = (await c.as("bob").get(feed(c.roomId, cursor, 200))).body;
    expect(r.messages.length).toBe(30);
  });

  test("a channel's non-member may read the feed (reading is allowed)", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const ch = await c.room("alice", [], "channel");
    const cursor = (await c.as("eve").get(feed(ch))).body.next_cursor;
    await c.send("alice", { content: "hi", room_id: ch });
    expect((await c.as("eve").get(feed(ch, cursor))).body.messages.map((m: any) => m.content)).toEqual(["hi"]);
  });

  test("WS `changes` does the same: present cursor without since, pages, errors", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const ws = await c.connect("bob");
    const start = await ws.call("changes", { room_id: c.roomId });
    expect(start.messages).toEqual([]);
    expect(start.has_more).toBe(false);
    const m = await c.send("alice", { content: "a" });
    await c.as("alice").patch(`/rooms/${c.roomId}/messages/${m.message_id}`, { content: "a2" });
    const p = await ws.call("changes", { room_id: c.roomId, since: start.next_cursor, limit: 1 });
    expect(p.messages.map((x: any) => x.content)).toEqual(["a2"]);
    expect(p.has_more).toBe(false);
    // REST and WS cursors are the same cursors.
    expect((await c.as("bob").get(feed(c.roomId, start.next_cursor))).body.next_cursor).toBe(p.next_cursor);
    expect((await wsError(ws, "changes", { room_id: c.roomId, since: "" })).error).toBe("invalid_request");
    expect((await wsError(ws, "changes", { room_id: c.roomId, since: "bogus" })).error).toBe("invalid_request");
    expect((await wsError(ws, "changes", { room_id: c.roomId, limit: 0 })).error).toBe("invalid_request");
    ws.close();
  });
});
