// Reactions (docs/guides/conversations.md, "Reactions"): add/remove/list over REST and WS, idempotency, the per-user
// limit, the summary (first 10 reactors, order), frames, deleted messages, no seq/unread/webhook change.
import { describe, expect, test } from "bun:test";
import { convo, expectError, serverAndReceiver, wsError } from "./helpers";

const env = serverAndReceiver();

const path = (roomId: string, messageId: string) => `/rooms/${roomId}/messages/${messageId}/reactions`;

describe("adding and removing", () => {
  test("add returns the Message with the summary; frames reach online members and the reactor's own sockets; a repeat is 200 without a frame", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const m = await c.send("alice", { content: "hi" });
    const a = await c.connect("alice");
    const b1 = await c.connect("bob");
    const b2 = await c.connect("bob");
    const r = await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "👍" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ message_id: m.message_id, seq: m.seq, reactions: [{ reaction: "👍", count: 1, user_ids: ["bob"] }] });
    const expected = { type: "reaction.added", room_id: c.roomId, message_id: m.message_id, seq: m.seq, user_id: "bob", reaction: "👍", reactions: [{ reaction: "👍", count: 1, user_ids: ["bob"] }] };
    for (const ws of [a, b1, b2]) expect(await ws.waitForFrame((f) => f.type === "reaction.added")).toEqual(expected);
    const marks = [a.mark, b1.mark, b2.mark];
    const again = await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "👍" });
    expect(again.status).toBe(200);
    expect(again.body.reactions).toEqual([{ reaction: "👍", count: 1, user_ids: ["bob"] }]);
    for (const [i, ws] of [a, b1, b2].entries()) {
      await ws.barrier();
      expect(ws.frames.slice(marks[i]).filter((f) => f.type.startsWith("reaction."))).toEqual([]);
    }
    for (const ws of [a, b1, b2]) ws.close();
  });

  test("remove: 204 with reaction.removed; removing an absent reaction is 204 without a frame (percent-encoded path)", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const m = await c.send("alice", { content: "hi" });
    await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "🎉" });
    await c.as("alice").post(path(c.roomId, m.message_id), { reaction: "🎉" });
    const a = await c.connect("alice");
    const mark = a.mark;
    const del = await c.as("bob").del(`${path(c.roomId, m.message_id)}/${encodeURIComponent("🎉")}`);
    expect(del.status).toBe(204);
    const f = await a.waitForFrame((x) => x.type === "reaction.removed", 3000, "removed", mark);
    expect(f).toEqual({ type: "reaction.removed", room_id: c.roomId, message_id: m.message_id, seq: m.seq, user_id: "bob", reaction: "🎉", reactions: [{ reaction: "🎉", count: 1, user_ids: ["alice"] }] });
    const mark2 = a.mark;
    expect((await c.as("bob").del(`${path(c.roomId, m.message_id)}/${encodeURIComponent("🎉")}`)).status).toBe(204);
    expect((await c.as("bob").del(`${path(c.roomId, m.message_id)}/nope`)).status).toBe(204);
    await a.barrier();
    expect(a.frames.slice(mark2).filter((x) => x.type.startsWith("reaction."))).toEqual([]);
    expect((await c.as("bob").get(`/rooms/${c.roomId}/messages/${m.message_id}`)).body.reactions).toEqual([{ reaction: "🎉", count: 1, user_ids: ["alice"] }]);
    a.close();
  });

  test("WS react / unreact: the Message / {} replies, frames, errors", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const m = await c.send("alice", { content: "hi" });
    const a = await c.connect("alice");
    const b = await c.connect("bob");
    const msg = await b.call("react", { room_id: c.roomId, message_id: m.message_id, reaction: "heart" });
    expect(msg.reactions).toEqual([{ reaction: "heart", count: 1, user_ids: ["bob"] }]);
    await a.waitForFrame((f) => f.type === "reaction.added" && f.reaction === "heart");
    expect(await b.call("unreact", { room_id: c.roomId, message_id: m.message_id, reaction: "heart" })).toEqual({});
    await a.waitForFrame((f) => f.type === "reaction.removed" && f.reaction === "heart");
    expect((await wsError(b, "react", { room_id: c.roomId, message_id: m.message_id, reaction: "two words" })).error).toBe("invalid_request");
    expect((await wsError(b, "react", { room_id: c.roomId, message_id: "01900000-0000-7000-8000-000000000000", reaction: "x" })).error).toBe("not_found");
    a.close();
    b.close();
  });

  test("reaction text: 1..64 UTF-8 bytes, no whitespace or control characters (400); emoji sequences and names pass", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const m = await c.send("alice", { content: "hi" });
    for (const bad of ["", " ", "a b", "a\u00a0b", "a\u2003b", "x\n", "a\u0007", "a\u0085b", "é".repeat(33), "a".repeat(65)]) {
      expectError(await c.as("alice").post(path(c.roomId, m.message_id), { reaction: bad }), 400, "invalid_request");
    }
    expectError(await c.as("alice").post(path(c.roomId, m.message_id), { reaction: 5 }), 400, "invalid_request");
    expectError(await c.as("alice").del(`${path(c.roomId, m.message_id)}/${encodeURIComponent("a b")}`), 400, "invalid_request");
    expectError(await c.as("alice").get(`${path(c.roomId, m.message_id)}?reaction=${encodeURIComponent("a b")}`), 400, "invalid_request");
    expectError(await c.as("alice").get(path(c.roomId, "01900000-0000-7000-8000-000000000000")), 404, "not_found");
    expectError(await c.as("alice").post(path(c.roomId, m.message_id), {}), 400, "invalid_request");
    for (const good of ["👍", "👨‍👩‍👧‍👦", "🇫🇷", ":+1:", "a".repeat(64), "é".repeat(32)]) {
      expect((await c.as("alice").post(path(c.roomId, m.message_id), { reaction: good })).status).toBe(200);
    }
  });

  test("a user holds at most 20 different reactions on one message (the 21st is 409); others are not limited by it", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const m = await c.send("alice", { content: "hi" });
    for (let i = 0; i < 20; i++) expect((await c.as("bob").post(path(c.roomId, m.message_id), { reaction: `r${i}` })).status).toBe(200);
    expectError(await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "r20" }), 409, "conflict");
    // Re-adding one already held is still 200; removing one frees a slot.
    expect((await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "r0" })).status).toBe(200);
    expect((await c.as("alice").post(path(c.roomId, m.message_id), { reaction: "r20" })).status).toBe(200);
    await c.as("bob").del(`${path(c.roomId, m.message_id)}/r3`);
    expect((await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "r20" })).status).toBe(200);
  });

  test("the summary: first-added order, only counts > 0, first 10 reactors in order (refilled when one leaves), a re-added reaction goes to the end", async () => {
    const users = Array.from({ length: 13 }, (_, i) => `u${i}`);
    const c = await convo(env.s, users);
    const m = await c.send("u0", { content: "hi" });
    await c.as("u0").post(path(c.roomId, m.message_id), { reaction: "a" });
    for (const u of users) await c.as(u).post(path(c.roomId, m.message_id), { reaction: "b" });
    let msg = (await c.as("u0").get(`/rooms/${c.roomId}/messages/${m.message_id}`)).body;
    expect(msg.reactions).toEqual([
      { reaction: "a", count: 1, user_ids: ["u0"] },
      { reaction: "b", count: 13, user_ids: users.slice(0, 10) },
    ]);
    await c.as("u2").del(`${path(c.roomId, m.message_id)}/b`);
    msg = (await c.as("u0").get(`/rooms/${c.roomId}/messages/${m.message_id}`)).body;
    expect(msg.reactions[1]).toEqual({ reaction: "b", count: 12, user_ids: [...users.slice(0, 2), ...users.slice(3, 11)] });
    await c.as("u0").del(`${path(c.roomId, m.message_id)}/a`);
    await c.as("u5").post(path(c.roomId, m.message_id), { reaction: "a" });
    msg = (await c.as("u0").get(`/rooms/${c.roomId}/messages/${m.message_id}`)).body;
    expect(msg.reactions.map((r: any) => [r.reaction, r.count])).toEqual([["b", 12], ["a", 1]]);
    expect(msg.reactions[1].user_ids).toEqual(["u5"]);
  });
});

