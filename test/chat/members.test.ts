// Membership: roles, who may add/remove/promote, ownership hand-over, re-adds, room creation rules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function tenant() {
  const t = await s.createTenant("members");
  return { ...t, as: (u: string): RestClient => s.client(t.api_key, u) };
}

function expectError(r: Res, status: number, code: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
}

async function roles(c: RestClient, roomId: string): Promise<Record<string, string>> {
  const r = await c.get(`/rooms/${roomId}/members`);
  expect(r.status).toBe(200);
  return Object.fromEntries(r.body.members.map((m: any) => [m.user_id, m.role]));
}

async function group(c: RestClient, members: string[]): Promise<string> {
  const r = await c.post("/rooms", { type: "group", name: "g", members });
  expect(r.status).toBe(201);
  return r.body.room_id;
}

describe("room creation", () => {
  test("group: caller is owner, others members, in the order given; Room fields are complete", async () => {
    const t = await tenant();
    const r = await t.as("owner").post("/rooms", { type: "group", name: "Team", metadata: { topic: "x" }, members: ["m1", "m2", "m1", "owner"] });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(["created_at", "created_by", "last_seq", "metadata", "name", "room_id", "type", "updated_at"]);
    expect(r.body).toMatchObject({ type: "group", name: "Team", metadata: { topic: "x" }, last_seq: 0, created_by: "owner" });
    expect(r.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const m = await t.as("m2").get(`/rooms/${r.body.room_id}/members`);
    expect(m.body.members.map((x: any) => [x.user_id, x.role, x.last_ack])).toEqual([
      ["owner", "owner", 0],
      ["m1", "member", 0],
      ["m2", "member", 0],
    ]);
  });

  test("group needs at least 2 distinct users; channel may start alone; type is required", async () => {
    const t = await tenant();
    const c = t.as("solo");
    expectError(await c.post("/rooms", { type: "group", members: [] }), 400, "invalid_request");
    expectError(await c.post("/rooms", { type: "group", members: ["solo"] }), 400, "invalid_request");
    expectError(await c.post("/rooms", { members: ["x"] }), 400, "invalid_request");
    expectError(await c.post("/rooms", { type: "forum", members: ["x"] }), 400, "invalid_request");
    expectError(await c.post("/rooms", { type: "group", members: ["ok", "bad\u0001id"] }), 400, "invalid_request");
    const ch = await c.post("/rooms", { type: "channel", name: "news" });
    expect(ch.status).toBe(201);
    expect(await roles(c, ch.body.room_id)).toEqual({ solo: "owner" });
  });
});

describe("adding members", () => {
  test("owner and admin add members; a plain member cannot; re-adding is a no-op", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["adm", "mem"]);
    expect((await owner.patch(`/rooms/${id}/members/adm`, { role: "admin" })).status).toBe(200);
    expectError(await t.as("mem").post(`/rooms/${id}/members`, { user_ids: ["x"] }), 403, "forbidden");
    const added = await t.as("adm").post(`/rooms/${id}/members`, { user_ids: ["new1", "new2"] });
    expect(added.status).toBe(200);
    expect(added.body.members.map((m: any) => m.user_id)).toEqual(["owner", "adm", "mem", "new1", "new2"]);
    const again = await owner.post(`/rooms/${id}/members`, { user_ids: ["adm", "new1"] });
    expect(again.status).toBe(200);
    expect(again.body.members).toEqual(added.body.members);
    expect((await owner.post(`/rooms/${id}/members`, { user_ids: ["adm"], role: "member" })).body.members.find((m: any) => m.user_id === "adm").role).toBe("admin");
    expectError(await owner.post(`/rooms/${id}/members`, { user_ids: [] }), 400, "invalid_request");
  });

  test("only the owner grants admin (on add and via PATCH role)", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["adm", "mem"]);
    expect((await owner.patch(`/rooms/${id}/members/adm`, { role: "admin" })).body).toMatchObject({ user_id: "adm", role: "admin" });
    expectError(await t.as("adm").post(`/rooms/${id}/members`, { user_ids: ["x"], role: "admin" }), 403, "forbidden");
    expectError(await t.as("adm").patch(`/rooms/${id}/members/mem`, { role: "admin" }), 403, "forbidden");
    expectError(await t.as("mem").patch(`/rooms/${id}/members/mem`, { role: "admin" }), 403, "forbidden");
    expect(await roles(owner, id)).toEqual({ owner: "owner", adm: "admin", mem: "member" });
    const granted = await owner.post(`/rooms/${id}/members`, { user_ids: ["boss"], role: "admin" });
    expect(granted.body.members.find((m: any) => m.user_id === "boss").role).toBe("admin");
  });
});

