// Access rules on every room route: non-members get 403, other tenants get 404 (they cannot even
// learn that an id exists), channels are readable but not writable without membership.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function tenant(name = "iso") {
  const t = await s.createTenant(name);
  return { ...t, as: (u: string): RestClient => s.client(t.api_key, u) };
}

function expectError(r: Res, status: number, code: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
  expect(r.body.request_id).toBe(r.headers.get("x-request-id"));
}

interface Route {
  name: string;
  call: (c: RestClient) => Promise<Res>;
}

/** Every room-scoped route of docs/reference/rest.md, with a valid body. `member` is an existing member. */
function roomRoutes(roomId: string, messageId: string, member: string, self: string): Route[] {
  const r = `/rooms/${roomId}`;
  return [
    { name: "GET room", call: (c) => c.get(r) },
    { name: "PATCH room", call: (c) => c.patch(r, { name: "hijacked" }) },
    { name: "GET members", call: (c) => c.get(`${r}/members`) },
    { name: "POST members (other)", call: (c) => c.post(`${r}/members`, { user_ids: ["zed"] }) },
    { name: "POST members (self)", call: (c) => c.post(`${r}/members`, { user_ids: [self] }) },
    { name: "PATCH member", call: (c) => c.patch(`${r}/members/${member}`, { role: "admin" }) },
    { name: "DELETE member (other)", call: (c) => c.del(`${r}/members/${member}`) },
    { name: "DELETE member (self)", call: (c) => c.del(`${r}/members/${self}`) },
    { name: "POST message", call: (c) => c.post(`${r}/messages`, { content: "intruder" }) },
    { name: "GET messages", call: (c) => c.get(`${r}/messages`) },
    { name: "GET message", call: (c) => c.get(`${r}/messages/${messageId}`) },
    { name: "PATCH message", call: (c) => c.patch(`${r}/messages/${messageId}`, { content: "edited by intruder" }) },
    { name: "DELETE message", call: (c) => c.del(`${r}/messages/${messageId}`) },
    { name: "POST /acks", call: (c) => c.post("/acks", { room_id: roomId, seq: 0 }) },
  ];
}

/** A room of tenant A with one message; returns the ids and a checker that nothing changed. */
async function fixture(type: "group" | "dm" | "channel") {
  const a = await tenant("tenant-a");
  const alice = a.as("alice");
  const room = await alice.post("/rooms", { type, name: type === "dm" ? undefined : "private", members: type === "channel" ? [] : ["bob"] });
  expect(room.status).toBe(201);
  if (type === "channel") expect((await a.as("bob").post(`/rooms/${room.body.room_id}/members`, { user_ids: ["bob"] })).status).toBe(200);
  const msg = await alice.post(`/rooms/${room.body.room_id}/messages`, { content: "secret" });
  expect(msg.status).toBe(201);
  const unchanged = async () => {
    const got = await alice.get(`/rooms/${room.body.room_id}`);
    expect(got.body.name).toBe(room.body.name);
    expect(got.body.last_seq).toBe(1);
    const members = await alice.get(`/rooms/${room.body.room_id}/members`);
    expect(members.body.members.map((m: any) => m.user_id).sort()).toEqual(["alice", "bob"]);
    const m = await alice.get(`/rooms/${room.body.room_id}/messages/${msg.body.message_id}`);
    expect(m.body).toEqual(msg.body);
  };
  return { a, alice, roomId: room.body.room_id as string, messageId: msg.body.message_id as string, unchanged };
}

describe("non-members", () => {
  test("a non-member gets 403 on every route of a group and nothing changes", async () => {
    const f = await fixture("group");
    const mallory = f.a.as("mallory");
    for (const r of roomRoutes(f.roomId, f.messageId, "bob", "mallory")) {
      const res = await r.call(mallory);
      expect(`${r.name}: ${res.status} ${res.body?.error}`).toBe(`${r.name}: 403 forbidden`);
      expectError(res, 403, "forbidden");
    }
    await f.unchanged();
  });

  test("a non-member gets 403 (not 409) on every route of a DM and nothing changes", async () => {
    const f = await fixture("dm");
    const mallory = f.a.as("mallory");
    for (const r of roomRoutes(f.roomId, f.messageId, "bob", "mallory")) {
      const res = await r.call(mallory);
      expect(`${r.name}: ${res.status} ${res.body?.error}`).toBe(`${r.name}: 403 forbidden`);
    }
    await f.unchanged();
  });

  test("a removed member loses access at once", async () => {
    const f = await fixture("group");
    expect((await f.alice.del(`/rooms/${f.roomId}/members/bob`)).status).toBe(204);
    const bob = f.a.as("bob");
    expectError(await bob.get(`/rooms/${f.roomId}`), 403, "forbidden");
    expectError(await bob.get(`/rooms/${f.roomId}/messages`), 403, "forbidden");
    expectError(await bob.post(`/rooms/${f.roomId}/messages`, { content: "still here?" }), 403, "forbidden");
    expectError(await bob.post("/acks", { room_id: f.roomId, seq: 1 }), 403, "forbidden");
  });
});