describe("who may react, and what reactions do not change", () => {
  test("members only: a channel's non-member may list (200) but not react (403); another tenant's message is 404", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const ch = await c.room("alice", [], "channel");
    const m = await c.send("alice", { content: "hi", room_id: ch });
    await c.as("alice").post(path(ch, m.message_id), { reaction: "x" });
    expectError(await c.as("eve").post(path(ch, m.message_id), { reaction: "x" }), 403, "forbidden");
    expectError(await c.as("eve").del(`${path(ch, m.message_id)}/x`), 403, "forbidden");
    const listed = await c.as("eve").get(path(ch, m.message_id));
    expect(listed.status).toBe(200);
    expect(listed.body.reactions.map((r: any) => r.user_id)).toEqual(["alice"]);
    const other = await convo(env.s, ["zed", "zoe"]);
    expectError(await other.as("zed").post(path(ch, m.message_id), { reaction: "x" }), 404, "not_found");
    expectError(await c.as("mallory").post(path(c.roomId, m.message_id), { reaction: "x" }), 403, "forbidden");
  });

  test("a deleted message takes no reaction (409) and its reactions are dropped (listing gives [])", async () => {
    const c = await convo(env.s, ["alice", "bob"]);
    const m = await c.send("alice", { content: "hi" });
    await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "x" });
    await c.as("alice").del(`/rooms/${c.roomId}/messages/${m.message_id}`);
    expectError(await c.as("bob").post(path(c.roomId, m.message_id), { reaction: "y" }), 409, "conflict");
    const ws = await c.connect("bob");
    expect((await wsError(ws, "react", { room_id: c.roomId, message_id: m.message_id, reaction: "y" })).error).toBe("conflict");
    expect((await c.as("bob").get(path(c.roomId, m.message_id))).body).toEqual({ reactions: [], next_cursor: null });
    expect((await c.as("bob").get(`/rooms/${c.roomId}/messages/${m.message_id}`)).body.reactions).toEqual([]);
    expect((await c.as("bob").del(`${path(c.roomId, m.message_id)}/x`)).status).toBe(204);
    ws.close();
  });

  test("reactions change no seq, no unread count, and send no webhook", async () => {
    const c = await convo(env.s, ["alice", "bob"], { webhook_url: env.rx.url });
    const m = await c.send("alice", { content: "hi" });
    const mine = (r: { body: any }) => r.body?.tenant_id === c.tenantId;
    await env.rx.waitForCount(1, 5000, mine);
    const before = (await c.as("bob").get("/rooms")).body.rooms[0];
    await c.as("alice").post(path(c.roomId, m.message_id), { reaction: "x" });
    await c.as("alice").del(`${path(c.roomId, m.message_id)}/x`);
    await c.as("alice").post(path(c.roomId, m.message_id), { reaction: "y" });
    const after = (await c.as("bob").get("/rooms")).body.rooms[0];
    expect({ last_seq: after.last_seq, unread: after.unread_count }).toEqual({ last_seq: before.last_seq, unread: before.unread_count });
    // A later message is webhooked; nothing was queued for the reactions before it.
    const m2 = await c.send("alice", { content: "later" });
    await env.rx.waitForCount(2, 5000, mine);
    expect(env.rx.received.filter(mine).map((r) => r.body.message.message_id)).toEqual([m.message_id, m2.message_id]);
  });
});

