// Resource faults: a read-only database and a full disk give 503 `unavailable` on writes and /health
// 503, never a crash, and recover fully; a long-running external reader or `chatapi backup` under
// load causes no errors.
//
// Disk full uses a real 4 MiB tmpfs when `mount` is permitted (root inside this sandbox: it is), so
// SQLite meets a real ENOSPC on its WAL; otherwise it falls back to the SQLite-level simulation
// (`PRAGMA max_page_count` = current page_count, so growth fails with SQLITE_FULL). Read-only uses
// `PRAGMA query_only=ON` on the server's own connection: remounting a file system read-only under
// open writable files fails with EBUSY, and chmod does not stop root.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, TEST_MASTER_KEY, waitFor, type TestServer } from "../helpers";
import { ensureBinary } from "./lib/binary";
import { SocketFrames } from "./lib/ws-raw";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store";
import { freezeGrowth, integrityCheck, setReadOnly } from "../support/faults";
import { onlyOn } from "../support/test-store";

const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(s: TestServer) {
  const t = await s.createTenant("faults", { rate_limit: 1_000_000, user_message_rate: 1_000_000 });
  const c = s.client(t.api_key, "u1");
  const room = (await c.post("/rooms", { type: "group", members: ["u2"] })).body.room_id as string;
  return { t, c, room };
}

describe("read-only database (PRAGMA query_only on the server's connection)", () => {
  test("writes answer 503 unavailable (REST and WS), /health 503, reads still work; full recovery", async () => {
    const s = await startTestServer({ CONSOLE_ENABLED: "false" });
    cleanups.push(() => s.stop());
    const { t, c, room } = await setup(s);
    const ws = await SocketFrames.open(s.wsUrl, { "x-api-key": t.api_key, "x-user-id": "u1" });
    expect((await c.post(`/rooms/${room}/messages`, { content: "before" })).status).toBe(201);
    setReadOnly(s.api, true);
    try {
      for (const r of [await c.post(`/rooms/${room}/messages`, { content: "ro" }), await c.post("/rooms", { type: "channel" }), await c.post("/subscriptions", { topic: "x" })]) {
        expect(r.status).toBe(503);
        expect(r.body.error).toBe("unavailable");
      }
      const frame = await ws.request({ type: "send_message", id: "ro", data: { room_id: room, content: "ro" } });
      expect(frame.type).toBe("error");
      expect(frame.error).toBe("unavailable");
      const h = await s.raw({}).get("/health");
      expect(h.status).toBe(503);
      expect(h.body.db_writable).toBe(false);
      expect((await c.get(`/rooms/${room}/messages`)).status).toBe(200);
    } finally {
      setReadOnly(s.api, false);
    }
    expect((await s.raw({}).get("/health")).status).toBe(200);
    expect((await c.post(`/rooms/${room}/messages`, { content: "after" })).status).toBe(201);
    expect((await ws.request({ type: "send_message", id: "ok", data: { room_id: room, content: "ws after" } })).type).toBe("reply");
    const history = await c.get(`/rooms/${room}/messages`);
    expect(history.body.messages.map((m: any) => m.content)).toEqual(["before", "after", "ws after"]);
    expect(history.body.messages.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    ws.close();
  });
});

function tryMount(dir: string): boolean {
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir], { stdout: "pipe", stderr: "pipe" });
  return r.exitCode === 0;
}

