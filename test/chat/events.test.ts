// Live events: every state change publishes its frame on the bus after COMMIT, with the docs/reference/rest.md fields.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Frame } from "../../src/bus/bus";
import { RecordingBus, type BusEvent } from "../../src/bus/recording";
import type { Store } from "../../src/storage/store";
import { startTestServer, type RestClient, type TestServer } from "../helpers";
import { reopenStore } from "../support/store";

let s: TestServer;
/** A second store on the same database: it sees only committed data. */
let reader: Store;

/** What that second store said when the event was published (the read is issued at publish time). */
interface Seen {
  event: BusEvent;
  committed: Promise<boolean>;
}

/** Records each event plus whether its effect was already committed at publish time. */
class CommitCheckingBus extends RecordingBus {
  readonly seen: Seen[] = [];
  private record(event: BusEvent) {
    this.seen.push({ event, committed: committedNow(event) });
  }
  override toRoom(tenantId: string, roomId: string, frame: Frame): void {
    super.toRoom(tenantId, roomId, frame);
    this.record({ to: "room", tenantId, roomId, frame });
  }
  override toUser(tenantId: string, userId: string, frame: Frame): void {
    super.toUser(tenantId, userId, frame);
    this.record({ to: "user", tenantId, userId, frame });
  }
  override membership(tenantId: string, roomId: string, userId: string, joined: boolean): void {
    super.membership(tenantId, roomId, userId, joined);
    this.record({ to: "membership", tenantId, roomId, userId, joined });
  }
}

async function committedNow(e: BusEvent): Promise<boolean> {
  const member = (roomId: string, userId: string) => reader.rooms.member(e.tenantId, roomId, userId);
  if (e.to === "membership") return ((await member(e.roomId, e.userId)) !== null) === e.joined;
  if (e.to !== "room") return true;
  const f = e.frame as any;
  switch (f.type) {
    case "message":
    case "message.edited":
    case "message.deleted": {
      const row = await reader.messages.byId(e.tenantId, f.message_id);
      return row !== null && row.seq === f.seq && row.content === f.content && row.edited_at === f.edited_at && row.deleted_at === f.deleted_at;
    }
    case "ack.received":
      return (await member(f.room_id, f.user_id))?.last_ack === f.seq;
    case "room.updated": {
      const row = await reader.rooms.get(e.tenantId, f.room_id);
      return row?.name === f.name && row?.updated_at === f.updated_at;
    }
    case "member.joined":
      return (await member(f.room_id, f.user_id))?.role === f.role;
    case "member.left":
      return (await member(f.room_id, f.user_id)) === null;
    default:
      return false;
  }
}

const bus = new CommitCheckingBus();
// The tap sees what the in-process node publishes, so requests go to that node (s.node): in cluster
// mode, behind the balancer, half of them would be published by the other node, out of sight. The
// frames still travel through Redis; test/cluster/ checks they reach sockets on every node.

beforeAll(async () => {
  s = await startTestServer();
  s.api.bus.tap(bus);
  reader = await reopenStore(s.api, { readOnly: true });
});
afterAll(async () => {
  await reader.close();
  await s.stop();
});

async function setup() {
  const t = await s.createTenant("events", { user_message_rate: 1000 });
  const as = (u: string): RestClient => s.node.client(t.api_key, u);
  const room = await as("owner").post("/rooms", { type: "group", name: "g", members: ["a", "b"] });
  expect(room.status).toBe(201);
  const roomId: string = room.body.room_id;
  const mark = bus.seen.length;
  /** Events for this room since `since` (default: since setup). */
  const since = (from = mark) => bus.seen.slice(from).filter((x) => "roomId" in x.event && x.event.roomId === roomId);
  return { t, as, roomId, room: room.body, since, now: () => bus.seen.length };
}

/** Every recorded event was published after its effect committed (another connection saw it then). */
async function expectAfterCommit(seen: Seen[]) {
  expect(seen.length).toBeGreaterThan(0);
  for (const x of seen) expect({ frame: x.event, committed: await x.committed }).toEqual({ frame: x.event, committed: true });
}

const frames = (seen: Seen[]) => seen.filter((x) => x.event.to === "room").map((x) => (x.event as { frame: Frame }).frame);