describe("PATCH member role", () => {
  test("owner promotes and demotes; 200 returns the member; the owner's own role and non-members are refused", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["a", "b"]);
    const up = await owner.patch(`/rooms/${id}/members/a`, { role: "admin" });
    expect(up.status).toBe(200);
    expect(Object.keys(up.body).sort()).toEqual(["joined_at", "last_ack", "role", "user_id"]);
    expect(up.body).toMatchObject({ user_id: "a", role: "admin", last_ack: 0 });
    const down = await owner.patch(`/rooms/${id}/members/a`, { role: "member" });
    expect(down.body.role).toBe("member");
    expectError(await owner.patch(`/rooms/${id}/members/owner`, { role: "member" }), 409, "conflict");
    expectError(await owner.patch(`/rooms/${id}/members/nobody`, { role: "admin" }), 404, "not_found");
    expectError(await owner.patch(`/rooms/${id}/members/a`, { role: "owner" }), 400, "invalid_request");
    expect(await roles(owner, id)).toEqual({ owner: "owner", a: "member", b: "member" });
  });
});

describe("removing and leaving", () => {
  test("admin removes a member but not the owner; a member cannot remove anyone but themself", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["adm", "m1", "m2"]);
    await owner.patch(`/rooms/${id}/members/adm`, { role: "admin" });
    expectError(await t.as("m1").del(`/rooms/${id}/members/m2`), 403, "forbidden");
    expectError(await t.as("adm").del(`/rooms/${id}/members/owner`), 403, "forbidden");
    expect((await t.as("adm").del(`/rooms/${id}/members/m1`)).status).toBe(204);
    expect((await t.as("m2").del(`/rooms/${id}/members/m2`)).status).toBe(204);
    expect(await roles(owner, id)).toEqual({ owner: "owner", adm: "admin" });
    expectError(await owner.del(`/rooms/${id}/members/m1`), 404, "not_found");
  });

  test("owner removes an admin", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["adm", "m1"]);
    await owner.patch(`/rooms/${id}/members/adm`, { role: "admin" });
    expect((await owner.del(`/rooms/${id}/members/adm`)).status).toBe(204);
    expect(await roles(owner, id)).toEqual({ owner: "owner", m1: "member" });
  });

  test("the last owner leaving hands ownership to the longest-standing admin", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["m1", "m2", "m3"]);
    // m3 becomes admin first, m2 later: "longest-standing" is by membership, not by promotion.
    await owner.patch(`/rooms/${id}/members/m3`, { role: "admin" });
    await owner.patch(`/rooms/${id}/members/m2`, { role: "admin" });
    expect((await owner.del(`/rooms/${id}/members/owner`)).status).toBe(204);
    expect(await roles(t.as("m1"), id)).toEqual({ m1: "member", m2: "owner", m3: "admin" });
    // The new owner has the owner's powers at once.
    expect((await t.as("m2").patch(`/rooms/${id}/members/m1`, { role: "admin" })).status).toBe(200);
    expectError(await t.as("owner").get(`/rooms/${id}`), 403, "forbidden");
  });

  test("with no admin, the longest-standing member becomes owner", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["m1", "m2"]);
    await owner.post(`/rooms/${id}/members`, { user_ids: ["late"] });
    // An owner removed by nobody else: leaving is the only way. m1 joined first.
    expect((await owner.del(`/rooms/${id}/members/owner`)).status).toBe(204);
    expect(await roles(t.as("m2"), id)).toEqual({ m1: "owner", m2: "member", late: "member" });
    expect((await t.as("m1").del(`/rooms/${id}/members/m1`)).status).toBe(204);
    expect(await roles(t.as("m2"), id)).toEqual({ m2: "owner", late: "member" });
  });

  test("a channel owner leaving hands the channel on too", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const ch = await owner.post("/rooms", { type: "channel", name: "c" });
    await t.as("joiner").post(`/rooms/${ch.body.room_id}/members`, { user_ids: ["joiner"] });
    expect((await owner.del(`/rooms/${ch.body.room_id}/members/owner`)).status).toBe(204);
    expect(await roles(owner, ch.body.room_id)).toEqual({ joiner: "owner" });
  });
});

describe("PATCH room", () => {
  test("owner and admin update name/metadata; a plain member gets 403", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const id = await group(owner, ["adm", "mem"]);
    await owner.patch(`/rooms/${id}/members/adm`, { role: "admin" });
    expectError(await t.as("mem").patch(`/rooms/${id}`, { name: "nope" }), 403, "forbidden");
    const a = await t.as("adm").patch(`/rooms/${id}`, { name: "by admin" });
    expect(a.status).toBe(200);
    expect(a.body.name).toBe("by admin");
    const before = (await owner.get(`/rooms/${id}`)).body;
    const o = await owner.patch(`/rooms/${id}`, { metadata: { v: 2 } });
    expect(o.body).toMatchObject({ name: "by admin", metadata: { v: 2 } });
    expect(o.body.updated_at >= before.updated_at).toBe(true);
    const cleared = await owner.patch(`/rooms/${id}`, { name: null, metadata: null });
    expect(cleared.body).toMatchObject({ name: null, metadata: null });
    expect((await t.as("mem").get(`/rooms/${id}`)).body).toEqual(cleared.body);
  });
});
