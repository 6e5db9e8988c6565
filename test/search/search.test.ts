// GET /search, every rule of docs/reference/rest.md "Search", against the configured store (SQLite; PostgreSQL with
// `bun run test:pg`).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function tenant() {
  const t = await s.createTenant("search", { user_message_rate: 100000 });
  return { ...t, as: (u: string): RestClient => s.client(t.api_key, u) };
}

async function room(c: RestClient, type: "group" | "channel", members: string[] = []): Promise<string> {
  const r = await c.post("/rooms", { type, members });
  expect(r.status).toBe(201);
  return r.body.room_id;
}

async function send(c: RestClient, roomId: string, content: string): Promise<any> {
  const r = await c.post(`/rooms/${roomId}/messages`, { content });
  expect(r.status).toBe(201);
  return r.body;
}

const q = (c: RestClient, query: string, extra = "") => c.get(`/search?q=${encodeURIComponent(query)}${extra}`);
const contents = (r: Res) => r.body.messages.map((m: any) => m.content);

function expectError(r: Res, status: number, code: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
}

describe("search: matching", () => {
  test("terms are ANDed whole words; case- and diacritic-insensitive", async () => {
    const t = await tenant();
    const r = await room(t.as("a"), "group", ["b"]);
    await send(t.as("a"), r, "Deploy the Café service tonight");
    await send(t.as("b"), r, "deployment finished");
    await send(t.as("a"), r, "the cafe is closed");
    expect(contents(await q(t.as("a"), "deploy"))).toEqual(["Deploy the Café service tonight"]);
    expect(contents(await q(t.as("b"), "CAFE"))).toEqual(["the cafe is closed", "Deploy the Café service tonight"]);
    expect(contents(await q(t.as("b"), "café deploy"))).toEqual(["Deploy the Café service tonight"]);
    expect(contents(await q(t.as("b"), "cafe nothing"))).toEqual([]);
  });

  test("a trailing * is a prefix: deploy does not find deployment, deploy* does", async () => {
    const t = await tenant();
    const r = await room(t.as("a"), "group", ["b"]);
    await send(t.as("a"), r, "deployment finished");
    expect(contents(await q(t.as("a"), "deploy"))).toEqual([]);
    expect(contents(await q(t.as("a"), "deploy*"))).toEqual(["deployment finished"]);
    expect(contents(await q(t.as("a"), "DÉPLO*"))).toEqual(["deployment finished"]);
    expect(contents(await q(t.as("a"), "depl* fin*"))).toEqual(["deployment finished"]);
  });

  test('"two words" matches as a phrase', async () => {
    const t = await tenant();
    const r = await room(t.as("a"), "group", ["b"]);
    await send(t.as("a"), r, "red apple and green pear");
    await send(t.as("a"), r, "green apple and red pear");
    expect(contents(await q(t.as("a"), '"red apple"'))).toEqual(["red apple and green pear"]);
    expect(contents(await q(t.as("a"), "red apple"))).toHaveLength(2);
    expect(contents(await q(t.as("a"), '"apple red"'))).toEqual([]);
  });

  test("query operators are plain text, never syntax", async () => {
    const t = await tenant();
    const r = await room(t.as("a"), "group", ["b"]);
    await send(t.as("a"), r, "alpha beta");
    await send(t.as("a"), r, "gamma");
    for (const hostile of ["alpha OR gamma", "alpha | gamma", "NOT alpha", "alpha -beta", "NEAR(alpha gamma)", "content:alpha", "alpha & !beta", "(gamma)"]) {
      const res = await q(t.as("a"), hostile);
      expect(res.status).toBe(200);
      // OR/NOT/NEAR/content are words here: nothing contains every term, except where the words are really there.
      for (const c of contents(res)) expect(c === "alpha beta" || c === "gamma").toBe(true);
    }
    expect(contents(await q(t.as("a"), "alpha OR gamma"))).toEqual([]);
    expect(contents(await q(t.as("a"), "(gamma)"))).toEqual(["gamma"]);
  });

  test("no searchable term is 400; q is 1..256 code points", async () => {
    const t = await tenant();
    for (const bad of ["", " ", "*", '""', "!!! ---"]) expectError(await q(t.as("a"), bad), 400, "invalid_request");
    expectError(await t.as("a").get("/search"), 400, "invalid_request");
    expectError(await q(t.as("a"), "a".repeat(257)), 400, "invalid_request");
    expect((await q(t.as("a"), "é".repeat(256))).status).toBe(200);
  });
});