describe("message events", () => {
  test("send publishes `message` with the Message fields, once, after commit; no ack.received for the sender", async () => {
    const f = await setup();
    const r = await f.as("a").post(`/rooms/${f.roomId}/messages`, { content: "hello", meta: { k: [1] }, client_msg_id: "c1" });
    expect(r.status).toBe(201);
    const seen = f.since();
    await expectAfterCommit(seen);
    expect(seen.map((x) => x.event.tenantId)).toEqual([f.t.tenant_id]);
    expect(frames(seen)).toEqual([{ type: "message", ...r.body }]);
    // A retry with the same client_msg_id publishes nothing.
    const mark = f.now();
    expect((await f.as("a").post(`/rooms/${f.roomId}/messages`, { content: "hello", client_msg_id: "c1" })).status).toBe(200);
    expect(f.since(mark)).toEqual([]);
  });

  test("edit publishes `message.edited` and delete publishes `message.deleted` (the tombstone), after commit", async () => {
    const f = await setup();
    const m = await f.as("a").post(`/rooms/${f.roomId}/messages`, { content: "v1" });
    const mark = f.now();
    const e = await f.as("a").patch(`/rooms/${f.roomId}/messages/${m.body.message_id}`, { content: "v2" });
    expect(e.status).toBe(200);
    expect(frames(f.since(mark))).toEqual([{ type: "message.edited", ...e.body }]);
    expectAfterCommit(f.since(mark));
    const mark2 = f.now();
    expect((await f.as("owner").del(`/rooms/${f.roomId}/messages/${m.body.message_id}`)).status).toBe(204);
    const tomb = (await f.as("b").get(`/rooms/${f.roomId}/messages/${m.body.message_id}`)).body;
    expect(tomb).toMatchObject({ seq: 1, content: "", meta: null });
    expect(frames(f.since(mark2))).toEqual([{ type: "message.deleted", ...tomb }]);
    expectAfterCommit(f.since(mark2));
  });

  test("concurrent deletes of one message publish message.deleted once", async () => {
    const f = await setup();
    const m = await f.as("a").post(`/rooms/${f.roomId}/messages`, { content: "x" });
    const mark = f.now();
    const path = `/rooms/${f.roomId}/messages/${m.body.message_id}`;
    const res = await Promise.all([f.as("a").del(path), f.as("owner").del(path), f.as("a").del(path)]);
    expect(res.map((r) => r.status)).toEqual([204, 204, 204]);
    expect(frames(f.since(mark)).map((x) => x.type)).toEqual(["message.deleted"]);
  });

  test("refused operations publish nothing", async () => {
    const f = await setup();
    const m = await f.as("a").post(`/rooms/${f.roomId}/messages`, { content: "x" });
    const mark = f.now();
    expect((await f.as("b").patch(`/rooms/${f.roomId}/messages/${m.body.message_id}`, { content: "no" })).status).toBe(403);
    expect((await f.as("b").del(`/rooms/${f.roomId}/messages/${m.body.message_id}`)).status).toBe(403);
    expect((await f.as("stranger").post(`/rooms/${f.roomId}/messages`, { content: "no" })).status).toBe(403);
    expect((await f.as("a").post(`/rooms/${f.roomId}/messages`, { content: "" })).status).toBe(400);
    expect((await f.as("b").patch(`/rooms/${f.roomId}`, { name: "no" })).status).toBe(403);
    expect((await f.as("b").post(`/rooms/${f.roomId}/members`, { user_ids: ["z"] })).status).toBe(403);
    expect((await f.as("b").post("/acks", { room_id: f.roomId, seq: 9 })).status).toBe(400);
    expect(f.since(mark)).toEqual([]);
  });
});

describe("ack events", () => {
  test("an ack that moves last_ack publishes ack.received {room_id, seq, user_id}; one that doesn't publishes nothing", async () => {
    const f = await setup();
    for (let i = 0; i < 3; i++) await f.as("a").post(`/rooms/${f.roomId}/messages`, { content: `m${i}` });
    const mark = f.now();
    expect((await f.as("b").post("/acks", { room_id: f.roomId, seq: 2 })).status).toBe(200);
    expect(frames(f.since(mark))).toEqual([{ type: "ack.received", room_id: f.roomId, seq: 2, user_id: "b" }]);
    expectAfterCommit(f.since(mark));
    const mark2 = f.now();
    expect((await f.as("b").post("/acks", { room_id: f.roomId, seq: 1 })).body.last_ack).toBe(2);
    expect((await f.as("b").post("/acks", { room_id: f.roomId, seq: 2 })).body.last_ack).toBe(2);
    expect(f.since(mark2)).toEqual([]);
  });
});

