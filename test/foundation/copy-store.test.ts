// `chatapi copy-store`: a populated SQLite installation (several tenants, rooms, thousands of
// messages, pending deliveries, dead letters) copied SQLite -> PostgreSQL -> SQLite keeps every
// record; the copies answer the API like the original; a non-empty target is refused; the source is
// unchanged. Skipped (with a notice) when no PostgreSQL is reachable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COPY_TABLES, type CopyRow } from "../../src/storage/copy";
import { PgCopyStore } from "../../src/storage/postgres/copy";
import { SqliteCopyStore } from "../../src/storage/sqlite/copy";
import { startTestServer, TEST_MASTER_KEY, type TestServer } from "../helpers";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/postgres";
import { runCli, tempDir } from "./cli";
import { claims, genKey, signWith, type TestKey } from "../auth/jwt-helpers";
import { download, upload } from "../attachments/upload-helpers";

const available = await postgresAvailable();

/** Signed attachment urls differ per response (fresh expiry, per-installation secret): compared without them. */
function unsigned<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === "url" || k === "url_expires_at" ? undefined : v)));
}

/** Every row of every copied table, in key order. */
async function dump(store: SqliteCopyStore | PgCopyStore): Promise<Record<string, CopyRow[]>> {
  const out: Record<string, CopyRow[]> = {};
  for (const t of COPY_TABLES) {
    out[t] = [];
    for await (const batch of store.rows(t, 700)) out[t]!.push(...batch);
  }
  await store.close();
  return out;
}

