// Start-up safety (issue 14): one server per address and per database, private data files, and a
// lock that a killed server does not leave behind. CLI commands still share a running server's database.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import { loadConfig } from "../../src/config";
import { startServer } from "../../src/main";
import { InstanceLockedError } from "../../src/storage/sqlite/instance-lock";
import { startTestServer, TEST_MASTER_KEY } from "../helpers";
import { cleanEnv, MAIN, REPO_ROOT, runCli, tempDir } from "./cli";
import { onlyOn } from "../support/test-store";

const root = tempDir("chatapi-startup-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** `chatapi serve` as a child; resolves with its URL once it logs "chatapi listening". */
async function spawnServe(env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "run", MAIN, "serve"], {
    cwd: REPO_ROOT,
    env: cleanEnv({ LISTEN_ADDR: "127.0.0.1:0", MASTER_API_KEY: TEST_MASTER_KEY, ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 20_000,
  });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`server exited before listening: ${await new Response(proc.stderr).text()}`);
    buf += decoder.decode(value, { stream: true });
    const line = buf.split("\n").find((l) => l.includes('"chatapi listening"'));
    if (line) {
      reader.releaseLock();
      return { proc, url: JSON.parse(line).url as string };
    }
  }
}

describe("one server per address", () => {
  test("a second server on the same port exits 1 with a message naming the address", async () => {
    const s = await startTestServer();
    try {
      const r = await runCli(["serve"], { DATA_DIR: join(root, "other-db"), LISTEN_ADDR: `127.0.0.1:${s.api.port}`, MASTER_API_KEY: TEST_MASTER_KEY }, 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${s.api.port}`);
      expect(r.stderr).toContain("already in use");
      // The first server still answers, alone.
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test("a refused listen leaves the database lock free: the same DATA_DIR starts on a free port", async () => {
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    const dataDir = join(root, "listen-refused");
    const config = (port: number) => loadConfig({ LISTEN_ADDR: `127.0.0.1:${port}`, DATA_DIR: dataDir, MASTER_API_KEY: TEST_MASTER_KEY, LOG_LEVEL: "silent" });
    try {
      await expect(startServer(config(blocker.port!), { logDestination: { write() {} } as DestinationStream })).rejects.toThrow(/already in use/);
    } finally {
      blocker.stop(true);
    }
    const api = await startServer(config(0), { logDestination: { write() {} } as DestinationStream });
    await api.stop();
  });
});

// SQLite's instance lock. A PostgreSQL database is shared by several servers by design (docs/guides/scaling.md).
describe.skipIf(onlyOn("sqlite", "one server per database: SQLite's instance lock; a PostgreSQL database is shared by several servers by design"))("one server per database", () => {
  test("a second server process on the same database refuses to start with a clear message", async () => {
    const s = await startTestServer();
    try {
      const r = await runCli(["serve"], { DATA_DIR: s.dataDir, LISTEN_ADDR: "127.0.0.1:0", MASTER_API_KEY: TEST_MASTER_KEY }, 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`another ChatAPI server is already using the database ${s.api.config.databasePath}`);
      expect(r.stderr).toContain("chatapi.db.lock");
      expect(r.stdout).not.toContain("chatapi listening");
    } finally {
      await s.stop();
    }
  });

  test("a second server in the same process is refused too; after stop the database is free again", async () => {
    const s = await startTestServer();
    const config = loadConfig({ LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: s.dataDir, MASTER_API_KEY: TEST_MASTER_KEY, LOG_LEVEL: "silent" });
    let threw: unknown;
    try {
      await startServer(config, { logDestination: { write() {} } as DestinationStream });
    } catch (err) {
      threw = err;
    }
    expect(threw).toBeInstanceOf(InstanceLockedError);
    // The refused attempt did not disturb the running server's lock.
    const again = await runCli(["serve"], { DATA_DIR: s.dataDir, LISTEN_ADDR: "127.0.0.1:0", MASTER_API_KEY: TEST_MASTER_KEY }, 20_000);
    expect(again.code).toBe(1);
    const dataDir = s.dataDir;
    await s.api.stop();
    const next = await startServer(config, { logDestination: { write() {} } as DestinationStream });
    try {
      expect((await fetch(`${next.url}/health`)).status).toBe(200);
    } finally {
      await next.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("CLI commands work on the database of a running server (tenants create, tenants list, backup)", async () => {
    const dataDir = join(root, "shared-with-cli");
    const { proc, url } = await spawnServe({ DATA_DIR: dataDir });
    try {
      const created = await runCli(["tenants", "create", "while-running"], { DATA_DIR: dataDir });
      expect(created.code).toBe(0);
      const key = JSON.parse(created.stdout).api_key as string;
      const rooms = await fetch(`${url}/rooms`, { headers: { "x-api-key": key, "x-user-id": "u1" } });
      expect(rooms.status).toBe(200);
      expect((await runCli(["tenants", "list"], { DATA_DIR: dataDir })).code).toBe(0);
      const backup = await runCli(["backup", join(root, "while-running.db")], { DATA_DIR: dataDir });
      expect(backup.code).toBe(0);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });

  test("a SIGKILLed server leaves no stale lock: a restart on the same database starts", async () => {
    const dataDir = join(root, "killed");
    const first = await spawnServe({ DATA_DIR: dataDir });
    expect(existsSync(join(dataDir, "chatapi.db.lock"))).toBe(true);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const second = await spawnServe({ DATA_DIR: dataDir });
    try {
      expect((await fetch(`${second.url}/health`)).status).toBe(200);
    } finally {
      second.proc.kill("SIGTERM");
      expect(await second.proc.exited).toBe(0);
    }
  });
});

describe("file modes", () => {
  test("a data directory the server creates is 0700; the database, its -wal, -shm and lock files are 0600", async () => {
    const dataDir = join(root, "fresh", "data");
    const { proc, url } = await spawnServe({ DATA_DIR: dataDir });
    try {
      // A write, so the WAL holds something.
      const t = await fetch(`${url}/admin/tenants`, { method: "POST", headers: { "x-master-key": TEST_MASTER_KEY, "content-type": "application/json" }, body: JSON.stringify({ name: "modes" }) });
      expect(t.status).toBe(201);
      expect(mode(dataDir)).toBe("700");
      for (const f of ["chatapi.db", "chatapi.db-wal", "chatapi.db-shm", "chatapi.db.lock"]) expect([f, mode(join(dataDir, f))]).toEqual([f, "600"]);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });

  test("the generated master key and a database made by the CLI are private too", async () => {
    const dataDir = join(root, "fresh-cli", "data");
    const r = await runCli(["tenants", "create", "first"], { DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    expect(mode(dataDir)).toBe("700");
    expect(mode(join(dataDir, "chatapi.db"))).toBe("600");
    const { proc } = await spawnServe({ DATA_DIR: dataDir, MASTER_API_KEY: "" });
    try {
      expect(mode(join(dataDir, "master.key"))).toBe("600");
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });

  test("a backup file is 0600 like the database it copies", async () => {
    const dataDir = join(root, "backup-mode");
    expect((await runCli(["tenants", "create", "b"], { DATA_DIR: dataDir })).code).toBe(0);
    const file = join(root, "backup-mode.db");
    const r = await runCli(["backup", file], { DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    expect(mode(file)).toBe("600");
  });

  test("an existing data directory keeps its mode (the operator's choice)", async () => {
    const dataDir = tempDir("chatapi-existing-");
    try {
      Bun.spawnSync(["chmod", "0750", dataDir]);
      const s = await startTestServer({ DATA_DIR: dataDir });
      // stop(), not api.stop(): on PostgreSQL its database goes too, in cluster mode node B and nginx.
      await s.stop();
      expect(mode(dataDir)).toBe("750");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
