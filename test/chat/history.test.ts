// History paging (docs/reference/rest.md "History"): after_seq, before_seq, windows, latest; has_more at both ends.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
let c: RestClient;
let roomId: string;
const N = 25;

beforeAll(async () => {
  s = await startTestServer();
  const t = await s.createTenant("history", { user_message_rate: 1000 });
  c = s.client(t.api_key, "reader");
  const room = await c.post("/rooms", { type: "group", members: ["writer"] });
  roomId = room.body.room_id;
  const w = s.client(t.api_key, "writer");
  for (let i = 1; i <= N; i++) expect((await w.post(`/rooms/${roomId}/messages`, { content: `m${i}` })).body.seq).toBe(i);
});
afterAll(() => s.stop());

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

async function page(query: string): Promise<{ seqs: number[]; has_more: boolean }> {
  const r = await c.get(`/rooms/${roomId}/messages${query}`);
  expect(r.status).toBe(200);
  expect(Object.keys(r.body).sort()).toEqual(["has_more", "messages"]);
  for (const m of r.body.messages) expect(m.content).toBe(`m${m.seq}`);
  return { seqs: r.body.messages.map((m: any) => m.seq), has_more: r.body.has_more };
}

function expect400(r: Res) {
  expect(r.status).toBe(400);
  expect(r.body.error).toBe("invalid_request");
}

describe("after_seq", () => {
  test("pages ascending to the end; has_more false exactly on the last page", async () => {
    expect(await page("?after_seq=0&limit=10")).toEqual({ seqs: range(1, 10), has_more: true });
    expect(await page("?after_seq=10&limit=10")).toEqual({ seqs: range(11, 20), has_more: true });
    expect(await page("?after_seq=20&limit=10")).toEqual({ seqs: range(21, 25), has_more: false });
    expect(await page("?after_seq=25&limit=10")).toEqual({ seqs: [], has_more: false });
    expect(await page("?after_seq=1000")).toEqual({ seqs: [], has_more: false });
  });

  test("a page that ends exactly at the last seq says has_more false", async () => {
    expect(await page("?after_seq=15&limit=10")).toEqual({ seqs: range(16, 25), has_more: false });
    expect(await page("?after_seq=14&limit=10")).toEqual({ seqs: range(15, 24), has_more: true });
  });

  test("walking the whole room with limit 7 visits every seq once", async () => {
    const seen: number[] = [];
    let after = 0;
    for (let i = 0; i < 10; i++) {
      const p = await page(`?after_seq=${after}&limit=7`);
      seen.push(...p.seqs);
      if (!p.has_more) break;
      after = p.seqs[p.seqs.length - 1]!;
    }
    expect(seen).toEqual(range(1, N));
  });
});

describe("before_seq", () => {
  test("pages down to seq 1; each page ascending; has_more false exactly at the oldest page", async () => {
    expect(await page("?before_seq=26&limit=10")).toEqual({ seqs: range(16, 25), has_more: true });
    expect(await page("?before_seq=16&limit=10")).toEqual({ seqs: range(6, 15), has_more: true });
    expect(await page("?before_seq=6&limit=10")).toEqual({ seqs: range(1, 5), has_more: false });
    expect(await page("?before_seq=11&limit=10")).toEqual({ seqs: range(1, 10), has_more: false });
    expect(await page("?before_seq=12&limit=10")).toEqual({ seqs: range(2, 11), has_more: true });
    expect(await page("?before_seq=1")).toEqual({ seqs: [], has_more: false });
    expect(await page("?before_seq=0")).toEqual({ seqs: [], has_more: false });
    expect(await page("?before_seq=1000&limit=3")).toEqual({ seqs: [23, 24, 25], has_more: true });
  });
});

describe("window (after_seq + before_seq)", () => {
  test("returns the window from the after_seq side; has_more means more inside the window", async () => {
    expect(await page("?after_seq=5&before_seq=12")).toEqual({ seqs: range(6, 11), has_more: false });
    expect(await page("?after_seq=5&before_seq=12&limit=3")).toEqual({ seqs: [6, 7, 8], has_more: true });
    expect(await page("?after_seq=8&before_seq=12&limit=3")).toEqual({ seqs: [9, 10, 11], has_more: false });
    expect(await page("?after_seq=5&before_seq=6")).toEqual({ seqs: [], has_more: false });
    expect(await page("?after_seq=10&before_seq=5")).toEqual({ seqs: [], has_more: false });
    // A window reaching past the end: has_more only counts seqs that exist.
    expect(await page("?after_seq=20&before_seq=100&limit=5")).toEqual({ seqs: range(21, 25), has_more: false });
  });
});

describe("latest (no cursor)", () => {
  test("the latest L ascending; has_more says older ones exist", async () => {
    expect(await page("?limit=10")).toEqual({ seqs: range(16, 25), has_more: true });
    expect(await page("?limit=24")).toEqual({ seqs: range(2, 25), has_more: true });
    expect(await page("?limit=25")).toEqual({ seqs: range(1, 25), has_more: false });
    expect(await page("")).toEqual({ seqs: range(1, 25), has_more: false });
    expect(await page("?limit=200")).toEqual({ seqs: range(1, 25), has_more: false });
  });

  test("an empty room answers an empty page", async () => {
    const r = await c.post("/rooms", { type: "group", members: ["writer"] });
    const h = await c.get(`/rooms/${r.body.room_id}/messages`);
    expect(h.body).toEqual({ messages: [], has_more: false });
  });

  test("the default limit is 50", async () => {
    const t = await s.createTenant("history-default", { user_message_rate: 1000 });
    const w = s.client(t.api_key, "w");
    const r = await w.post("/rooms", { type: "channel" });
    await Promise.all(range(1, 60).map((i) => w.post(`/rooms/${r.body.room_id}/messages`, { content: `x${i}` })));
    const h = await w.get(`/rooms/${r.body.room_id}/messages`);
    expect(h.body.messages.map((m: any) => m.seq)).toEqual(range(11, 60));
    expect(h.body.has_more).toBe(true);
    const a = await w.get(`/rooms/${r.body.room_id}/messages?after_seq=0`);
    expect(a.body.messages.map((m: any) => m.seq)).toEqual(range(1, 50));
  });
});

describe("bad queries", () => {
  test("negative seqs are 400", async () => {
    expect400(await c.get(`/rooms/${roomId}/messages?after_seq=-1`));
    expect400(await c.get(`/rooms/${roomId}/messages?before_seq=-1`));
    expect400(await c.get(`/rooms/${roomId}/messages?after_seq=-5&before_seq=3`));
  });

  test("limit outside 1..200 or not an integer is 400", async () => {
    for (const l of ["0", "201", "-1", "abc", "1.5", ""]) expect400(await c.get(`/rooms/${roomId}/messages?limit=${l}`));
    expect400(await c.get(`/rooms/${roomId}/messages?after_seq=abc`));
    expect400(await c.get(`/rooms/${roomId}/messages?before_seq=1.5`));
    expect((await c.get(`/rooms/${roomId}/messages?limit=1`)).body.messages.map((m: any) => m.seq)).toEqual([25]);
  });
});
