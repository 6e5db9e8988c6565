// GET /rooms: most recent activity first, RoomSummary (caller's view), stable cursor pagination.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, waitFor, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function tenant() {
  const t = await s.createTenant("rooms", { user_message_rate: 1000 });
  return { ...t, as: (u: string): RestClient => s.client(t.api_key, u) };
}

function expect400(r: Res) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status: 400, error: "invalid_request" });
}

/** Timestamps have millisecond resolution: wait (polling, no fixed sleep) until the clock moved on. */
async function nextMillisecond() {
  const t0 = Date.now();
  await waitFor(() => Date.now() > t0, 1000, "the clock to advance");
}

async function ids(c: RestClient, query = "?limit=200"): Promise<string[]> {
  const r = await c.get(`/rooms${query}`);
  expect(r.status).toBe(200);
  return r.body.rooms.map((x: any) => x.room_id);
}

async function mk(c: RestClient, name: string): Promise<string> {
  const r = await c.post("/rooms", { type: "group", name, members: ["peer"] });
  expect(r.status).toBe(201);
  return r.body.room_id;
}

describe("ordering", () => {
  test("rooms without messages sort by creation, newest first; a newer message moves a room to the front", async () => {
    const t = await tenant();
    const u = t.as("u");
    const r1 = await mk(u, "r1");
    await nextMillisecond();
    const r2 = await mk(u, "r2");
    await nextMillisecond();
    const r3 = await mk(u, "r3");
    expect(await ids(u)).toEqual([r3, r2, r1]);
    await nextMillisecond();
    await t.as("peer").post(`/rooms/${r1}/messages`, { content: "bump r1" });
    expect(await ids(u)).toEqual([r1, r3, r2]);
    await nextMillisecond();
    await u.post(`/rooms/${r2}/messages`, { content: "bump r2" });
    expect(await ids(u)).toEqual([r2, r1, r3]);
    await nextMillisecond();
    const r4 = await mk(u, "r4");
    expect(await ids(u)).toEqual([r4, r2, r1, r3]);
    // Edits, deletes, acks and renames are not "activity".
    await nextMillisecond();
    const m = await u.post(`/rooms/${r3}/messages`, { content: "r3" });
    await nextMillisecond();
    await u.post(`/rooms/${r1}/messages`, { content: "r1 again" });
    expect(await ids(u)).toEqual([r1, r3, r4, r2]);
    await nextMillisecond();
    await u.patch(`/rooms/${r3}/messages/${m.body.message_id}`, { content: "edited" });
    await u.patch(`/rooms/${r4}`, { name: "renamed" });
    await u.post("/acks", { room_id: r2, seq: 1 });
    expect(await ids(u)).toEqual([r1, r3, r4, r2]);
  });

  test("only the caller's rooms are listed (other users' rooms and unjoined channels are not)", async () => {
    const t = await tenant();
    const mine = await mk(t.as("u"), "mine");
    await t.as("x").post("/rooms", { type: "group", members: ["y"] });
    await t.as("x").post("/rooms", { type: "channel" });
    expect(await ids(t.as("u"))).toEqual([mine]);
    expect(await ids(t.as("nobody"))).toEqual([]);
  });
});