describe("room and member events", () => {
  test("PATCH room publishes room.updated with the Room fields and the room's type as room_type", async () => {
    const f = await setup();
    const mark = f.now();
    const r = await f.as("owner").patch(`/rooms/${f.roomId}`, { name: "renamed", metadata: [1, 2] });
    expect(r.status).toBe(200);
    const { type, ...rest } = r.body;
    expect(type).toBe("group");
    expect(frames(f.since(mark))).toEqual([{ ...rest, type: "room.updated", room_type: "group" }]);
    expectAfterCommit(f.since(mark));
  });

  test("creating a room subscribes every member's sockets (membership events) after commit", async () => {
    const t = await s.createTenant("events-create");
    const mark = bus.seen.length;
    const r = await s.node.client(t.api_key, "o").post("/rooms", { type: "group", members: ["p", "q"] });
    const seen = bus.seen.slice(mark).filter((x) => "roomId" in x.event && x.event.roomId === r.body.room_id);
    await expectAfterCommit(seen);
    expect(seen.map((x) => x.event)).toEqual(["o", "p", "q"].map((u) => ({ to: "membership", tenantId: t.tenant_id, roomId: r.body.room_id, userId: u, joined: true })));
    // An existing DM returned again publishes nothing new.
    const dm = await s.node.client(t.api_key, "o").post("/rooms", { type: "dm", members: ["p"] });
    const mark2 = bus.seen.length;
    expect((await s.node.client(t.api_key, "p").post("/rooms", { type: "dm", members: ["o"] })).body.room_id).toBe(dm.body.room_id);
    expect(bus.seen.slice(mark2)).toEqual([]);
  });

  test("adding members subscribes them, then publishes member.joined {room_id, user_id, role}; re-adding publishes nothing", async () => {
    const f = await setup();
    const mark = f.now();
    expect((await f.as("owner").post(`/rooms/${f.roomId}/members`, { user_ids: ["c", "a"], role: "admin" })).status).toBe(200);
    const seen = f.since(mark);
    await expectAfterCommit(seen);
    expect(seen.map((x) => x.event)).toEqual([
      { to: "membership", tenantId: f.t.tenant_id, roomId: f.roomId, userId: "c", joined: true },
      { to: "room", tenantId: f.t.tenant_id, roomId: f.roomId, frame: { type: "member.joined", room_id: f.roomId, user_id: "c", role: "admin" } },
    ]);
    const mark2 = f.now();
    await f.as("owner").post(`/rooms/${f.roomId}/members`, { user_ids: ["c"] });
    expect(f.since(mark2)).toEqual([]);
  });

  test("a channel self-join publishes member.joined", async () => {
    const t = await s.createTenant("events-channel");
    const ch = await s.node.client(t.api_key, "o").post("/rooms", { type: "channel" });
    const mark = bus.seen.length;
    await s.node.client(t.api_key, "j").post(`/rooms/${ch.body.room_id}/members`, { user_ids: ["j"] });
    const seen = bus.seen.slice(mark).filter((x) => "roomId" in x.event && x.event.roomId === ch.body.room_id);
    await expectAfterCommit(seen);
    expect(frames(seen)).toEqual([{ type: "member.joined", room_id: ch.body.room_id, user_id: "j", role: "member" }]);
  });

  test("removal and leaving publish member.left {room_id, user_id, role} to the room, then unsubscribe the user", async () => {
    const f = await setup();
    await f.as("owner").patch(`/rooms/${f.roomId}/members/a`, { role: "admin" });
    const mark = f.now();
    expect((await f.as("owner").del(`/rooms/${f.roomId}/members/a`)).status).toBe(204);
    expect((await f.as("b").del(`/rooms/${f.roomId}/members/b`)).status).toBe(204);
    const seen = f.since(mark);
    await expectAfterCommit(seen);
    const tenantId = f.t.tenant_id;
    expect(seen.map((x) => x.event)).toEqual([
      { to: "room", tenantId, roomId: f.roomId, frame: { type: "member.left", room_id: f.roomId, user_id: "a", role: "admin" } },
      { to: "membership", tenantId, roomId: f.roomId, userId: "a", joined: false },
      { to: "room", tenantId, roomId: f.roomId, frame: { type: "member.left", room_id: f.roomId, user_id: "b", role: "member" } },
      { to: "membership", tenantId, roomId: f.roomId, userId: "b", joined: false },
    ]);
  });
});
