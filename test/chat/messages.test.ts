// Sending: gapless seqs under concurrency, idempotent retries (client_msg_id and Idempotency-Key),
// edit/delete permissions and tombstones.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";
import { messageRows } from "../support/store";
import type { MessageRow } from "../../src/storage/message-store";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function tenant(config?: Record<string, unknown>) {
  const t = await s.createTenant("messages", config);
  return { ...t, as: (u: string): RestClient => s.client(t.api_key, u) };
}

function expectError(r: Res, status: number, code: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
}

/** Stored rows of the room (tombstones included) matching `where`, through the store interfaces. */
async function rowCount(tenantId: string, roomId: string, where: (m: MessageRow) => boolean = () => true): Promise<number> {
  return (await messageRows(s.api, tenantId, roomId)).filter(where).length;
}

async function allHistory(c: RestClient, roomId: string): Promise<any[]> {
  const out: any[] = [];
  let after = 0;
  for (;;) {
    const r = await c.get(`/rooms/${roomId}/messages?after_seq=${after}&limit=200`);
    expect(r.status).toBe(200);
    out.push(...r.body.messages);
    if (!r.body.has_more) return out;
    after = r.body.messages[r.body.messages.length - 1].seq;
  }
}

async function group(c: RestClient, members: string[]): Promise<string> {
  const r = await c.post("/rooms", { type: "group", members });
  expect(r.status).toBe(201);
  return r.body.room_id;
}

describe("sequencing", () => {
  test("200 concurrent sends from 10 users get seqs 1..200 with no gap or duplicate", async () => {
    const t = await tenant({ user_message_rate: 1000 });
    const users = Array.from({ length: 10 }, (_, i) => `u${i}`);
    const roomId = await group(t.as("u0"), users.slice(1));
    const sends = Array.from({ length: 200 }, (_, i) => t.as(users[i % 10]!).post(`/rooms/${roomId}/messages`, { content: `m${i}` }));
    const res = await Promise.all(sends);
    expect(res.map((r) => r.status)).toEqual(Array(200).fill(201));
    const seqs = res.map((r) => r.body.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(res.map((r) => r.body.message_id)).size).toBe(200);
    // Each user's own sends are in submission order (one HTTP connection per request, so only per-user monotonic).
    const history = await allHistory(t.as("u5"), roomId);
    expect(history.map((m) => m.seq)).toEqual(seqs);
    const bySeq = new Map(res.map((r) => [r.body.seq, r.body]));
    for (const m of history) expect(m).toEqual(bySeq.get(m.seq));
    expect(await rowCount(t.tenant_id, roomId)).toBe(200);
    expect((await t.as("u1").get(`/rooms/${roomId}`)).body.last_seq).toBe(200);
  });

  test("the Message of a 201 has every field; created_at is RFC 3339 with ms", async () => {
    const t = await tenant();
    const roomId = await group(t.as("a"), ["b"]);
    const r = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "  hi \n" });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(["attachments", "client_msg_id", "content", "created_at", "deleted_at", "edited_at", "last_reply_at", "mentions", "message_id", "meta", "parent_id", "reactions", "reply_count", "room_id", "sender_id", "seq"]);
    expect(r.body).toMatchObject({ room_id: roomId, seq: 1, sender_id: "a", content: "  hi \n", meta: null, client_msg_id: null, edited_at: null, deleted_at: null });
    expect(r.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect((await t.as("b").get(`/rooms/${roomId}/messages/${r.body.message_id}`)).body).toEqual(r.body);
  });
});

