// The server and the CLI on PostgreSQL: /health names the store and turns 503 while the database
// refuses connections (requests get 503 `unavailable`, never 500), `chatapi migrate` applies the
// embedded migrations once, `chatapi backup` exits 2 naming pg_dump. Skipped when no PostgreSQL.
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { startTestServer, TEST_MASTER_KEY, waitFor } from "../helpers";
import { createTestDatabase, postgresAvailable, TEST_POSTGRES_URL, type TestDatabase } from "../support/postgres";
import { runCli, tempDir } from "./cli";

const available = await postgresAvailable();

describe.skipIf(!available)("PostgreSQL: server and CLI", () => {
  const dbs: TestDatabase[] = [];
  const admin = new SQL(TEST_POSTGRES_URL, { max: 1 });
  afterAll(async () => {
    for (const d of dbs) await d.drop();
    await admin.close();
  }, 30_000);

  test("/health reports the store kind (postgres here, sqlite for a file DSN)", async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const pg = await startTestServer({ DATABASE_DSN: db.url });
    const lite = await startTestServer({ DATABASE_DSN: ":memory:" });
    try {
      const h = await fetch(`${pg.url}/health`).then((r) => r.json());
      expect(h).toMatchObject({ status: "ok", db_writable: true, store: { kind: "postgres", writable: true } });
      expect((await fetch(`${lite.url}/health`).then((r) => r.json())).store).toEqual({ kind: "sqlite", writable: true });
      // The listening log names host:port/database, never credentials.
      expect(pg.logs.some((l) => l.includes(`127.0.0.1:5432/${db.name}`))).toBe(true);
    } finally {
      await pg.stop();
      await lite.stop();
    }
  }, 30_000);

  test("a database that refuses connections gives 503 on /health and on requests (not 500); both recover", async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const s = await startTestServer({ DATABASE_DSN: db.url });
    try {
      const t = await s.createTenant("t");
      const c = s.client(t.api_key, "u1");
      const room = await c.post("/rooms", { type: "group", name: "r", members: ["u2"] });
      expect(room.status).toBe(201);
      await admin.unsafe(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS false`);
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db.name}`;
      const health = await fetch(`${s.url}/health`);
      expect(health.status).toBe(503);
      expect((await health.json()).store).toEqual({ kind: "postgres", writable: false });
      const send = await c.post(`/rooms/${room.body.room_id}/messages`, { content: "while down" });
      expect({ status: send.status, error: send.body.error }).toEqual({ status: 503, error: "unavailable" });
      await admin.unsafe(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS true`);
      await waitFor(async () => (await fetch(`${s.url}/health`)).status === 200, 10_000, "/health back to 200");
      const again = await c.post(`/rooms/${room.body.room_id}/messages`, { content: "back" });
      expect(again.status).toBe(201);
      expect(again.body.seq).toBe(1);
    } finally {
      await admin.unsafe(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS true`).catch(() => {});
      await s.stop();
    }
  }, 30_000);

  test("content with U+0000 (PostgreSQL text cannot hold it) is 400 invalid_request, not 500; inside JSON values it is kept", async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const s = await startTestServer({ DATABASE_DSN: db.url });
    try {
      const t = await s.createTenant("t");
      const c = s.client(t.api_key, "u1");
      const room = await c.post("/rooms", { type: "group", name: "r", members: ["u2"], metadata: { a: "x\u0000y" } });
      expect(room.status).toBe(201);
      expect(room.body.metadata).toEqual({ a: "x\u0000y" });
      const bad = await c.post(`/rooms/${room.body.room_id}/messages`, { content: "a\u0000b" });
      expect({ status: bad.status, error: bad.body.error }).toEqual({ status: 400, error: "invalid_request" });
      const ok = await c.post(`/rooms/${room.body.room_id}/messages`, { content: "fine", meta: "\u0000" });
      expect(ok.status).toBe(201);
      expect(ok.body.seq).toBe(1);
      expect((await c.get(`/rooms/${room.body.room_id}/messages`)).body.messages[0].meta).toBe("\u0000");
    } finally {
      await s.stop();
    }
  }, 30_000);

  test("chatapi migrate applies the embedded migrations once; chatapi backup exits 2 and names pg_dump", async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const env = { DATABASE_DSN: db.url, MASTER_API_KEY: TEST_MASTER_KEY, DATA_DIR: tempDir() };
    const first = await runCli(["migrate"], env, 30_000);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).applied).toContain("001_init.sql");
    const second = await runCli(["migrate"], env, 30_000);
    expect(JSON.parse(second.stdout)).toEqual({ applied: [] });
    const backup = await runCli(["backup", `${env.DATA_DIR}/copy.db`], env, 30_000);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain("pg_dump");
    expect(backup.stdout).toBe("");
  }, 30_000);
});
