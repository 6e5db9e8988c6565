// Migrations apply once, are idempotent across restarts, and a failure leaves the database unchanged.
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import { loadConfig } from "../../src/config";
import { startServer } from "../../src/main";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations";
import { TEST_MASTER_KEY } from "../helpers";
import { lines, runCli, tempDir } from "./cli";

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function start(dataDir: string) {
  const logs: string[] = [];
  const config = loadConfig({ LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, MASTER_API_KEY: TEST_MASTER_KEY, LOG_LEVEL: "info" });
  const api = await startServer(config, { logDestination: { write: (s: string) => void logs.push(s) } as DestinationStream });
  return { api, logs };
}

const migrationRows = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.query<{ name: string }, []>("SELECT name FROM schema_migrations ORDER BY name").all().map((r) => r.name);
  } finally {
    db.close();
  }
};

test("migrations apply on first start only; a restart applies none and keeps the data", async () => {
  const dataDir = join(root, "restart");
  const first = await start(dataDir);
  const applied = first.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "migrations applied");
  expect(applied?.applied).toEqual(MIGRATIONS.map((m) => m.name));
  const { tenant } = await first.api.tenants.create("survivor");
  const dbPath = first.api.config.databasePath;
  await first.api.stop();

  const second = await start(dataDir);
  try {
    expect(second.logs.some((l) => JSON.parse(l).msg === "migrations applied")).toBe(false);
    expect((await second.api.tenants.get(tenant.id)).name).toBe("survivor");
  } finally {
    await second.api.stop();
  }
  expect(migrationRows(dbPath)).toEqual(MIGRATIONS.map((m) => m.name));
});

test("CLI migrate prints the applied names as JSON, then an empty list", async () => {
  const env = { DATA_DIR: join(root, "cli-migrate") };
  const a = await runCli(["migrate"], env);
  expect(a.code).toBe(0);
  expect(lines(a.stdout)).toHaveLength(1);
  expect(JSON.parse(a.stdout)).toEqual({ applied: MIGRATIONS.map((m) => m.name) });
  const b = await runCli(["migrate"], env);
  expect(b.code).toBe(0);
  expect(JSON.parse(b.stdout)).toEqual({ applied: [] });
  expect(migrationRows(join(env.DATA_DIR, "chatapi.db"))).toEqual(MIGRATIONS.map((m) => m.name));
});

test("CLI migrate on a conflicting database exits 1 naming the migration and changes nothing", async () => {
  const dataDir = join(root, "cli-conflict");
  const dbPath = join(dataDir, "chatapi.db");
  // A pre-existing table with the name 001 creates makes 001 fail after it may have done other work.
  mkdirSync(dataDir, { recursive: true });
  const pre = new Database(dbPath, { create: true });
  pre.exec("CREATE TABLE health_probe (legacy TEXT)");
  pre.close();

  const r = await runCli(["migrate"], { DATA_DIR: dataDir });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("001_init.sql");
  expect(r.stdout).toBe("");
  const db = new Database(dbPath, { readonly: true });
  try {
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((t) => t.name);
    // 001 creates `tenants` before `health_probe`: its rollback must remove it.
    expect(tables).not.toContain("tenants");
    expect(tables).toContain("health_probe");
    expect(db.query("SELECT count(*) AS n FROM schema_migrations").get()).toEqual({ n: 0 });
  } finally {
    db.close();
  }
});
