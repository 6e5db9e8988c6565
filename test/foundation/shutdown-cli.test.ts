// The real entry point as a process: SIGTERM shutdown, backup, tenants, version, --help, healthcheck.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json";
import { CONFIG_VARS } from "../../src/config";
import { startTestServer, TEST_MASTER_KEY, waitFor } from "../helpers";
import { cleanEnv, freePort, lines, MAIN, REPO_ROOT, runCli, tempDir } from "./cli";
import { setReadOnly } from "../support/faults";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store";
import { integrityCheck } from "../support/faults";
import { openStoreAt } from "../support/store";
import { onlyOn } from "../support/test-store";

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Reads a process's stdout line by line until `pred` matches one (JSON lines) or the timeout passes. */
async function readUntil(stream: ReadableStream<Uint8Array>, seen: string[], pred: (line: any) => boolean, timeoutMs = 5000): Promise<any> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for a log line; got:\n${seen.join("\n")}`)), timeoutMs);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`stdout ended before the expected line; got:\n${seen.join("\n")}`);
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        seen.push(line);
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        if (pred(parsed)) return parsed;
      }
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

describe("serve", () => {
  test("SIGTERM exits 0 and leaves a checkpointed WAL; the database holds the data", async () => {
    const dataDir = join(root, "sigterm");
    const proc = Bun.spawn([process.execPath, "run", MAIN, "serve"], {
      cwd: REPO_ROOT,
      env: cleanEnv({ DATA_DIR: dataDir, LISTEN_ADDR: "127.0.0.1:0", MASTER_API_KEY: TEST_MASTER_KEY, SHUTDOWN_DRAIN_TIMEOUT: "2s" }),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 15_000,
    });
    const seen: string[] = [];
    try {
      const listening = await readUntil(proc.stdout, seen, (l) => l.msg === "chatapi listening");
      const url: string = listening.url;
      await waitFor(async () => (await fetch(`${url}/health`).catch(() => null))?.status === 200, 5000, "/health 200");
      const created = await fetch(`${url}/admin/tenants`, {
        method: "POST",
        headers: { "x-master-key": TEST_MASTER_KEY, "content-type": "application/json" },
        body: JSON.stringify({ name: "durable" }),
      });
      expect(created.status).toBe(201);
      const tenant = (await created.json()) as { tenant_id: string };
      // Before shutdown the WAL holds the write.
      const dbPath = join(dataDir, "chatapi.db");
      expect(existsSync(`${dbPath}-wal`) && statSync(`${dbPath}-wal`).size > 0).toBe(true);

      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(proc.signalCode).toBeNull();
      // The last log line made it out before exit.
      await readUntil(proc.stdout, seen, (l) => l.msg === "shutdown complete");
      const walPath = `${dbPath}-wal`;
      expect(!existsSync(walPath) || statSync(walPath).size === 0).toBe(true);
      const store = await openStoreAt(dataDir);
      try {
        expect((await store.tenants.get(tenant.tenant_id))?.name).toBe("durable");
        expect(integrityCheck(store)).toBe("ok");
      } finally {
        await store.close();
      }
      // After exit, the server no longer listens.
      expect(await fetch(`${url}/health`).then(() => "answered", () => "refused")).toBe("refused");
    } finally {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });
});

describe("CLI", () => {
  test("tenants create prints only the tenant JSON with its api_key; tenants list prints {tenants} without keys", async () => {
    const env = { DATA_DIR: join(root, "tenants") };
    const c = await runCli(["tenants", "create", "Acme Corp"], env);
    expect(c.code).toBe(0);
    expect(lines(c.stdout)).toHaveLength(1);
    const t = JSON.parse(c.stdout);
    expect(Object.keys(t).sort()).toEqual(["api_key", "config", "created_at", "name", "tenant_id"]);
    expect(t.name).toBe("Acme Corp");
    expect(t.api_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t.config.rate_limit).toBe(100);

    const l = await runCli(["tenants", "list"], env);
    expect(l.code).toBe(0);
    const list = JSON.parse(l.stdout);
    expect(list.tenants).toHaveLength(1);
    expect(list.tenants[0]).toEqual({ tenant_id: t.tenant_id, name: "Acme Corp", config: t.config, created_at: t.created_at });
    expect(l.stdout).not.toContain(t.api_key);
  });

  test("tenants with a bad subcommand exits 2 with usage on stderr", async () => {
    const r = await runCli(["tenants", "explode"], { DATA_DIR: join(root, "tenants-bad") });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("usage");
  });

  test("backup writes a consistent copy that opens and holds the data", async () => {
    const dataDir = join(root, "backup");
    const env = { DATA_DIR: dataDir };
    const t = JSON.parse((await runCli(["tenants", "create", "backed-up"], env)).stdout);
    const file = join(root, "backup-copy.db");
    const r = await runCli(["backup", file], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ backup: file });
    // The database holds attachment records only: the command says where the files are.
    expect(r.stderr).toContain(`${dataDir}/attachments (ATTACHMENTS_STORE)`);
    // The copy is a complete database: it opens as a store as it is (no migration to apply).
    const copy = openSqliteStore({ path: file, synchronous: "full", migrate: false });
    try {
      expect((await copy.tenants.get(t.tenant_id))?.name).toBe("backed-up");
      expect(integrityCheck(copy)).toBe("ok");
      expect((await copy.maintenance.dump()).get("schema_migrations")?.size).toBeGreaterThan(0);
    } finally {
      await copy.close();
    }
    // The copy is self-contained: no WAL beside it.
    expect(existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0).toBe(false);
    // Never overwrites an existing file.
    const again = await runCli(["backup", file], env);
    expect(again.code).not.toBe(0);
  });

  // SQLite's online backup; on PostgreSQL `backup` exits 2 naming pg_dump (test/foundation/postgres-store.test.ts).
  test.skipIf(onlyOn("sqlite", "`chatapi backup` of a running server is SQLite's online backup"))("backup of a running server's database holds the writes it acknowledged", async () => {
    const s = await startTestServer();
    try {
      const t = await s.createTenant("live-backup");
      const file = join(root, "live-copy.db");
      const r = await runCli(["backup", file], { DATA_DIR: s.dataDir });
      expect(r.code).toBe(0);
      const copy = openSqliteStore({ path: file, synchronous: "full", migrate: false });
      try {
        expect((await copy.tenants.get(t.tenant_id))?.name).toBe("live-backup");
      } finally {
        await copy.close();
      }
    } finally {
      await s.stop();
    }
  });

  test("version prints the package version", async () => {
    const r = await runCli(["version"], {});
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  test("--help lists every command and every CONFIG_VARS name", async () => {
    const r = await runCli(["--help"], {});
    expect(r.code).toBe(0);
    for (const cmd of ["serve", "tenants create", "tenants list", "migrate", "backup", "healthcheck", "version"]) expect(r.stdout).toContain(cmd);
    for (const v of CONFIG_VARS) expect(r.stdout).toContain(v.name);
  });

  test("an unknown command exits 2", async () => {
    const r = await runCli(["frobnicate"], { DATA_DIR: join(root, "unknown") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("frobnicate");
  });

  test("healthcheck exits 0 against a running server", async () => {
    const s = await startTestServer();
    try {
      const r = await runCli(["healthcheck"], { DATA_DIR: s.dataDir, LISTEN_ADDR: `127.0.0.1:${s.api.port}` });
      expect(r.code).toBe(0);
    } finally {
      await s.stop();
    }
  });

  test("healthcheck exits 1 when nothing listens", async () => {
    const r = await runCli(["healthcheck"], { DATA_DIR: join(root, "hc"), LISTEN_ADDR: `127.0.0.1:${freePort()}` });
    expect(r.code).toBe(1);
  });

  test("healthcheck exits 1 when the server answers 503", async () => {
    const s = await startTestServer();
    setReadOnly(s.api, true);
    try {
      const r = await runCli(["healthcheck"], { DATA_DIR: s.dataDir, LISTEN_ADDR: `127.0.0.1:${s.api.port}` });
      expect(r.code).toBe(1);
    } finally {
      setReadOnly(s.api, false);
      await s.stop();
    }
  });
});