describe("listing", () => {
  test("oldest first, ?reaction=, ?limit (1..200, default 50), opaque ?cursor; bad cursor or limit: 400", async () => {
    const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
    const c = await convo(env.s, users);
    const m = await c.send("u0", { content: "hi" });
    for (const [i, u] of users.entries()) await c.as(u).post(path(c.roomId, m.message_id), { reaction: i % 2 ? "odd" : "even" });
    const first = (await c.as("u0").get(path(c.roomId, m.message_id))).body;
    expect(first.reactions.length).toBe(50);
    expect(first.reactions.slice(0, 3)).toMatchObject([{ reaction: "even", user_id: "u0" }, { reaction: "odd", user_id: "u1" }, { reaction: "even", user_id: "u2" }]);
    expect(Object.keys(first.reactions[0]).sort()).toEqual(["created_at", "reaction", "user_id"]);
    expect(typeof first.next_cursor).toBe("string");
    const rest = (await c.as("u0").get(`${path(c.roomId, m.message_id)}?cursor=${encodeURIComponent(first.next_cursor)}`)).body;
    expect(rest.reactions.map((r: any) => r.user_id)).toEqual(users.slice(50));
    expect(rest.next_cursor).toBeNull();
    const odd: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `?reaction=odd&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page: any = (await c.as("u0").get(path(c.roomId, m.message_id) + q)).body;
      odd.push(...page.reactions.map((r: any) => r.user_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(odd).toEqual(users.filter((_, i) => i % 2));
    const base = path(c.roomId, m.message_id);
    for (const q of ["?limit=0", "?limit=201", "?limit=abc", "?cursor=nope", `?cursor=${encodeURIComponent(first.next_cursor)}x`]) {
      expectError(await c.as("u0").get(base + q), 400, "invalid_request");
    }
    // A cursor of another message is not this message's.
    const m2 = await c.send("u0", { content: "other" });
    expectError(await c.as("u0").get(`${path(c.roomId, m2.message_id)}?cursor=${encodeURIComponent(first.next_cursor)}`), 400, "invalid_request");
  });
});