describe("search: scope", () => {
  test("only rooms the caller is a member of; never another tenant's", async () => {
    const t = await tenant();
    const other = await tenant();
    const mine = await room(t.as("a"), "group", ["b"]);
    const theirs = await room(t.as("c"), "group", ["d"]);
    const chan = await room(t.as("c"), "channel");
    await send(t.as("a"), mine, "secret word zebra");
    await send(t.as("c"), theirs, "zebra in another room");
    await send(t.as("c"), chan, "zebra in a channel");
    const oroom = await room(other.as("a"), "group", ["b"]);
    await send(other.as("a"), oroom, "zebra of another tenant");
    expect(contents(await q(t.as("a"), "zebra"))).toEqual(["secret word zebra"]);
    expect(contents(await q(t.as("c"), "zebra"))).toEqual(["zebra in a channel", "zebra in another room"]);
    expect(contents(await q(other.as("a"), "zebra"))).toEqual(["zebra of another tenant"]);
  });

  test("room_id: that room only; a channel for any tenant user; else 403/404 as for history", async () => {
    const t = await tenant();
    const r1 = await room(t.as("a"), "group", ["b"]);
    const r2 = await room(t.as("a"), "group", ["b"]);
    const chan = await room(t.as("c"), "channel");
    await send(t.as("a"), r1, "kiwi one");
    await send(t.as("a"), r2, "kiwi two");
    await send(t.as("c"), chan, "kiwi channel");
    expect(contents(await q(t.as("a"), "kiwi", `&room_id=${r2}`))).toEqual(["kiwi two"]);
    expect(contents(await q(t.as("a"), "kiwi", `&room_id=${chan}`))).toEqual(["kiwi channel"]);
    expectError(await q(t.as("x"), "kiwi", `&room_id=${r1}`), 403, "forbidden");
    expectError(await q(t.as("a"), "kiwi", "&room_id=01900000-0000-7000-8000-000000000000"), 404, "not_found");
    const other = await tenant();
    expectError(await q(other.as("a"), "kiwi", `&room_id=${r1}`), 404, "not_found");
  });

  test("deleted messages never match; an edit is re-indexed; a send is searchable once answered", async () => {
    const t = await tenant();
    const r = await room(t.as("a"), "group", ["b"]);
    const m1 = await send(t.as("a"), r, "mango smoothie");
    expect(contents(await q(t.as("b"), "mango"))).toEqual(["mango smoothie"]);
    expect((await t.as("a").del(`/rooms/${r}/messages/${m1.message_id}`)).status).toBe(204);
    expect(contents(await q(t.as("b"), "mango"))).toEqual([]);
    const m2 = await send(t.as("a"), r, "papaya juice");
    expect((await t.as("a").patch(`/rooms/${r}/messages/${m2.message_id}`, { content: "guava juice" })).status).toBe(200);
    expect(contents(await q(t.as("b"), "papaya"))).toEqual([]);
    expect(contents(await q(t.as("b"), "guava"))).toEqual(["guava juice"]);
    // Searchable as soon as the send is answered, for many sends in a row.
    for (let i = 0; i < 20; i++) {
      await send(t.as("a"), r, `fresh${i} token`);
      expect(contents(await q(t.as("b"), `fresh${i}`))).toEqual([`fresh${i} token`]);
    }
  });
});

describe("search: paging", () => {
  test("newest first; limit 1..100 (20); opaque cursor walks every match once", async () => {
    const t = await tenant();
    const r = await room(t.as("a"), "group", ["b"]);
    for (let i = 0; i < 45; i++) await send(t.as(i % 2 ? "a" : "b"), r, `page item ${i}`);
    const first = await q(t.as("a"), "item");
    expect(first.body.messages).toHaveLength(20);
    expect(first.body.messages[0].content).toBe("page item 44");
    expect(typeof first.body.next_cursor).toBe("string");
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const res: Res = await q(t.as("a"), "item", `&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...contents(res));
      cursor = res.body.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => `page item ${44 - i}`));
    for (const bad of ["0", "101", "-1", "abc"]) expectError(await q(t.as("a"), "item", `&limit=${bad}`), 400, "invalid_request");
    for (const bad of ["nope", "s1.", "s1.!!!", "s1." + Buffer.from("x|y").toString("base64url")]) {
      expectError(await q(t.as("a"), "item", `&cursor=${encodeURIComponent(bad)}`), 400, "invalid_request");
    }
  });

  test("messages carry the Message fields", async () => {
    const t = await tenant();
    const r = await room(t.as("a"), "group", ["b"]);
    const m = await send(t.as("a"), r, "shape check");
    const res = await q(t.as("b"), "shape");
    expect(res.body.messages).toEqual([m]);
  });
});