describe("channels", () => {
  test("any tenant user reads a channel (room, history, members, one message) without joining", async () => {
    const f = await fixture("channel");
    const carol = f.a.as("carol");
    const room = await carol.get(`/rooms/${f.roomId}`);
    expect(room.status).toBe(200);
    expect(room.body.type).toBe("channel");
    const history = await carol.get(`/rooms/${f.roomId}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m: any) => m.content)).toEqual(["secret"]);
    const members = await carol.get(`/rooms/${f.roomId}/members`);
    expect(members.status).toBe(200);
    expect(members.body.members.map((m: any) => m.user_id)).toEqual(["alice", "bob"]);
    expect((await carol.get(`/rooms/${f.roomId}/messages/${f.messageId}`)).status).toBe(200);
    // Reading does not make carol a member, and the channel is not in her room list.
    expect((await carol.get("/rooms")).body.rooms).toEqual([]);
  });

  test("writing to a channel without membership is 403 on every write route", async () => {
    const f = await fixture("channel");
    const carol = f.a.as("carol");
    const r = `/rooms/${f.roomId}`;
    expectError(await carol.post(`${r}/messages`, { content: "hello" }), 403, "forbidden");
    expectError(await carol.patch(r, { name: "mine" }), 403, "forbidden");
    expectError(await carol.post("/acks", { room_id: f.roomId, seq: 1 }), 403, "forbidden");
    expectError(await carol.patch(`${r}/messages/${f.messageId}`, { content: "x" }), 403, "forbidden");
    expectError(await carol.del(`${r}/messages/${f.messageId}`), 403, "forbidden");
    expectError(await carol.post(`${r}/members`, { user_ids: ["dave"] }), 403, "forbidden");
    expectError(await carol.post(`${r}/members`, { user_ids: ["carol"], role: "admin" }), 403, "forbidden");
    expectError(await carol.patch(`${r}/members/bob`, { role: "admin" }), 403, "forbidden");
    expectError(await carol.del(`${r}/members/bob`), 403, "forbidden");
    await f.unchanged();
  });

  test("self-join a channel, then send and ack; leaving again works", async () => {
    const f = await fixture("channel");
    const carol = f.a.as("carol");
    const joined = await carol.post(`/rooms/${f.roomId}/members`, { user_ids: ["carol"] });
    expect(joined.status).toBe(200);
    expect(joined.body.members.find((m: any) => m.user_id === "carol")).toMatchObject({ role: "member", last_ack: 0 });
    const again = await carol.post(`/rooms/${f.roomId}/members`, { user_ids: ["carol"] });
    expect(again.status).toBe(200);
    expect(again.body.members).toEqual(joined.body.members);
    const sent = await carol.post(`/rooms/${f.roomId}/messages`, { content: "hi all" });
    expect(sent.status).toBe(201);
    expect(sent.body.seq).toBe(2);
    expect((await carol.post("/acks", { room_id: f.roomId, seq: 2 })).body.last_ack).toBe(2);
    expect((await carol.get("/rooms")).body.rooms.map((r: any) => r.room_id)).toEqual([f.roomId]);
    expect((await carol.del(`/rooms/${f.roomId}/members/carol`)).status).toBe(204);
    expectError(await carol.post(`/rooms/${f.roomId}/messages`, { content: "gone" }), 403, "forbidden");
  });
});

describe("tenant isolation", () => {
  test("a user of tenant B gets 404 for tenant A's room ids on every route (even with the same user id)", async () => {
    for (const type of ["group", "channel", "dm"] as const) {
      const f = await fixture(type);
      const b = await tenant("tenant-b");
      for (const user of ["alice", "bob", "mallory"]) {
        for (const r of roomRoutes(f.roomId, f.messageId, "bob", user)) {
          const res = await r.call(b.as(user));
          expect(`${type} ${user} ${r.name}: ${res.status} ${res.body?.error}`).toBe(`${type} ${user} ${r.name}: 404 not_found`);
          expectError(res, 404, "not_found");
        }
      }
      expect((await b.as("alice").get("/rooms")).body.rooms).toEqual([]);
      await f.unchanged();
    }
  });

  test("tenant A's message ids are 404 inside tenant B's own room", async () => {
    const f = await fixture("group");
    const b = await tenant("tenant-b");
    const alice = b.as("alice");
    const own = await alice.post("/rooms", { type: "group", members: ["bob"] });
    expect(own.status).toBe(201);
    const path = `/rooms/${own.body.room_id}/messages/${f.messageId}`;
    expectError(await alice.get(path), 404, "not_found");
    expectError(await alice.patch(path, { content: "x" }), 404, "not_found");
    expectError(await alice.del(path), 404, "not_found");
    await f.unchanged();
  });

  test("a message id of another room of the same tenant is 404 under the wrong room", async () => {
    const f = await fixture("group");
    const other = await f.alice.post("/rooms", { type: "group", members: ["bob"] });
    const path = `/rooms/${other.body.room_id}/messages/${f.messageId}`;
    expectError(await f.alice.get(path), 404, "not_found");
    expectError(await f.alice.patch(path, { content: "x" }), 404, "not_found");
    expectError(await f.alice.del(path), 404, "not_found");
    await f.unchanged();
  });

  test("unknown room ids are 404 for everyone", async () => {
    const a = await tenant();
    const c = a.as("alice");
    const id = Bun.randomUUIDv7();
    expectError(await c.get(`/rooms/${id}`), 404, "not_found");
    expectError(await c.get(`/rooms/${id}/messages`), 404, "not_found");
    expectError(await c.post(`/rooms/${id}/messages`, { content: "x" }), 404, "not_found");
    expectError(await c.post("/acks", { room_id: id, seq: 0 }), 404, "not_found");
  });
});
