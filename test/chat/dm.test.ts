// Direct messages: one room per pair (also under concurrent creates), collision-free keys, fixed membership.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function tenant() {
  const t = await s.createTenant("dm");
  return { ...t, as: (u: string): RestClient => s.client(t.api_key, u) };
}

function expectError(r: Res, status: number, code: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
}

/** Distinct DM rooms of the tenant that any of `users` belongs to, read through the store interfaces. */
async function dmCount(tenantId: string, users: string[]): Promise<number> {
  const ids = new Set((await Promise.all(users.map((u) => s.api.store.rooms.userRoomIds(tenantId, u)))).flat());
  const rooms = await Promise.all([...ids].map((id) => s.api.store.rooms.get(tenantId, id)));
  return rooms.filter((r) => r?.type === "dm").length;
}

describe("DM creation", () => {
  test("20 concurrent creates of one pair (from both sides) yield one room: one 201, nineteen 200", async () => {
    const t = await tenant();
    const res = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? t.as("x").post("/rooms", { type: "dm", members: ["y"] }) : t.as("y").post("/rooms", { type: "dm", members: ["x"] }))),
    );
    expect(res.filter((r) => r.status === 201).length).toBe(1);
    expect(res.filter((r) => r.status === 200).length).toBe(19);
    const ids = new Set(res.map((r) => r.body.room_id));
    expect(ids.size).toBe(1);
    const created = res.find((r) => r.status === 201)!.body;
    for (const r of res) expect(r.body).toEqual(created);
    expect(created).toMatchObject({ type: "dm", last_seq: 0 });
    expect(await dmCount(t.tenant_id, ["x", "y"])).toBe(1);
    const members = await t.as("x").get(`/rooms/${created.room_id}/members`);
    expect(members.body.members.map((m: any) => [m.user_id, m.role]).sort()).toEqual([
      ["x", "member"],
      ["y", "member"],
    ]);
  });

  test("creating an existing DM later returns it with 200, with its current state", async () => {
    const t = await tenant();
    const first = await t.as("p").post("/rooms", { type: "dm", members: ["q"] });
    expect(first.status).toBe(201);
    await t.as("q").post(`/rooms/${first.body.room_id}/messages`, { content: "hi" });
    const again = await t.as("p").post("/rooms", { type: "dm", members: ["q", "p"] });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ room_id: first.body.room_id, last_seq: 1 });
    const dup = await t.as("q").post("/rooms", { type: "dm", members: ["p", "p"] });
    expect(dup.status).toBe(200);
    expect(dup.body.room_id).toBe(first.body.room_id);
  });

  test("pairs whose naive joined key collides get different rooms", async () => {
    const t = await tenant();
    const r1 = await t.as("a:b").post("/rooms", { type: "dm", members: ["c"] });
    const r2 = await t.as("a").post("/rooms", { type: "dm", members: ["b:c"] });
    expect([r1.status, r2.status]).toEqual([201, 201]);
    expect(r1.body.room_id).not.toBe(r2.body.room_id);
    const r3 = await t.as("a\\").post("/rooms", { type: "dm", members: [":b"] });
    const r4 = await t.as("a\\:").post("/rooms", { type: "dm", members: ["b"] });
    const r5 = await t.as("a").post("/rooms", { type: "dm", members: ["\\:b"] });
    expect([r3.status, r4.status, r5.status]).toEqual([201, 201, 201]);
    expect(new Set([r1, r2, r3, r4, r5].map((r) => r.body.room_id)).size).toBe(5);
    // Each is still found again from the other side.
    expect((await t.as("c").post("/rooms", { type: "dm", members: ["a:b"] })).body.room_id).toBe(r1.body.room_id);
    expect((await t.as("b:c").post("/rooms", { type: "dm", members: ["a"] })).body.room_id).toBe(r2.body.room_id);
    expect(await dmCount(t.tenant_id, ["a:b", "a", "a\\", "a\\:"])).toBe(5);
  });

  test("the same pair in two tenants gets two rooms", async () => {
    const t1 = await tenant();
    const t2 = await tenant();
    const r1 = await t1.as("x").post("/rooms", { type: "dm", members: ["y"] });
    const r2 = await t2.as("x").post("/rooms", { type: "dm", members: ["y"] });
    expect([r1.status, r2.status]).toEqual([201, 201]);
    expect(r1.body.room_id).not.toBe(r2.body.room_id);
  });

  test("a DM needs exactly 2 distinct users", async () => {
    const t = await tenant();
    const c = t.as("me");
    expectError(await c.post("/rooms", { type: "dm", members: ["y", "z"] }), 400, "invalid_request");
    expectError(await c.post("/rooms", { type: "dm", members: [] }), 400, "invalid_request");
    expectError(await c.post("/rooms", { type: "dm" }), 400, "invalid_request");
    expectError(await c.post("/rooms", { type: "dm", members: ["me"] }), 400, "invalid_request");
    expect(await dmCount(t.tenant_id, ["me", "y", "z"])).toBe(0);
  });
});

describe("DM membership never changes", () => {
  test("adding, removing, leaving and role changes are 409 for members of the DM", async () => {
    const t = await tenant();
    const dm = await t.as("x").post("/rooms", { type: "dm", members: ["y"] });
    const id = dm.body.room_id;
    expectError(await t.as("x").post(`/rooms/${id}/members`, { user_ids: ["z"] }), 409, "conflict");
    expectError(await t.as("x").post(`/rooms/${id}/members`, { user_ids: ["y"] }), 409, "conflict");
    expectError(await t.as("x").del(`/rooms/${id}/members/y`), 409, "conflict");
    expectError(await t.as("y").del(`/rooms/${id}/members/y`), 409, "conflict");
    expectError(await t.as("x").patch(`/rooms/${id}/members/y`, { role: "admin" }), 409, "conflict");
    const members = await t.as("y").get(`/rooms/${id}/members`);
    expect(members.body.members.map((m: any) => m.user_id).sort()).toEqual(["x", "y"]);
  });

  test("both DM members send and read; a DM has no owner/admin powers over the other's messages", async () => {
    const t = await tenant();
    const dm = await t.as("x").post("/rooms", { type: "dm", members: ["y"] });
    const id = dm.body.room_id;
    const m = await t.as("y").post(`/rooms/${id}/messages`, { content: "from y" });
    expect(m.status).toBe(201);
    expectError(await t.as("x").del(`/rooms/${id}/messages/${m.body.message_id}`), 403, "forbidden");
    expectError(await t.as("x").patch(`/rooms/${id}`, { name: "renamed" }), 403, "forbidden");
    expect((await t.as("x").get(`/rooms/${id}/messages`)).body.messages.map((x: any) => x.content)).toEqual(["from y"]);
  });
});
