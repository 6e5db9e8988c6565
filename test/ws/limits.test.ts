// Issue 4: connection limits and close codes (1008 per-user limit, 1009 frame size, 1013 slow
// consumer), shutdown (server.shutdown then 1001) and the active_connections metric.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createChatClient, type Message } from "../../src/client";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { clockPast, makeTenant, sendMany, openWs, range, rawHandshake, wireCloseCode, within, type WsConn } from "./ws-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ WS_BACKPRESSURE_BYTES: "65536" });
});
afterAll(() => s.stop());

async function connectRaw(srv: TestServer, headers: Record<string, string>): Promise<WsConn> {
  const c = openWs(srv.wsUrl, { headers });
  await c.waitForFrame((f) => f.type === "sync.complete", 10_000, "sync.complete");
  return c;
}

/** active_connections summed over every node (metrics are per node; in cluster mode sockets are spread). */
async function activeConnections(srv: TestServer): Promise<number> {
  let n = 0;
  for (const url of srv.nodeUrls) {
    const r = await fetch(`${url}/metrics?format=json`);
    expect(r.status).toBe(200);
    n += ((await r.json()) as { active_connections: number }).active_connections;
  }
  return n;
}

describe("limits", () => {
  test("a 6th socket of one user is closed with 1008; the user's other sockets and other users are unaffected", async () => {
    const t = await makeTenant(s, "conn-limit");
    const room = await t.room("alice", ["bob"]);
    const five: WsConn[] = [];
    for (let i = 0; i < 5; i++) five.push(await t.connect("alice"));
    const active = await activeConnections(s);
    const sixth = openWs(s.wsUrl, { headers: t.headers("alice") });
    const closed = await within(sixth.closed, 3000, "close of the 6th socket");
    expect(closed.code).toBe(1008);
    // Closed at open: it never got `connected`, and it was never counted.
    expect(sixth.frames).toEqual([]);
    expect(await s.sockets(t.tenant_id, "alice")).toBe(5);
    expect(await activeConnections(s)).toBe(active);

    const bob = await t.connect("bob");
    const sent = await bob.call("send_message", { room_id: room, content: "to all five" });
    for (const c of five) {
      const m = await c.waitForFrame((f) => f.type === "message" && f.seq === sent.seq);
      expect(m.message_id).toBe(sent.message_id);
      expect(c.closeInfo).toBeUndefined();
    }
    // The limit is per tenant + user: the same user id in another tenant is someone else.
    const other = await makeTenant(s, "conn-limit-other");
    const otherAlice = await other.connect("alice");
    expect(otherAlice.closeInfo).toBeUndefined();
    await otherAlice.close();
    // A slot freed by a close can be used again.
    await five.pop()!.close();
    await waitFor(async () => (await s.sockets(t.tenant_id, "alice")) === 4, 3000, "slot freed");
    five.push(await t.connect("alice"));
    for (const c of [...five, bob]) await c.close();
  });

  test("a frame over 64 KiB closes the socket with 1009; one below the limit gets an error frame", async () => {
    const t = await makeTenant(s, "frame-size");
    const room = await t.room("alice", ["bob"]);
    const other = await t.connect("alice");
    const c = await t.connect("alice");
    // 60 KiB fits the frame limit: the content limit answers with an error and the socket lives.
    const under = await c.request("send_message", { room_id: room, content: "x".repeat(60 * 1024) });
    expect(under).toMatchObject({ type: "error", error: "invalid_request" });
    await c.barrier();
    c.send(JSON.stringify({ type: "send_message", data: { room_id: room, content: "x".repeat(70 * 1024) } }));
    expect((await within(c.closed, 3000, "close 1009")).code).toBe(1009);
    await other.barrier();
    await other.close();
  });

  test("a non-reading consumer over WS_BACKPRESSURE_BYTES is closed with 1013 while others keep receiving; it recovers by replay", async () => {
    const t = await makeTenant(s, "slow", { user_message_rate: 100_000 });
    const room = await t.room("alice", ["bob", "slow"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const raw = await rawHandshake(s.url, "/ws", t.headers("slow"), { pauseAfterHead: true });
    expect(raw.status).toBe(101);
    await waitFor(async () => (await s.sockets(t.tenant_id, "slow")) === 1, 3000, "slow socket registered");

    // ~4 KB messages until the server gives up on the socket that never reads (kernel buffers first).
    const content = "s".repeat(3990);
    let sent = 0;
    while ((await s.sockets(t.tenant_id, "slow")) > 0) {
      expect(sent).toBeLessThan(20_000);
      const batch = [];
      for (let i = 0; i < 20; i++) batch.push(alice.call("send_message", { room_id: room, content }));
      await Promise.all(batch);
      sent += 20;
    }
    const closeLog = await waitFor(() => s.logs.find((l) => l.includes("closing slow consumer") && l.includes(t.tenant_id)), 3000, "slow consumer log line");
    const line = JSON.parse(closeLog);
    expect(line).toMatchObject({ tenant_id: t.tenant_id, user_id: "slow" });
    expect(line.buffered).toBeGreaterThan(65536);

    // Read what the server did send: its close frame carries 1013.
    raw.socket.resume();
    await within(raw.closed, 5000, "the slow socket's TCP close");
    expect(wireCloseCode(raw.tail())).toBe(1013);

    // The reading member got every message once, in order, and stayed connected.
    await bob.waitUntil((fs) => fs.filter((f) => f.type === "message").length >= sent, 10_000, `${sent} messages`);
    await bob.barrier();
    expect(bob.messages(room).map((m) => m.seq)).toEqual(range(1, sent));
    expect(bob.closeInfo).toBeUndefined();

    // The slow user reconnects normally: the newest 100 replayed, the rest announced and paged with sync.
    const back = await t.connect("slow");
    const gap = back.ofType("sync.gap");
    expect(gap).toEqual([{ type: "sync.gap", room_id: room, from_seq: 1, to_seq: sent - 100 }]);
    const replayed = back.messages(room).map((m) => m.seq);
    expect(replayed).toEqual(range(sent - 99, sent));
    const paged: number[] = [];
    let after = 0;
    for (;;) {
      const page = await back.call("sync", { room_id: room, after_seq: after, before_seq: sent - 99, limit: 200 }, 10_000);
      paged.push(...page.messages.map((m: any) => m.seq));
      if (!page.has_more) break;
      after = page.messages.at(-1).seq;
    }
    expect([...paged, ...replayed]).toEqual(range(1, sent));
    for (const c of [alice, bob, back]) await c.close();
  }, 20_000);
});

describe("replay of a big backlog", () => {
  // Regression: the replay used to be written whole and the socket closed with 1013 when it did not
  // fit the socket buffers; the replay being the same at every reconnect, such a user never connected.
  test("a backlog far over WS_BACKPRESSURE_BYTES: rooms that do not fit get sync.gap, the socket stays open, the client catches up", async () => {
    const u = await startTestServer({ WS_BACKPRESSURE_BYTES: "262144" });
    try {
      const t = await makeTenant(u, "backlog", { user_message_rate: 100_000, max_message_bytes: 8192 });
      const rooms: string[] = [];
      const perRoom = 100;
      for (let i = 0; i < 8; i++) {
        const r = await t.room("alice", ["bob"]);
        rooms.push(r);
        await sendMany(t.as("alice"), r, perRoom, { concurrency: 50, content: (j) => `${j}`.padEnd(8000, ".") });
      }
      // ~6.5 MB of replay: more than the kernel takes at once on this machine, far over the limit.
      const raw = await connectRaw(u, t.headers("bob"));
      expect(raw.closeInfo).toBeUndefined();
      const end = raw.frames.findIndex((f) => f.type === "sync.complete");
      expect(raw.frames[end]).toEqual({ type: "sync.complete", rooms: 8 });
      const replayed = new Set(raw.messages().map((m) => m.room_id));
      const gapped = raw.ofType("sync.gap");
      // Every room is either replayed whole or announced whole, and at least one is replayed.
      expect(replayed.size).toBeGreaterThanOrEqual(1);
      expect(replayed.size + gapped.length).toBe(8);
      for (const g of gapped) expect(g).toEqual({ type: "sync.gap", room_id: g.room_id, from_seq: 1, to_seq: perRoom });
      for (const r of replayed) expect(raw.messages(r).map((m) => m.seq)).toEqual(range(1, perRoom));
      await raw.barrier();
      await raw.close();

      const client = createChatClient({ url: u.wsUrl, apiKey: t.api_key, userId: "bob", syncPageSize: 20, maxConcurrentSyncs: 1, reconnectBaseDelayMs: 10 });
      const got = new Map<string, number[]>(rooms.map((r) => [r, []]));
      let connects = 0;
      client.on("connected", () => connects++);
      client.on("message", (m: Message) => got.get(m.room_id)!.push(m.seq));
      for (const r of rooms) client.seed(r, 0);
      await client.connect();
      await waitFor(() => rooms.every((r) => client.getLastSeq(r) === perRoom), 15_000, "client caught up in every room");
      for (const r of rooms) expect(got.get(r)).toEqual(range(1, perRoom));
      expect(connects).toBe(1);
      client.close();
    } finally {
      await u.stop();
    }
  }, 30_000);
});

describe("liveness", () => {
  test("a peer that never answers pings is closed after two heartbeats; a live client stays connected", async () => {
    const u = await startTestServer({ WS_HEARTBEAT: "100ms" });
    try {
      const t = await makeTenant(u, "heartbeat");
      const live = await t.connect("live");
      const raw = await rawHandshake(u.url, "/ws", t.headers("dead"), { pauseAfterHead: true });
      expect(raw.status).toBe(101);
      await waitFor(async () => (await u.sockets(t.tenant_id, "dead")) === 1, 3000, "dead peer registered");
      const since = Date.now();
      await waitFor(async () => (await u.sockets(t.tenant_id, "dead")) === 0, 3000, "dead peer closed");
      expect(Date.now() - since).toBeLessThan(1000);
      // Bun's client answers the pings by itself: still connected well after several beats.
      await clockPast(since, 350);
      await live.barrier();
      expect(live.closeInfo).toBeUndefined();
      expect(await u.sockets(t.tenant_id, "live")).toBe(1);
      raw.socket.end();
      await live.close();
    } finally {
      await u.stop();
    }
  });
});

describe("metrics", () => {
  test("active_connections goes up and down with sockets", async () => {
    const t = await makeTenant(s, "metrics");
    const base = await activeConnections(s);
    const socks = [await t.connect("a"), await t.connect("a"), await t.connect("b")];
    expect(await activeConnections(s)).toBe(base + 3);
    await socks[0]!.close();
    await socks[2]!.close();
    await waitFor(async () => (await activeConnections(s)) === base + 1, 3000, "active_connections back to base + 1");
    await socks[1]!.close();
    await waitFor(async () => (await activeConnections(s)) === base, 3000, "active_connections back to base");
  });
});

describe("shutdown", () => {
  test("api.stop() sends server.shutdown {reconnect_after_ms} and then closes every socket with 1001", async () => {
    const u = await startTestServer();
    try {
      const t = await makeTenant(u, "shutdown");
      await t.room("alice", ["bob"]);
      // Sockets on the node being stopped (in cluster mode, not the other node's, which stays up).
      const on = { url: u.node.wsUrl };
      const socks = [await t.connect("alice", on), await t.connect("alice", on), await t.connect("bob", on)];
      for (const c of socks) await c.barrier();
      const stopping = u.api.stop();
      for (const c of socks) {
        const info = await within(c.closed, 5000, "close 1001");
        expect(info.code).toBe(1001);
        const last = c.frames.at(-1)!;
        expect(last.type).toBe("server.shutdown");
        expect(Object.keys(last).sort()).toEqual(["reconnect_after_ms", "type"]);
        expect(Number.isInteger(last.reconnect_after_ms) && last.reconnect_after_ms > 0).toBe(true);
      }
      await stopping;
    } finally {
      await u.stop();
    }
  });
});