describe("disk full", () => {
  test("writes answer 503 unavailable and /health 503 while the disk is full; no crash; full recovery when space returns", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chatapi-full-"));
    const mounted = process.env.RELIABILITY_NO_MOUNT !== "1" && tryMount(dir);
    cleanups.push(() => {
      if (mounted) Bun.spawnSync(["umount", "-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    });
    console.log(`disk full: ${mounted ? "real 4 MiB tmpfs" : "mount not permitted: PRAGMA max_page_count simulation"}`);
    // SQLite on the full file system, whatever the suite's store (a full PostgreSQL disk is PostgreSQL's to handle).
    const s = await startTestServer({ DATA_DIR: dir, DATABASE_DSN: join(dir, "chatapi.db"), CONSOLE_ENABLED: "false", WAL_CHECKPOINT_INTERVAL: "1h" });
    cleanups.push(() => s.stop());
    const { c, room } = await setup(s);
    const filler = join(dir, "filler");
    let unfreeze = () => {};
    if (mounted) {
      const fd = openSync(filler, "w");
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // ENOSPC: the file system is full
      } finally {
        closeSync(fd);
      }
    } else {
      unfreeze = freezeGrowth(s.api);
    }
    let refused: { status: number; body: any } | null = null;
    let accepted = 0;
    for (let i = 0; i < 2000 && !refused; i++) {
      const r = await c.post(`/rooms/${room}/messages`, { content: `fill ${i} ${"z".repeat(3900)}` });
      if (r.status === 201) accepted++;
      else refused = r;
    }
    expect(refused).not.toBeNull();
    expect(refused!.status).toBe(503);
    expect(refused!.body.error).toBe("unavailable");
    const again = await c.post(`/rooms/${room}/messages`, { content: `still full ${"z".repeat(3900)}` });
    expect(again.status).toBe(503);
    // The probe's UPDATE needs new WAL space on a full disk; the page-count simulation cannot stop it.
    if (mounted) expect((await s.raw({}).get("/health")).status).toBe(503);
    expect((await c.get(`/rooms/${room}/messages?limit=1`)).status).toBe(200);
    if (mounted) unlinkSync(filler);
    else unfreeze();
    await waitFor(async () => (await s.raw({}).get("/health")).status === 200, 5000, "/health 200 after space returns");
    const after = await c.post(`/rooms/${room}/messages`, { content: "space is back" });
    expect(after.status).toBe(201);
    expect(after.body.seq).toBe(accepted + 1);
    expect(integrityCheck(s.api)).toBe("ok");
  }, 60_000);
});

// SQLite-specific (a second SQLite connection, `chatapi backup`); on PostgreSQL backups are pg_dump's.
describe.skipIf(onlyOn("sqlite", "external readers and backup: a second SQLite connection and `chatapi backup` (PostgreSQL backups are pg_dump's)"))("external readers and backup under load", () => {
  test("a second connection holding a read transaction, and `chatapi backup`, cause no errors during writes", async () => {
    const s = await startTestServer({ CONSOLE_ENABLED: "false", WAL_CHECKPOINT_INTERVAL: "100ms" });
    cleanups.push(() => s.stop());
    const { c, room } = await setup(s);
    const reader = new Database(s.api.config.databasePath, { readonly: true });
    reader.exec("BEGIN");
    const before = (reader.query("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
    const backupFile = join(mkdtempSync(join(tmpdir(), "chatapi-backup-")), "copy.db");
    cleanups.push(() => rmSync(join(backupFile, ".."), { recursive: true, force: true }));
    const binary = ensureBinary();
    const sends = Array.from({ length: 400 }, (_, i) => c.post(`/rooms/${room}/messages`, { content: `load ${i}` }));
    const backup = Bun.spawn([binary, "backup", backupFile], { env: { PATH: process.env.PATH ?? "", DATA_DIR: s.dataDir, DATABASE_DSN: s.api.config.databasePath, MASTER_API_KEY: TEST_MASTER_KEY }, stdout: "pipe", stderr: "pipe" });
    const results = await Promise.all(sends);
    const more = await Promise.all(Array.from({ length: 200 }, (_, i) => c.post(`/rooms/${room}/messages`, { content: `more ${i}` })));
    expect(await backup.exited).toBe(0);
    expect([...results, ...more].every((r) => r.status === 201)).toBe(true);
    // The reader's snapshot did not move while writes went on (and checkpoints ran around it).
    expect((reader.query("SELECT count(*) AS n FROM messages").get() as { n: number }).n).toBe(before);
    reader.exec("COMMIT");
    reader.close();
    const copy = openSqliteStore({ path: backupFile, synchronous: "full", migrate: false });
    expect(integrityCheck(copy)).toBe("ok");
    expect((await copy.tenants.list()).length).toBeGreaterThanOrEqual(1);
    await copy.close();
    expect((await s.raw({}).get("/health")).status).toBe(200);
    const errors = s.logs.filter((l) => /"level":"(error|fatal)"/.test(l));
    expect(errors).toEqual([]);
  }, 60_000);
});
