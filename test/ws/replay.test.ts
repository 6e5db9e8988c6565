// Issue 4: replay on connect (docs/reference/websocket.md) and the TypeScript client's gapless sequence under
// reconnects racing live sends. SYNC_MAX_PER_ROOM keeps its default (100); SYNC_MAX_TOTAL is 30.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createChatClient, type Message } from "../../src/client";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { clockPast, makeTenant, range, sendMany, type Frame, type TestTenant, type WsConn } from "./ws-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ SYNC_MAX_PER_ROOM: "100", SYNC_MAX_TOTAL: "30" });
});
afterAll(() => s.stop());

const fast = { user_message_rate: 100_000 };

/** The replay frames of a fresh socket: everything between `connected` and `sync.complete`. */
function replayOf(c: WsConn): { frames: Frame[]; complete: Frame } {
  expect(c.frames[0]?.type).toBe("connected");
  const end = c.frames.findIndex((f) => f.type === "sync.complete");
  expect(end).toBeGreaterThan(0);
  return { frames: c.frames.slice(1, end), complete: c.frames[end]! };
}

describe("replay on connect", () => {
  test("after a disconnect exactly the 50 missed messages arrive, in order, before sync.complete", async () => {
    const t = await makeTenant(s, "replay-50", fast);
    const room = await t.room("alice", ["bob"]);
    const bob = await t.connect("bob");
    await sendMany(t.as("alice"), room, 3, { prefix: "seen" });
    await bob.waitForFrame((f) => f.type === "message" && f.seq === 3);
    expect(await bob.call("ack", { room_id: room, seq: 3 })).toEqual({ room_id: room, last_ack: 3, unread_count: 0 });
    await bob.close();

    const missed = await sendMany(t.as("alice"), room, 50, { prefix: "missed" });
    const again = await t.connect("bob");
    const { frames, complete } = replayOf(again);
    expect(frames.map((f) => f.type)).toEqual(Array(50).fill("message"));
    expect(frames.map((f) => f.seq)).toEqual(range(4, 53));
    expect(frames.map((f) => f.message_id)).toEqual(missed.map((m) => m.message_id));
    expect(frames.map((f) => f.content)).toEqual(missed.map((m) => m.content));
    expect(complete).toEqual({ type: "sync.complete", rooms: 1 });
    await again.close();
  });

  test("150 missed with SYNC_MAX_PER_ROOM=100: sync.gap for the older 50 first, then the newest 100; sync pages fill the gap", async () => {
    const t = await makeTenant(s, "replay-150", fast);
    const room = await t.room("alice", ["bob"]);
    const sent = await sendMany(t.as("alice"), room, 150, { concurrency: 25 });
    const bob = await t.connect("bob");
    const { frames, complete } = replayOf(bob);
    expect(frames[0]).toEqual({ type: "sync.gap", room_id: room, from_seq: 1, to_seq: 50 });
    const msgs = frames.slice(1);
    expect(msgs.every((f) => f.type === "message")).toBe(true);
    expect(msgs.map((f) => f.seq)).toEqual(range(51, 150));
    expect(complete).toEqual({ type: "sync.complete", rooms: 1 });

    // Page the gap with `sync` (a window: has_more says whether more exist up to its end).
    const paged: Frame[] = [];
    const hasMore: boolean[] = [];
    let after = 0;
    for (let i = 0; i < 10; i++) {
      const page = await bob.call("sync", { room_id: room, after_seq: after, before_seq: 51, limit: 20 });
      paged.push(...page.messages);
      hasMore.push(page.has_more);
      if (!page.has_more) break;
      after = page.messages.at(-1).seq;
    }
    expect(hasMore).toEqual([true, true, false]);
    expect(paged.map((m) => m.seq)).toEqual(range(1, 50));
    expect([...paged, ...msgs].map((m) => m.message_id)).toEqual(sent.map((m) => m.message_id));
    await bob.close();
  });

  test("SYNC_MAX_TOTAL=30 with 3 rooms of 20 missed: whole rooms until the total is reached, then one sync.gap per room", async () => {
    const t = await makeTenant(s, "replay-total", fast);
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) rooms.push(await t.room("alice", ["bob"]));
    for (const r of rooms) {
      await sendMany(t.as("alice"), r, 20, { prefix: r });
      // Distinct last-activity times, so "most recent activity first" has one answer.
      await clockPast(Date.now(), 2);
    }
    const [oldest, middle, newest] = rooms as [string, string, string];
    const bob = await t.connect("bob");
    const { frames, complete } = replayOf(bob);
    const summary = frames.map((f) => (f.type === "message" ? `${f.room_id}#${f.seq}` : `${f.type}:${f.room_id}:${f.from_seq}-${f.to_seq}`));
    expect(summary).toEqual([
      // 0 < 30: the newest room whole; 20 < 30: the next one whole too (never cut in the middle).
      ...range(1, 20).map((n) => `${newest}#${n}`),
      ...range(1, 20).map((n) => `${middle}#${n}`),
      // 40 >= 30: the rest get one gap each for their whole missed range.
      `sync.gap:${oldest}:1-20`,
    ]);
    expect(complete).toEqual({ type: "sync.complete", rooms: 3 });
    await bob.close();
  });

  test("sync.complete.rooms counts only rooms that got a frame; acked rooms replay nothing", async () => {
    const t = await makeTenant(s, "replay-acked", fast);
    const quiet = await t.room("alice", ["bob"]);
    const busy = await t.room("alice", ["bob"]);
    await t.room("alice", ["bob"]); // no messages at all
    await sendMany(t.as("alice"), quiet, 2);
    expect((await t.as("bob").post("/acks", { room_id: quiet, seq: 2 })).status).toBe(200);
    await sendMany(t.as("alice"), busy, 2);
    // Bob's own messages advance his ack: nothing to replay for them.
    await sendMany(t.as("bob"), quiet, 2);
    const bob = await t.connect("bob");
    const { frames, complete } = replayOf(bob);
    expect(frames.map((f) => `${f.type}:${f.room_id}:${f.seq}`)).toEqual([`message:${busy}:1`, `message:${busy}:2`]);
    expect(complete).toEqual({ type: "sync.complete", rooms: 1 });
    await bob.close();
  });

  test("replayed tombstones are message frames with deleted_at set and empty content", async () => {
    const t = await makeTenant(s, "replay-tomb", fast);
    const room = await t.room("alice", ["bob"]);
    const [m1] = await sendMany(t.as("alice"), room, 2);
    expect((await t.as("alice").del(`/rooms/${room}/messages/${m1.message_id}`)).status).toBe(204);
    const bob = await t.connect("bob");
    const { frames } = replayOf(bob);
    expect(frames.map((f) => f.seq)).toEqual([1, 2]);
    expect(frames[0]).toMatchObject({ type: "message", message_id: m1.message_id, content: "", meta: null });
    expect(typeof frames[0]!.deleted_at).toBe("string");
    expect(frames[1]!.deleted_at).toBeNull();
    await bob.close();
  });
});