describe("idempotency", () => {
  test("a repeated client_msg_id returns the original with 200 and creates nothing", async () => {
    const t = await tenant();
    const roomId = await group(t.as("a"), ["b"]);
    const first = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "once", client_msg_id: "c-1" });
    expect(first.status).toBe(201);
    expect(first.body.client_msg_id).toBe("c-1");
    const again = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "once", client_msg_id: "c-1" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // Even with other content, the original is returned unchanged.
    const changed = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "twice?", meta: { x: 1 }, client_msg_id: "c-1" });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual(first.body);
    const next = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "next" });
    expect(next.body.seq).toBe(2);
    expect((await allHistory(t.as("b"), roomId)).map((m) => m.content)).toEqual(["once", "next"]);
    expect(await rowCount(t.tenant_id, roomId, (m) => m.client_msg_id === "c-1")).toBe(1);
  });

  test("10 concurrent sends with one client_msg_id: one 201, nine 200, one row", async () => {
    const t = await tenant({ user_message_rate: 1000 });
    const roomId = await group(t.as("a"), ["b"]);
    const res = await Promise.all(Array.from({ length: 10 }, () => t.as("a").post(`/rooms/${roomId}/messages`, { content: "retry", client_msg_id: "dup" })));
    expect(res.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(res.map((r) => r.body.message_id)).size).toBe(1);
    expect(new Set(res.map((r) => r.body.seq))).toEqual(new Set([1]));
    expect((await allHistory(t.as("b"), roomId)).length).toBe(1);
    expect(await rowCount(t.tenant_id, roomId)).toBe(1);
    expect((await t.as("b").get(`/rooms/${roomId}`)).body.last_seq).toBe(1);
  });

  test("Idempotency-Key behaves like client_msg_id and shares its namespace (also concurrently)", async () => {
    const t = await tenant({ user_message_rate: 1000 });
    const a = t.as("a");
    const roomId = await group(a, ["b"]);
    const first = await a.post(`/rooms/${roomId}/messages`, { content: "hk" }, { "Idempotency-Key": "k-1" });
    expect(first.status).toBe(201);
    expect(first.body.client_msg_id).toBe("k-1");
    const viaHeader = await a.post(`/rooms/${roomId}/messages`, { content: "hk" }, { "Idempotency-Key": "k-1" });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body).toEqual(first.body);
    const viaBody = await a.post(`/rooms/${roomId}/messages`, { content: "hk", client_msg_id: "k-1" });
    expect(viaBody.status).toBe(200);
    expect(viaBody.body).toEqual(first.body);
    const both = await a.post(`/rooms/${roomId}/messages`, { content: "hk", client_msg_id: "k-1" }, { "Idempotency-Key": "k-1" });
    expect(both.status).toBe(200);
    expect(both.body.message_id).toBe(first.body.message_id);
    const burst = await Promise.all(Array.from({ length: 10 }, () => a.post(`/rooms/${roomId}/messages`, { content: "hk2" }, { "Idempotency-Key": "k-2" })));
    expect(burst.filter((r) => r.status === 201).length).toBe(1);
    expect(burst.filter((r) => r.status === 200).length).toBe(9);
    expect(new Set(burst.map((r) => r.body.message_id)).size).toBe(1);
    expect(await rowCount(t.tenant_id, roomId)).toBe(2);
  });

  test("Idempotency-Key and client_msg_id that differ are 400 and store nothing", async () => {
    const t = await tenant();
    const roomId = await group(t.as("a"), ["b"]);
    const r = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "x", client_msg_id: "one" }, { "Idempotency-Key": "two" });
    expectError(r, 400, "invalid_request");
    expect(await rowCount(t.tenant_id, roomId)).toBe(0);
  });

  test("client_msg_id and Idempotency-Key over 64 chars are 400; 64 is accepted", async () => {
    const t = await tenant();
    const roomId = await group(t.as("a"), ["b"]);
    expectError(await t.as("a").post(`/rooms/${roomId}/messages`, { content: "x", client_msg_id: "k".repeat(65) }), 400, "invalid_request");
    expectError(await t.as("a").post(`/rooms/${roomId}/messages`, { content: "x" }, { "Idempotency-Key": "k".repeat(65) }), 400, "invalid_request");
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, { content: "x", client_msg_id: "k".repeat(64) })).status).toBe(201);
    expect(await rowCount(t.tenant_id, roomId)).toBe(1);
  });

  test("the idempotency scope is (room, sender): another sender or room with the same id creates a new message", async () => {
    const t = await tenant();
    const r1 = await group(t.as("a"), ["b"]);
    const r2 = await group(t.as("a"), ["b"]);
    const a1 = await t.as("a").post(`/rooms/${r1}/messages`, { content: "x", client_msg_id: "same" });
    const b1 = await t.as("b").post(`/rooms/${r1}/messages`, { content: "x", client_msg_id: "same" });
    const a2 = await t.as("a").post(`/rooms/${r2}/messages`, { content: "x", client_msg_id: "same" });
    expect([a1.status, b1.status, a2.status]).toEqual([201, 201, 201]);
    expect(new Set([a1.body.message_id, b1.body.message_id, a2.body.message_id]).size).toBe(3);
    expect(b1.body.seq).toBe(2);
  });
});

describe("edit", () => {
  test("only the sender edits; edited_at is set; content and meta change independently", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const roomId = await group(owner, ["a", "b"]);
    const m = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "draft", meta: { v: 1 } });
    const path = `/rooms/${roomId}/messages/${m.body.message_id}`;
    expectError(await t.as("b").patch(path, { content: "hacked" }), 403, "forbidden");
    expectError(await owner.patch(path, { content: "moderated" }), 403, "forbidden");
    const e1 = await t.as("a").patch(path, { content: "final" });
    expect(e1.status).toBe(200);
    expect(e1.body).toMatchObject({ message_id: m.body.message_id, seq: 1, content: "final", meta: { v: 1 }, created_at: m.body.created_at, deleted_at: null });
    expect(e1.body.edited_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(e1.body.edited_at >= m.body.created_at).toBe(true);
    const e2 = await t.as("a").patch(path, { meta: ["now", "an", "array"] });
    expect(e2.body).toMatchObject({ content: "final", meta: ["now", "an", "array"] });
    expect((await t.as("b").get(path)).body).toEqual(e2.body);
    expect((await t.as("b").get(`/rooms/${roomId}/messages`)).body.messages).toEqual([e2.body]);
    // Concurrent edits of different fields both land (each applies to the committed row).
    const [c1, c2] = await Promise.all([t.as("a").patch(path, { content: "both" }), t.as("a").patch(path, { meta: { both: true } })]);
    expect([c1.status, c2.status]).toEqual([200, 200]);
    expect((await t.as("b").get(path)).body).toMatchObject({ content: "both", meta: { both: true } });
    expectError(await t.as("a").patch(path, {}), 400, "invalid_request");
    expectError(await t.as("a").patch(path, { content: "" }), 400, "invalid_request");
  });
});