describe.skipIf(!available)("chatapi copy-store", () => {
  const dir = tempDir("chatapi-copy-");
  const srcFile = join(dir, "src.db");
  const backFile = join(dir, "back.db");
  let pg: TestDatabase;
  let keys: { a: string; b: string; c: string };
  let rooms: string[] = [];
  let attachmentId = "";
  // Attachment files are not copied: every installation of this test shares one store.
  const files = { ATTACHMENTS_STORE: `file:${join(dir, "files")}` };
  let before: { history: unknown; summaries: unknown; dead: number; idem: { message_id: string } };
  let key: TestKey;
  let tenantC: string;
  const hang = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
  const fail = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("no", { status: 500 }) });

  beforeAll(async () => {
    pg = await createTestDatabase();
    const s: TestServer = await startTestServer({ ...files, DATABASE_DSN: `file:${srcFile}`, RETRY_MAX_ATTEMPTS: "1", WEBHOOK_CONCURRENCY_PER_TENANT: "1", SHUTDOWN_DRAIN_TIMEOUT: "500ms" });
    try {
      const a = await s.createTenant("dead-letters", { webhook_url: fail.url.href });
      const b = await s.createTenant("pending", { webhook_url: hang.url.href });
      key = await genKey("ES256", "copy-kid");
      const c = await s.createTenant("bulk", { user_message_rate: 100000, jwt_public_keys: [key.jwk] });
      keys = { a: a.api_key, b: b.api_key, c: c.api_key };
      tenantC = c.tenant_id;
      for (const [key, n] of [[keys.a, 20], [keys.b, 20]] as const) {
        const owner = s.client(key, "u1");
        const r = await owner.post("/rooms", { type: "group", name: "webhooked", members: ["u2", "u3"] });
        for (let i = 0; i < n; i++) expect((await owner.post(`/rooms/${r.body.room_id}/messages`, { content: `w${i}` })).status).toBe(201);
      }
      const owner = s.client(keys.c, "owner");
      for (let i = 0; i < 6; i++) {
        const r = await owner.post("/rooms", { type: i % 2 ? "channel" : "group", name: `room ${i}`, metadata: { zeta: i, alpha: [i, "x"] }, members: ["m1", "m2", `only${i}`] });
        rooms.push(r.body.room_id);
      }
      const dm = await owner.post("/rooms", { type: "dm", members: ["m1"] });
      rooms.push(dm.body.room_id);
      // 3,000 messages over the rooms, 32 at a time, some with meta.
      const jobs = Array.from({ length: 3000 }, (_, i) => () => s.client(keys.c, i % 3 ? "owner" : "m1").post(`/rooms/${rooms[i % rooms.length]}/messages`, { content: `message ${i} ✓`, ...(i % 5 ? {} : { meta: { i, s: "é" } }) }));
      for (let i = 0; i < jobs.length; i += 32) for (const r of await Promise.all(jobs.slice(i, i + 32).map((j) => j()))) expect(r.status).toBe(201);
      const idem = await owner.post(`/rooms/${rooms[0]}/messages`, { content: "once", client_msg_id: "idem-1" });
      const up = await upload(s.url, { "x-api-key": keys.c, "x-user-id": "owner" }, rooms[2]!, { filename: "plan.txt", data: "copied file" });
      attachmentId = up.body.attachment_id;
      expect((await owner.post(`/rooms/${rooms[2]}/messages`, { content: "zebra with a file", attachments: [attachmentId] })).status).toBe(201);
      const hist = await owner.get(`/rooms/${rooms[0]}/messages?limit=50`);
      await owner.patch(`/rooms/${rooms[0]}/messages/${hist.body.messages[0].message_id}`, { content: "edited", meta: "now a string" });
      await owner.del(`/rooms/${rooms[0]}/messages/${hist.body.messages[1].message_id}`);
      // Conversation data (replies, mentions, reactions) travels too, and so does the changes cursor.
      const root = hist.body.messages[2];
      expect((await owner.post(`/rooms/${rooms[0]}/messages`, { content: "reply", parent_id: root.message_id, mentions: ["m1"] })).status).toBe(201);
      expect((await s.client(keys.c, "m1").post(`/rooms/${rooms[0]}/messages/${root.message_id}/reactions`, { reaction: "👍" })).status).toBe(200);
      await s.client(keys.c, "m1").post("/acks", { room_id: rooms[1], seq: 100 });
      await s.client(keys.c, "m1").post("/subscriptions", { topic: "news" });
      await s.client(keys.c).post("/notify", { topic: "news", payload: { n: 1 }, targets: { topic_subscribers: true } });
      await s.client(keys.c).post("/notify", { topic: "direct", payload: null, targets: { user_ids: ["m1", "m2"] } });
      before = {
        history: (await owner.get(`/rooms/${rooms[0]}/messages?limit=100`)).body,
        summaries: (await s.client(keys.c, "m1").get("/rooms?limit=100")).body,
        dead: 0,
        idem: idem.body,
      };
      // Dead letters of tenant a: every attempt failed once (RETRY_MAX_ATTEMPTS=1).
      const deadList = async () => (await s.client(keys.a).get("/admin/dead-letters?limit=1000")).body.dead_letters.length;
      const { waitFor } = await import("../helpers");
      await waitFor(async () => (await deadList()) >= 40, 20_000, "dead letters");
      before.dead = await deadList();
    } finally {
      await s.stop();
    }
  }, 180_000);

  afterAll(async () => {
    hang.stop(true);
    fail.stop(true);
    await pg?.drop();
  }, 30_000);

  test("SQLite -> PostgreSQL -> SQLite keeps every record and leaves the source unchanged", async () => {
    const srcHash = Bun.hash(readFileSync(srcFile));
    const there = await runCli(["copy-store", "--to", pg.url, "--batch-size", "500"], { DATABASE_DSN: `file:${srcFile}`, MASTER_API_KEY: TEST_MASTER_KEY }, 120_000);
    expect(there.stderr).toContain("copy-store: messages: ");
    expect(there.stderr).toContain("verified");
    expect(there.code).toBe(0);
    const report = JSON.parse(there.stdout);
    expect(report.to.store).toBe("postgres");
    expect(report.tables.messages).toBeGreaterThanOrEqual(3041);
    expect(report.tables.deliveries).toBeGreaterThan(0);
    const back = await runCli(["copy-store", `--to=file:${backFile}`], { DATABASE_DSN: pg.url, MASTER_API_KEY: TEST_MASTER_KEY }, 120_000);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout).tables).toEqual(report.tables);

    const original = await dump(SqliteCopyStore.open(srcFile, { snapshot: true, migrate: false }));
    const viaPg = await dump(await PgCopyStore.open(pg.url, { snapshot: true, migrate: false }));
    const roundTrip = await dump(SqliteCopyStore.open(backFile, { snapshot: true, migrate: false }));
    expect(original.deliveries!.some((d) => d.status === "pending")).toBe(true);
    expect(original.deliveries!.some((d) => d.status === "dead")).toBe(true);
    for (const t of COPY_TABLES) {
      expect({ table: t, rows: viaPg[t] }).toEqual({ table: t, rows: original[t]! });
      expect({ table: t, rows: roundTrip[t] }).toEqual({ table: t, rows: original[t]! });
    }
    expect(Bun.hash(readFileSync(srcFile))).toBe(srcHash);
    // The SQLite copy rebuilt its search index from the copied messages.
    const s = await startTestServer({ ...files, DATABASE_DSN: `file:${backFile}`, WORKER_INTERVAL: "1h", RETRY_INTERVAL: "1h" });
    try {
      const owner = s.client(keys.c, "owner");
      expect((await owner.get("/search?q=zebra")).body.messages.map((m: any) => m.attachments[0].attachment_id)).toEqual([attachmentId]);
      expect((await owner.get(`/search?q=${encodeURIComponent('"message 17"')}`)).body.messages.map((m: any) => m.content)).toEqual(["message 17 ✓"]);
      const sent = await owner.post(`/rooms/${rooms[3]}/messages`, { content: "zebra again" });
      expect(sent.status).toBe(201);
      expect((await owner.get("/search?q=zebra")).body.messages.map((m: any) => m.content)).toEqual(["zebra again", "zebra with a file"]);
    } finally {
      await s.stop();
    }
  }, 240_000);

  test("a non-empty target is refused with exit 2 and left as it was", async () => {
    const r = await runCli(["copy-store", "--to", pg.url], { DATABASE_DSN: `file:${srcFile}`, MASTER_API_KEY: TEST_MASTER_KEY }, 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not empty");
    const usage = await runCli(["copy-store"], { DATABASE_DSN: `file:${srcFile}` });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--to");
  }, 120_000);

  test("the PostgreSQL copy answers the API like the original: history, unread counts, idempotent resend, dead letters, keys", async () => {
    const s = await startTestServer({ ...files, DATABASE_DSN: pg.url, WORKER_INTERVAL: "1h", RETRY_INTERVAL: "1h" });
    try {
      const owner = s.client(keys.c, "owner");
      expect((await owner.get(`/rooms/${rooms[0]}/messages?limit=100`)).body).toEqual(before.history);
      expect(unsigned((await s.client(keys.c, "m1").get("/rooms?limit=100")).body)).toEqual(unsigned(before.summaries));
      const again = await owner.post(`/rooms/${rooms[0]}/messages`, { content: "once", client_msg_id: "idem-1" });
      expect(again.status).toBe(200);
      expect(again.body.message_id).toBe(before.idem.message_id);
      expect((await s.client(keys.a).get("/admin/dead-letters?limit=1000")).body.dead_letters.length).toBe(before.dead);
      // The tenant's JWT public keys came along (a json column): a token signed with the key authenticates.
      const jwtRooms = await s.raw({ authorization: `Bearer ${await signWith(key, claims(tenantC, "m1"))}` }).get("/rooms?limit=100");
      expect(jwtRooms.status).toBe(200);
      expect(unsigned(jwtRooms.body)).toEqual(unsigned(before.summaries));
      // Search works on the copy (the tsvector is generated on insert); attachment records came along.
      const found = await owner.get("/search?q=zebra");
      expect(found.body.messages.map((m: any) => m.content)).toEqual(["zebra with a file"]);
      expect(found.body.messages[0].attachments[0].attachment_id).toBe(attachmentId);
      expect(new TextDecoder().decode((await download(`${s.url}/attachments/${attachmentId}`, { "x-api-key": keys.c, "x-user-id": "owner" })).bytes)).toBe("copied file");
      expect((await owner.get("/search?q=message%20ok*&limit=5")).status).toBe(200);
      expect((await owner.get(`/search?q=${encodeURIComponent('"message 17"')}`)).body.messages.map((m: any) => m.content)).toEqual(["message 17 ✓"]);
      const next = await owner.post(`/rooms/${rooms[1]}/messages`, { content: "after the move" });
      expect(next.status).toBe(201);
      expect(next.body.seq).toBe((before.summaries as { rooms: { room_id: string; last_seq: number }[] }).rooms.find((r) => r.room_id === rooms[1])!.last_seq + 1);
    } finally {
      await s.stop();
    }
  }, 60_000);
});