describe("TypeScript client under reconnects", () => {
  test("live REST sends racing repeated reconnects: each room's final sequence is gapless, ordered, without duplicates", async () => {
    const t: TestTenant = await makeTenant(s, "race", fast);
    const rooms = [await t.room("alice", ["bob"]), await t.room("alice", ["bob"])];
    // Bob's sockets are dropped through the in-process node's registry, so they go to that node
    // (s.node); the sends go through s.url (in cluster mode: both nodes, the frames through Redis).
    const client = createChatClient({ url: s.node.wsUrl, apiKey: t.api_key, userId: "bob", reconnectBaseDelayMs: 5, reconnectMaxDelayMs: 40, requestTimeoutMs: 5000 });
    const delivered = new Map<string, number[]>(rooms.map((r) => [r, []]));
    const syncErrors: unknown[] = [];
    client.on("message", (m: Message) => delivered.get(m.room_id)?.push(m.seq));
    client.on("sync_error", (e) => syncErrors.push(e));
    let connects = 0;
    client.on("connected", () => connects++);
    // The app shows both rooms from the start (empty history), so every seq from 1 must arrive.
    for (const r of rooms) client.seed(r, 0);
    await client.connect();

    let sending = true;
    const lastSent = new Map<string, number>(rooms.map((r) => [r, 0]));
    const sender = (async () => {
      const alice = t.as("alice");
      for (let i = 0; sending; i++) {
        const batch = rooms.map((r) => alice.post(`/rooms/${r}/messages`, { content: `live-${i}` }));
        for (const res of await Promise.all(batch)) {
          expect(res.status).toBe(201);
          lastSent.set(res.body.room_id, Math.max(lastSent.get(res.body.room_id)!, res.body.seq));
        }
      }
    })();

    const total = () => [...delivered.values()].reduce((n, l) => n + l.length, 0);
    for (let k = 0; k < 5; k++) {
      // Let some live traffic through, then drop bob's socket from the server side.
      const seen = total();
      await waitFor(() => total() >= seen + 15, 5000, "live traffic before a drop");
      const before = connects;
      // The previous socket's close may still be in flight on the server: wait until only one is left.
      const sockets = await waitFor(() => {
        const list = [...s.api.gateway.registry.sockets(t.tenant_id, "bob")];
        return list.length === 1 ? list : null;
      }, 3000, "exactly one socket of bob");
      if (k % 2 === 0) sockets[0]!.close(1013, "test: reconnect");
      else sockets[0]!.terminate();
      await waitFor(() => connects > before && client.state === "open", 5000, `reconnect ${k + 1}`);
    }
    sending = false;
    await sender;

    for (const r of rooms) {
      await waitFor(() => client.getLastSeq(r) === lastSent.get(r), 5000, `client caught up in ${r}`);
      expect(delivered.get(r)).toEqual(range(1, lastSent.get(r)!));
    }
    expect(connects).toBe(6);
    expect(syncErrors).toEqual([]);
    client.close();
  }, 20_000);
});