describe("RoomSummary", () => {
  test("Room fields plus last_ack, unread_count and last_message (caller's view)", async () => {
    const t = await tenant();
    const u = t.as("u");
    const empty = await u.post("/rooms", { type: "group", name: "empty", metadata: { m: 1 }, members: ["peer"] });
    const busy = await mk(u, "busy");
    const list = (await u.get("/rooms")).body;
    expect(list.next_cursor).toBeNull();
    const e = list.rooms.find((r: any) => r.room_id === empty.body.room_id);
    expect(Object.keys(e).sort()).toEqual(["created_at", "created_by", "last_ack", "last_message", "last_seq", "metadata", "name", "room_id", "type", "unread_count", "unread_mentions", "updated_at"]);
    expect(e).toEqual({ ...empty.body, last_ack: 0, unread_count: 0, unread_mentions: 0, last_message: null });
    await u.post(`/rooms/${busy}/messages`, { content: "mine" });
    await t.as("peer").post(`/rooms/${busy}/messages`, { content: "p1" });
    const last = await t.as("peer").post(`/rooms/${busy}/messages`, { content: "p2", meta: { x: true } });
    const mine = (await u.get("/rooms")).body.rooms.find((r: any) => r.room_id === busy);
    expect(mine).toMatchObject({ room_id: busy, last_seq: 3, last_ack: 1, unread_count: 2 });
    expect(mine.last_message).toEqual(last.body);
    const theirs = (await t.as("peer").get("/rooms")).body.rooms.find((r: any) => r.room_id === busy);
    expect(theirs).toMatchObject({ last_seq: 3, last_ack: 3, unread_count: 0 });
    // last_message follows edits and deletes (a deleted last message shows as its tombstone).
    const edited = await t.as("peer").patch(`/rooms/${busy}/messages/${last.body.message_id}`, { content: "p2!" });
    expect((await u.get("/rooms")).body.rooms.find((r: any) => r.room_id === busy).last_message).toEqual(edited.body);
    await t.as("peer").del(`/rooms/${busy}/messages/${last.body.message_id}`);
    const after = (await u.get("/rooms")).body.rooms.find((r: any) => r.room_id === busy);
    expect(after.last_message).toMatchObject({ seq: 3, content: "", meta: null });
    expect(after.unread_count).toBe(1);
  });

  test("limit 1..200 and a valid cursor are required", async () => {
    const t = await tenant();
    const u = t.as("u");
    for (const q of ["?limit=0", "?limit=201", "?limit=x", "?cursor=not-a-cursor", `?cursor=${Buffer.from("{}").toString("base64url")}`]) expect400(await u.get(`/rooms${q}`));
    expect((await u.get("/rooms?limit=200")).status).toBe(200);
  });
});

describe("cursor pagination", () => {
  test("pages of limit 2 list every room exactly once, in order, with next_cursor null at the end", async () => {
    const t = await tenant();
    const u = t.as("u");
    const all: string[] = [];
    for (let i = 0; i < 7; i++) all.unshift(await mk(u, `r${i}`));
    expect(await ids(u)).toEqual(all);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Res = await u.get(`/rooms?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(r.status).toBe(200);
      expect(r.body.rooms.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.rooms.map((x: any) => x.room_id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toEqual(all);
  });

  test("new messages during paging neither duplicate nor skip rooms (repeated, no waiting between steps)", async () => {
    const t = await tenant();
    const u = t.as("u");
    const peer = t.as("peer");
    for (let i = 0; i < 7; i++) await mk(u, `r${i}`);
    for (let round = 0; round < 30; round++) {
      const before = await ids(u);
      expect(before.length).toBe(7 + round);
      const p1 = await u.get("/rooms?limit=2");
      expect(p1.body.rooms.map((x: any) => x.room_id)).toEqual(before.slice(0, 2));
      // Activity right after page 1 (often in the same millisecond): rooms on pages 2..4 jump to the
      // front, a page-1 room gets a message too, and a brand-new room appears.
      await peer.post(`/rooms/${before[2 + (round % 5)]}/messages`, { content: `bump ${round}` });
      await u.post(`/rooms/${before[6]}/messages`, { content: `bump2 ${round}` });
      await peer.post(`/rooms/${before[round % 2]}/messages`, { content: `bump1 ${round}` });
      const fresh = await mk(u, `new${round}`);
      const seen: string[] = p1.body.rooms.map((x: any) => x.room_id);
      let cursor: string | null = p1.body.next_cursor;
      while (cursor) {
        const r: Res = await u.get(`/rooms?limit=2&cursor=${encodeURIComponent(cursor)}`);
        expect(r.status).toBe(200);
        seen.push(...r.body.rooms.map((x: any) => x.room_id));
        cursor = r.body.next_cursor;
      }
      // The listing is the one of page 1's moment: same rooms, same order, each exactly once.
      expect(seen).toEqual(before);
      expect(seen).not.toContain(fresh);
      // A fresh listing shows the new state.
      expect((await ids(u))[0]).toBe(fresh);
    }
  });
});
