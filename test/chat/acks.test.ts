// Read positions: POST /acks, unread counts (sends, acks, deletes, own messages), RoomSummary view.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function tenant() {
  const t = await s.createTenant("acks", { user_message_rate: 1000 });
  return { ...t, as: (u: string): RestClient => s.client(t.api_key, u) };
}

function expectError(r: Res, status: number, code: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
}

/** The caller's {last_ack, unread_count} for a room, from GET /rooms. */
async function view(c: RestClient, roomId: string): Promise<{ last_ack: number; unread_count: number }> {
  const r = await c.get("/rooms?limit=200");
  const room = r.body.rooms.find((x: any) => x.room_id === roomId);
  expect(room).toBeDefined();
  return { last_ack: room.last_ack, unread_count: room.unread_count };
}

async function memberAck(c: RestClient, roomId: string, user: string): Promise<number> {
  const r = await c.get(`/rooms/${roomId}/members`);
  return r.body.members.find((m: any) => m.user_id === user).last_ack;
}

async function setup() {
  const t = await tenant();
  const room = await t.as("a").post("/rooms", { type: "group", members: ["b", "c"] });
  return { t, a: t.as("a"), b: t.as("b"), c: t.as("c"), roomId: room.body.room_id as string };
}

describe("unread counts", () => {
  test("own messages are never unread and advance the sender's last_ack; others' are unread", async () => {
    const { a, b, c, roomId } = await setup();
    expect(await view(b, roomId)).toEqual({ last_ack: 0, unread_count: 0 });
    for (let i = 1; i <= 3; i++) await a.post(`/rooms/${roomId}/messages`, { content: `a${i}` });
    expect(await view(a, roomId)).toEqual({ last_ack: 3, unread_count: 0 });
    expect(await view(b, roomId)).toEqual({ last_ack: 0, unread_count: 3 });
    expect(await memberAck(c, roomId, "a")).toBe(3);
    // b writes without reading: its own message moves its last_ack past a's messages.
    await b.post(`/rooms/${roomId}/messages`, { content: "b1" });
    expect(await view(b, roomId)).toEqual({ last_ack: 4, unread_count: 0 });
    expect(await view(a, roomId)).toEqual({ last_ack: 3, unread_count: 1 });
    expect(await view(c, roomId)).toEqual({ last_ack: 0, unread_count: 4 });
  });

  test("acks lower the count; deleted messages stop counting; own messages below last_ack don't matter", async () => {
    const { a, b, c, roomId } = await setup();
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await a.post(`/rooms/${roomId}/messages`, { content: `a${i}` })).body.message_id);
    expect(await c.post("/acks", { room_id: roomId, seq: 2 })).toMatchObject({ status: 200, body: { room_id: roomId, last_ack: 2, unread_count: 3 } });
    expect(await view(c, roomId)).toEqual({ last_ack: 2, unread_count: 3 });
    // Deleting an unread message (seq 4) and a read one (seq 1).
    expect((await a.del(`/rooms/${roomId}/messages/${ids[3]}`)).status).toBe(204);
    expect((await a.del(`/rooms/${roomId}/messages/${ids[0]}`)).status).toBe(204);
    expect(await view(c, roomId)).toEqual({ last_ack: 2, unread_count: 2 });
    expect(await view(b, roomId)).toEqual({ last_ack: 0, unread_count: 3 });
    const acked = await b.post("/acks", { room_id: roomId, seq: 5 });
    expect(acked.body).toEqual({ room_id: roomId, last_ack: 5, unread_count: 0 });
    expect(await memberAck(a, roomId, "b")).toBe(5);
  });
});

describe("POST /acks", () => {
  test("last_ack never moves back: an older seq answers 200 with the value unchanged", async () => {
    const { a, b, roomId } = await setup();
    for (let i = 1; i <= 4; i++) await a.post(`/rooms/${roomId}/messages`, { content: `a${i}` });
    expect((await b.post("/acks", { room_id: roomId, seq: 3 })).body).toEqual({ room_id: roomId, last_ack: 3, unread_count: 1 });
    for (const seq of [1, 0, 3]) {
      const r = await b.post("/acks", { room_id: roomId, seq });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ room_id: roomId, last_ack: 3, unread_count: 1 });
    }
    expect(await memberAck(a, roomId, "b")).toBe(3);
  });

  test("concurrent acks settle on the highest seq", async () => {
    const { a, b, roomId } = await setup();
    for (let i = 1; i <= 20; i++) await a.post(`/rooms/${roomId}/messages`, { content: `a${i}` });
    const seqs = Array.from({ length: 20 }, (_, i) => 20 - i);
    await Promise.all(seqs.map((seq) => b.post("/acks", { room_id: roomId, seq })));
    expect(await view(b, roomId)).toEqual({ last_ack: 20, unread_count: 0 });
  });

  test("seq beyond last_seq, negative, or not an integer is 400; 0 on an empty room is fine", async () => {
    const { a, b, roomId } = await setup();
    expect((await b.post("/acks", { room_id: roomId, seq: 0 })).body).toEqual({ room_id: roomId, last_ack: 0, unread_count: 0 });
    expectError(await b.post("/acks", { room_id: roomId, seq: 1 }), 400, "invalid_request");
    await a.post(`/rooms/${roomId}/messages`, { content: "one" });
    expectError(await b.post("/acks", { room_id: roomId, seq: 2 }), 400, "invalid_request");
    expectError(await b.post("/acks", { room_id: roomId, seq: -1 }), 400, "invalid_request");
    expectError(await b.post("/acks", { room_id: roomId, seq: 1.5 }), 400, "invalid_request");
    expectError(await b.post("/acks", { room_id: roomId }), 400, "invalid_request");
    expectError(await b.post("/acks", { seq: 1 }), 400, "invalid_request");
    expect(await view(b, roomId)).toEqual({ last_ack: 0, unread_count: 1 });
    expect((await b.post("/acks", { room_id: roomId, seq: 1 })).body.last_ack).toBe(1);
  });

  test("acking a tombstone's seq is allowed", async () => {
    const { a, b, roomId } = await setup();
    const m = await a.post(`/rooms/${roomId}/messages`, { content: "x" });
    await a.del(`/rooms/${roomId}/messages/${m.body.message_id}`);
    expect((await b.post("/acks", { room_id: roomId, seq: 1 })).body).toEqual({ room_id: roomId, last_ack: 1, unread_count: 0 });
  });
});
