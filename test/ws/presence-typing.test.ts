// Issue 4: presence (online at the first socket, offline after PRESENCE_GRACE, only to roommates,
// GET /presence) and typing (others only, expiry, explicit stop, membership, rate limit).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { clockPast, makeTenant, type Frame, type WsConn } from "./ws-helpers";

const GRACE_MS = 400;
const TYPING_MS = 300;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ PRESENCE_GRACE: `${GRACE_MS}ms`, TYPING_TIMEOUT: `${TYPING_MS}ms` });
});
afterAll(() => s.stop());

const presenceOf = (c: WsConn, userId: string, from = 0): Frame[] => c.frames.slice(from).filter((f) => f.type === "presence.update" && f.user_id === userId);
const typingIn = (c: WsConn, roomId?: string, from = 0): Frame[] => c.frames.slice(from).filter((f) => f.type === "typing" && (roomId === undefined || f.room_id === roomId));

describe("presence", () => {
  test("online goes to roommates at a user's first socket, once; never to users who share no room or to another tenant", async () => {
    const t = await makeTenant(s, "pres-online");
    const other = await makeTenant(s, "pres-other");
    await t.room("alice", ["bob"]);
    await t.room("carol", ["dave"]);
    await other.room("bob", ["zed"]);
    const bob = await t.connect("bob");
    const carol = await t.connect("carol");
    const otherBob = await other.connect("bob");

    const before = Date.now();
    const a1 = await t.connect("alice");
    const online = await bob.waitForFrame((f) => f.type === "presence.update" && f.user_id === "alice", 3000, "alice online");
    expect(Object.keys(online).sort()).toEqual(["last_seen", "status", "type", "user_id"]);
    expect(online.status).toBe("online");
    expect(Date.parse(online.last_seen)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(online.last_seen)).toBeLessThanOrEqual(Date.now() + 1);

    const a2 = await t.connect("alice");
    for (const c of [bob, carol, otherBob]) await c.barrier();
    expect(presenceOf(bob, "alice")).toHaveLength(1);
    expect(presenceOf(carol, "alice")).toEqual([]);
    expect(presenceOf(otherBob, "alice")).toEqual([]);
    // The subject's own sockets are not told about themselves.
    expect(presenceOf(a1, "alice")).toEqual([]);
    for (const c of [a1, a2, bob, carol, otherBob]) await c.close();
  });

  test("rooms over PRESENCE_ROOM_LIMIT carry no presence; small rooms of the same user still do", async () => {
    const small = await startTestServer({ PRESENCE_ROOM_LIMIT: "2" });
    try {
      const t = await makeTenant(small, "pres-limit");
      await t.room("alice", ["bob"]); // 2 members: carries presence
      await t.room("alice", ["carol", "dave"]); // 3 members: over the limit
      const bob = await t.connect("bob");
      const carol = await t.connect("carol");
      const alice = await t.connect("alice");
      await bob.waitForFrame((f) => f.type === "presence.update" && f.user_id === "alice", 3000, "alice online in the small room");
      await carol.barrier();
      expect(presenceOf(carol, "alice")).toEqual([]);
      for (const c of [alice, bob, carol]) await c.close();
    } finally {
      await small.stop();
    }
  });

  test("offline after PRESENCE_GRACE with last_seen once the last socket closes; closing one of two sends nothing", async () => {
    const t = await makeTenant(s, "pres-offline");
    await t.room("alice", ["bob"]);
    const bob = await t.connect("bob");
    const a1 = await t.connect("alice");
    const a2 = await t.connect("alice");
    await bob.waitForFrame((f) => f.type === "presence.update" && f.user_id === "alice");
    const mark = bob.mark;

    const firstClosed = Date.now();
    await a1.close();
    await clockPast(firstClosed, GRACE_MS + 100);
    await bob.barrier();
    expect(presenceOf(bob, "alice", mark)).toEqual([]);

    const closing = Date.now();
    await a2.close();
    const closed = Date.now();
    const offline = await bob.waitForFrame((f) => f.type === "presence.update" && f.user_id === "alice" && f.status === "offline", GRACE_MS + 3000, "alice offline", mark);
    const heardAt = Date.now();
    // last_seen is when the last socket closed, not when the grace ran out.
    expect(Date.parse(offline.last_seen)).toBeGreaterThanOrEqual(closing - 1);
    expect(Date.parse(offline.last_seen)).toBeLessThanOrEqual(closed + 1);
    expect(heardAt - closing).toBeGreaterThanOrEqual(GRACE_MS - 20);
    expect(presenceOf(bob, "alice", mark)).toHaveLength(1);

    const r = await t.as("bob").get("/presence?user_ids=alice");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ presence: [{ user_id: "alice", status: "offline", last_seen: offline.last_seen }] });
    await bob.close();
  });

  test("a reconnect within the grace sends nothing", async () => {
    const t = await makeTenant(s, "pres-blip");
    await t.room("alice", ["bob"]);
    const bob = await t.connect("bob");
    const a1 = await t.connect("alice");
    await bob.waitForFrame((f) => f.type === "presence.update" && f.user_id === "alice");
    const mark = bob.mark;

    const closing = Date.now();
    await a1.close();
    const a2 = await t.connect("alice");
    expect(Date.now() - closing).toBeLessThan(GRACE_MS);
    await clockPast(closing, GRACE_MS + 150);
    await bob.barrier();
    expect(presenceOf(bob, "alice", mark)).toEqual([]);
    const r = await t.as("bob").get("/presence?user_ids=alice");
    expect(r.body.presence).toMatchObject([{ user_id: "alice", status: "online" }]);
    for (const c of [a2, bob]) await c.close();
  });

  test("GET /presence reports roommates only; a single value is split at commas, repeated values are not", async () => {
    const t = await makeTenant(s, "pres-get");
    await t.room("alice", ["bob", "x,y", "never"]);
    await t.room("carol", ["dave"]);
    const bob = await t.connect("bob");
    const carol = await t.connect("carol");
    const as = t.as("alice");

    const before = Date.now();
    const split = await as.get(`/presence?user_ids=${encodeURIComponent("bob,carol,x,y,never,nobody")}`);
    expect(split.status).toBe(200);
    // carol is online but shares no room; "x" and "y" are not users; "nobody" exists nowhere.
    expect(split.body.presence.map((p: any) => p.user_id)).toEqual(["bob", "never"]);
    const [bobView, neverView] = split.body.presence;
    expect(bobView.status).toBe("online");
    // last_seen is now while online.
    expect(Date.parse(bobView.last_seen)).toBeGreaterThanOrEqual(before - 1);
    expect(neverView).toEqual({ user_id: "never", status: "offline", last_seen: null });

    const repeated = await as.get(`/presence?user_ids=${encodeURIComponent("x,y")}&user_ids=bob&user_ids=carol`);
    expect(repeated.status).toBe(200);
    expect(repeated.body.presence.map((p: any) => [p.user_id, p.status])).toEqual([
      ["x,y", "offline"],
      ["bob", "online"],
    ]);

    // Asking about oneself, with no roommate online, and a missing parameter.
    expect((await t.as("carol").get("/presence?user_ids=bob")).body).toEqual({ presence: [] });
    expect((await as.get("/presence")).status).toBe(400);
    expect((await s.client(t.api_key).get("/presence?user_ids=bob")).status).toBe(400);
    for (const c of [bob, carol]) await c.close();
  });
});

