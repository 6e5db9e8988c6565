// Hostile-query fuzz (docs/reference/rest.md "Search": no q can cause a 5xx): thousands of random and hostile
// queries (FTS5 and tsquery operators, quotes, parentheses, backslashes, NUL, 256-character strings,
// Unicode, invalid percent-encoding) against a SQLite server and a PostgreSQL server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type RestClient, type TestServer } from "../helpers";
import { createTestDatabase, postgresAvailable } from "../support/postgres";

const PIECES = [
  "AND", "OR", "NOT", "NEAR", "NEAR(", ")", "(", '"', '""', "*", "^", ":", "+", "-", "{", "}", "content:", "messages_fts", "rank",
  "&", "|", "!", "<->", "<2>", ":*", ":A", ":*A", "'", "''", "\\", "\\\\", "\\'", "%", "_", ";", "--", "/*", "*/",
  "'; DROP TABLE messages; --", "\u0000", "\u0001", "\u007f", "\u200b", "\u202e", "é", "É", "ß", "İ", "ﬁ", "日本語", "中文", "한국어", "عربى",
  "😀", "👨‍👩‍👧", "\u0301", "e\u0301", "𝔘𝔫𝔦", "０１２", "Ⅻ", "½", "hello", "world", "deploy", "café", "x", "1", "00", "1e9", "NaN",
  " ", "\t", "\n", "\r\n", "\u00a0", "\u3000",
];

function rand(n: number): number {
  return Math.floor(Math.random() * n);
}

function randomQuery(): string {
  const kind = rand(10);
  if (kind === 0) return Array.from({ length: 1 + rand(300) }, () => String.fromCodePoint(rand(0x2ffff))).join("").slice(0, 300);
  if (kind === 1) return PIECES[rand(PIECES.length)]!.repeat(1 + rand(300)).slice(0, 256 + rand(3));
  let q = "";
  const parts = 1 + rand(12);
  for (let i = 0; i < parts; i++) q += PIECES[rand(PIECES.length)]! + (rand(3) === 0 ? " " : "");
  return q;
}

function encode(q: string): string {
  try {
    return encodeURIComponent(q);
  } catch {
    // A lone surrogate cannot be encoded: send its replacement as raw invalid UTF-8 instead.
    return encodeURIComponent(q.toWellFormed()) + "%ED%A0%80";
  }
}

const RAW = ["%FF", "%C0%AF", "%00", "%", "%zz", "%E2%82", "a%00b", "%EF%BF%BF", "%F4%90%80%80", "a+b", "%22a%20b%22*"];

async function fuzz(c: RestClient, roomId: string, count: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const queries: string[] = RAW.map((r) => `/search?q=${r}`);
  for (let i = 0; i < count; i++) queries.push(`/search?q=${encode(randomQuery())}${i % 3 === 0 ? `&room_id=${roomId}` : ""}`);
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < queries.length) {
        const path = queries[next++]!;
        const r = await c.get(path);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 500 || (r.status !== 200 && r.status !== 400)) failures.push(`${r.status} ${path}`);
        if (r.status === 400) expect(r.body.error).toBe("invalid_request");
      }
    }),
  );
  expect(failures).toEqual([]);
  return statuses;
}

async function seed(s: TestServer): Promise<{ c: RestClient; roomId: string }> {
  const t = await s.createTenant("fuzz");
  const c = s.client(t.api_key, "a");
  const r = await c.post("/rooms", { type: "group", members: ["b"] });
  for (const content of ["hello world", "café deploy", 'quote " and \' and \\ backslash', "AND OR NOT NEAR(x) a:* <-> !b", "日本語のテキスト", "😀 emoji 👨‍👩‍👧"]) {
    expect((await c.post(`/rooms/${r.body.room_id}/messages`, { content })).status).toBe(201);
  }
  return { c, roomId: r.body.room_id };
}

describe("search fuzz: no query causes a 5xx", () => {
  let sqlite: TestServer;
  let pg: TestServer | null = null;
  beforeAll(async () => {
    sqlite = await startTestServer({ DATABASE_DSN: ":memory:" });
    if (await postgresAvailable()) {
      const db = await createTestDatabase();
      pg = await startTestServer({ DATABASE_DSN: db.url, DATABASE_POOL_SIZE: "6" });
      const stop = pg.stop;
      pg.stop = async () => {
        await stop();
        await db.drop();
      };
    }
  });
  afterAll(async () => {
    await sqlite?.stop();
    await pg?.stop();
  });

  test("SQLite (FTS5): 2000 random and hostile queries", async () => {
    const { c, roomId } = await seed(sqlite);
    const statuses = await fuzz(c, roomId, 2000);
    expect(statuses.get(200)! > 100).toBe(true);
  }, 120_000);

  test("PostgreSQL (tsvector): 2000 random and hostile queries", async () => {
    if (!pg) return;
    const { c, roomId } = await seed(pg);
    const statuses = await fuzz(c, roomId, 2000);
    expect(statuses.get(200)! > 100).toBe(true);
  }, 120_000);
});