describe("delete", () => {
  test("sender, admin and owner delete; a plain member cannot delete others' messages", async () => {
    const t = await tenant();
    const owner = t.as("owner");
    const roomId = await group(owner, ["adm", "a", "b"]);
    await owner.patch(`/rooms/${roomId}/members/adm`, { role: "admin" });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await t.as("a").post(`/rooms/${roomId}/messages`, { content: `m${i}`, meta: { i } })).body.message_id);
    const path = (id: string) => `/rooms/${roomId}/messages/${id}`;
    expectError(await t.as("b").del(path(ids[0]!)), 403, "forbidden");
    expect((await t.as("a").del(path(ids[0]!))).status).toBe(204);
    expect((await t.as("adm").del(path(ids[1]!))).status).toBe(204);
    expect((await owner.del(path(ids[2]!))).status).toBe(204);
    const ownOfAdmin = await t.as("adm").post(`/rooms/${roomId}/messages`, { content: "adm's" });
    expectError(await t.as("a").del(path(ownOfAdmin.body.message_id)), 403, "forbidden");
    const h = (await t.as("b").get(`/rooms/${roomId}/messages`)).body.messages;
    expect(h.map((m: any) => [m.seq, m.content, m.meta, m.deleted_at !== null])).toEqual([
      [1, "", null, true],
      [2, "", null, true],
      [3, "", null, true],
      [4, "m3", { i: 3 }, false],
      [5, "adm's", null, false],
    ]);
  });

  test("a tombstone keeps seq, message_id, sender and created_at; appears in history and GET; seqs are not reused", async () => {
    const t = await tenant();
    const roomId = await group(t.as("a"), ["b"]);
    const m = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "oops", meta: { secret: true }, client_msg_id: "cm" });
    expect((await t.as("a").del(`/rooms/${roomId}/messages/${m.body.message_id}`)).status).toBe(204);
    const got = await t.as("b").get(`/rooms/${roomId}/messages/${m.body.message_id}`);
    expect(got.status).toBe(200);
    expect(got.body.deleted_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(got.body).toEqual({ ...m.body, content: "", meta: null, deleted_at: got.body.deleted_at });
    for (const q of ["", "?after_seq=0", "?before_seq=2"]) expect((await t.as("b").get(`/rooms/${roomId}/messages${q}`)).body.messages).toEqual([got.body]);
    // Deleting again is harmless; the room keeps counting from 1.
    expect((await t.as("a").del(`/rooms/${roomId}/messages/${m.body.message_id}`)).status).toBe(204);
    expect((await t.as("b").get(`/rooms/${roomId}/messages/${m.body.message_id}`)).body).toEqual(got.body);
    const next = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "again" });
    expect(next.body.seq).toBe(2);
    // A retry of the deleted send returns the tombstone, not a new message.
    const retry = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "oops", client_msg_id: "cm" });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(got.body);
    expect(await rowCount(t.tenant_id, roomId, (m) => m.content === "")).toBe(1);
  });

  test("a delete racing an edit always leaves a clean tombstone (an edit never revives deleted content)", async () => {
    const t = await tenant({ user_message_rate: 1000 });
    const roomId = await group(t.as("a"), ["b"]);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await t.as("a").post(`/rooms/${roomId}/messages`, { content: `m${i}`, meta: { i } })).body.message_id);
    const results = await Promise.all(
      ids.map(async (id) => {
        const path = `/rooms/${roomId}/messages/${id}`;
        const [del, edit] = await Promise.all([t.as("a").del(path), t.as("a").patch(path, { content: "edited", meta: "edited" })]);
        return { del: del.status, edit: edit.status };
      }),
    );
    for (const r of results) {
      expect(r.del).toBe(204);
      expect([200, 409]).toContain(r.edit);
    }
    const h = (await t.as("b").get(`/rooms/${roomId}/messages`)).body.messages;
    expect(h.length).toBe(20);
    for (const m of h) expect({ seq: m.seq, content: m.content, meta: m.meta, deleted: m.deleted_at !== null }).toEqual({ seq: m.seq, content: "", meta: null, deleted: true });
    expect(await rowCount(t.tenant_id, roomId, (m) => m.deleted_at !== null && m.content === "" && m.meta === null)).toBe(20);
  });

  test("unknown message ids are 404", async () => {
    const t = await tenant();
    const roomId = await group(t.as("a"), ["b"]);
    const id = Bun.randomUUIDv7();
    expectError(await t.as("a").get(`/rooms/${roomId}/messages/${id}`), 404, "not_found");
    expectError(await t.as("a").patch(`/rooms/${roomId}/messages/${id}`, { content: "x" }), 404, "not_found");
    expectError(await t.as("a").del(`/rooms/${roomId}/messages/${id}`), 404, "not_found");
  });
});