describe("typing", () => {
  test("typing frames go to the other members only, never to the typist's own sockets; stop is explicit", async () => {
    const t = await makeTenant(s, "typing");
    const room = await t.room("alice", ["bob"]);
    await t.room("carol", ["bob"]);
    const a1 = await t.connect("alice");
    const a2 = await t.connect("alice");
    const bob = await t.connect("bob");
    const carol = await t.connect("carol");

    expect(await a1.call("typing.start", { room_id: room })).toEqual({});
    const start = await bob.waitForFrame((f) => f.type === "typing", 3000, "typing start");
    expect(start).toEqual({ type: "typing", room_id: room, user_id: "alice", action: "start" });
    expect(await a1.call("typing.stop", { room_id: room })).toEqual({});
    const stop = await bob.waitForFrame((f) => f.type === "typing" && f.action === "stop", 3000, "typing stop");
    expect(stop).toEqual({ type: "typing", room_id: room, user_id: "alice", action: "stop" });
    for (const c of [a1, a2, carol]) {
      await c.barrier();
      expect(typingIn(c)).toEqual([]);
    }
    expect(typingIn(bob)).toHaveLength(2);
    // A stop with nothing started sends nothing.
    expect(await a1.call("typing.stop", { room_id: room })).toEqual({});
    await bob.barrier();
    expect(typingIn(bob)).toHaveLength(2);
    for (const c of [a1, a2, bob, carol]) await c.close();
  });

  test("a start without a stop expires after TYPING_TIMEOUT with a stop", async () => {
    const t = await makeTenant(s, "typing-expiry");
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const startedAt = Date.now();
    await alice.call("typing.start", { room_id: room });
    await bob.waitForFrame((f) => f.type === "typing" && f.action === "start");
    const stop = await bob.waitForFrame((f) => f.type === "typing" && f.action === "stop", TYPING_MS + 3000, "expiry stop");
    expect(stop).toEqual({ type: "typing", room_id: room, user_id: "alice", action: "stop" });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(TYPING_MS - 20);
    expect(typingIn(bob)).toHaveLength(2);
    for (const c of [alice, bob]) await c.close();
  });

  test("typing in a room one is not a member of gets error forbidden (another tenant's room: not_found)", async () => {
    const t = await makeTenant(s, "typing-forbidden");
    const other = await makeTenant(s, "typing-other");
    const room = await t.room("alice", ["bob"]);
    const foreign = await other.room("alice", ["bob"]);
    const bob = await t.connect("bob");
    const carol = await t.connect("carol");
    const r = await carol.request("typing.start", { room_id: room });
    expect(r).toEqual({ type: "error", id: r.id, error: "forbidden", message: expect.any(String) });
    expect(await carol.request("typing.stop", { room_id: room })).toMatchObject({ type: "error", error: "forbidden" });
    expect(await bob.request("typing.start", { room_id: foreign })).toMatchObject({ type: "error", error: "not_found" });
    await bob.barrier();
    expect(typingIn(bob)).toEqual([]);
    for (const c of [bob, carol]) await c.close();
  });

  test("more than 10 quick typing frames get rate_limit_exceeded with retry_after_ms; the socket stays open", async () => {
    const t = await makeTenant(s, "typing-rate");
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    const answers = await Promise.all(Array.from({ length: 14 }, () => alice.request("typing.start", { room_id: room })));
    const limited = answers.filter((a) => a.type === "error");
    expect(answers.slice(0, 10).every((a) => a.type === "reply")).toBe(true);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    for (const e of limited) {
      expect(e.error).toBe("rate_limit_exceeded");
      expect(e.retry_after_ms).toBeGreaterThan(0);
    }
    await alice.barrier();
    expect(alice.closeInfo).toBeUndefined();
    // Refreshes of an ongoing start are not repeated to others.
    await bob.barrier();
    expect(typingIn(bob, room).filter((f) => f.action === "start")).toHaveLength(1);
    for (const c of [alice, bob]) await c.close();
  });

  test("the typist's last socket closing stops the indicator at once", async () => {
    const t = await makeTenant(s, "typing-gone");
    const room = await t.room("alice", ["bob"]);
    const alice = await t.connect("alice");
    const bob = await t.connect("bob");
    await alice.call("typing.start", { room_id: room });
    await bob.waitForFrame((f) => f.type === "typing" && f.action === "start");
    const closing = Date.now();
    await alice.close();
    await bob.waitForFrame((f) => f.type === "typing" && f.action === "stop", 3000, "stop on disconnect");
    expect(Date.now() - closing).toBeLessThan(TYPING_MS);
    await bob.close();
  });
});
