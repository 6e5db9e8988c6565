// Issue 13 (docs/reference/limits.md): the connect replay runs in steps (many rooms) without letting a live
// frame of a room overtake that room's replay; notifications replay within the byte guard and a slow
// reader gets 1013; typing is one publish per room; unread counts stay exact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { makeTenant, rawHandshake, wireCloseCode, within } from "../ws/ws-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ WS_BACKPRESSURE_BYTES: "65536", WS_HEARTBEAT: "1s" });
});
afterAll(() => s.stop());

describe("connect replay in steps", () => {
  test("a user in 300 rooms gets every room replayed in seq order, and live frames never before their room's replay", async () => {
    const t = await makeTenant(s, "many-rooms", { user_message_rate: 100_000 });
    const rooms: string[] = [];
    for (let i = 0; i < 300; i += 25) rooms.push(...(await Promise.all(Array.from({ length: 25 }, () => t.room("alice", ["bob"])))));
    for (let i = 0; i < 300; i += 25) await Promise.all(rooms.slice(i, i + 25).map((r) => t.as("alice").post(`/rooms/${r}/messages`, { content: "before" })));
    const bob = await t.connect("bob", { waitSync: false });
    // Live messages while the replay may still be running.
    const live = await Promise.all(rooms.slice(0, 100).map((r) => t.as("alice").post(`/rooms/${r}/messages`, { content: "live" })));
    await bob.waitForFrame((f) => f.type === "sync.complete", 10_000, "sync.complete");
    await bob.waitUntil((fs) => fs.filter((f) => f.type === "message" && f.content === "live").length === 100, 10_000, "live frames");
    for (const r of rooms) {
      const seqs = bob.frames.filter((f) => f.type === "message" && f.room_id === r).map((f) => f.seq);
      // seq 1 (replayed) always before seq 2 (live or replayed); a seq may come twice (at-least-once), never out of order.
      expect(seqs[0]).toBe(1);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThanOrEqual(seqs[i - 1]!);
    }
    expect(live.every((m) => m.status === 201)).toBe(true);
    expect(s.api.gateway.registry.count(t.tenant_id, "bob")).toBe(1);
    await bob.close();
  }, 30_000);
});

describe("notification replay", () => {
  test("a slow reader during notification replay is closed with 1013 (nothing dropped silently)", async () => {
    const t = await makeTenant(s, "slow-notif");
    const k = s.client(t.api_key);
    // ~6 MB of unacked notifications: more than the kernel buffers and WS_BACKPRESSURE_BYTES.
    const payload = { blob: "n".repeat(15_000) };
    for (let i = 0; i < 400; i += 20) await Promise.all(Array.from({ length: 20 }, () => k.post("/notify", { topic: "big", payload, targets: { user_ids: ["slow"] } })));
    // Straight to node A (cluster mode: the registry checked below is node A's).
    const raw = await rawHandshake(s.api.url, "/ws", t.headers("slow"), { pauseAfterHead: true });
    expect(raw.status).toBe(101);
    // Closed by the replay well before the heartbeat (2 beats) would drop it.
    await waitFor(() => s.api.gateway.registry.count(t.tenant_id, "slow") === 0, 5000, "slow reader closed");
    raw.socket.resume();
    await within(raw.closed, 5000, "TCP close");
    expect(wireCloseCode(raw.tail())).toBe(1013);
  }, 30_000);

  test("a reader that keeps up gets every unacked notification, then sync.complete", async () => {
    const t = await makeTenant(s, "fast-notif");
    const k = s.client(t.api_key);
    const payload = { blob: "f".repeat(15_000) };
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) ids.push((await k.post("/notify", { topic: "big", payload, targets: { user_ids: ["fast"] } })).body.notification_id);
    const c = await t.connect("fast", { waitSync: false });
    await c.waitForFrame((f) => f.type === "sync.complete", 10_000, "sync.complete");
    expect(c.frames.filter((f) => f.type === "notification").map((f) => f.notification_id)).toEqual(ids);
    await c.close();
  }, 30_000);
});

describe("typing is one publish per room", () => {
  test("typing.start in a room of 40 online members is one publish; the typist's other socket gets nothing", async () => {
    // Its own server without presence frames: the publish counter then sees only the typing frame.
    const u = await startTestServer({ PRESENCE_ROOM_LIMIT: "0" });
    try {
      const t = await makeTenant(u, "typing-one");
      const members = Array.from({ length: 39 }, (_, i) => `m${i}`);
      const room = await t.room("typist", members, "channel");
      const socks = await Promise.all(members.map((m) => t.connect(m)));
      const typist = await t.connect("typist");
      const other = await t.connect("typist");
      // This process's publishes (cluster mode: node A's, which holds some of the sockets; node B
      // likewise makes one publish to its own sockets).
      const framesOut = async () => Number(/chatapi_ws_frames_out_total(?:\{[^}]*\})? (\d+)/.exec(await u.api.metrics.registry.metrics())?.[1] ?? NaN);
      const n0 = await framesOut();
      await typist.call("typing.start", { room_id: room });
      await Promise.all(socks.map((c) => c.waitForFrame((f) => f.type === "typing", 3000, "typing")));
      expect((await framesOut()) - n0).toBe(1);
      await other.barrier();
      expect(other.frames.some((f) => f.type === "typing")).toBe(false);
      expect(typist.frames.some((f) => f.type === "typing")).toBe(false);
      for (const c of [...socks, typist, other]) await c.close();
    } finally {
      await u.stop();
    }
  });
});

describe("acks", () => {
  test("unread_count stays exact with tombstones, a rejoined member's own old messages and a huge range", async () => {
    const t = await makeTenant(s, "acks-exact", { user_message_rate: 100_000 });
    const ch = await t.room("a", ["b"], "channel");
    for (let i = 0; i < 30; i++) await t.as(i % 3 === 0 ? "b" : "a").post(`/rooms/${ch}/messages`, { content: `m${i}` });
    // b leaves and rejoins: last_ack back to 0, b's own 10 messages are not unread for b.
    await t.as("b").del(`/rooms/${ch}/members/b`);
    await t.as("b").post(`/rooms/${ch}/members`, { user_ids: ["b"] });
    const hist = (await t.as("a").get(`/rooms/${ch}/messages?limit=200`)).body.messages;
    for (const m of hist.filter((m: any) => m.sender_id === "a").slice(0, 5)) await t.as("a").del(`/rooms/${ch}/messages/${m.message_id}`);
    const r = await t.as("b").post("/acks", { room_id: ch, seq: 0 });
    expect(r.body.unread_count).toBe(20 - 5);
    const mid = await t.as("b").post("/acks", { room_id: ch, seq: 15 });
    const now = (await t.as("a").get(`/rooms/${ch}/messages?limit=200`)).body.messages;
    const expected = now.filter((m: any) => m.seq > 15 && m.deleted_at === null && m.sender_id !== "b").length;
    expect(expected).toBeGreaterThan(0);
    expect(mid.body.unread_count).toBe(expected);
    const listed = (await t.as("b").get("/rooms")).body.rooms.find((x: any) => x.room_id === ch);
    expect(listed.unread_count).toBe(expected);
  });
});
