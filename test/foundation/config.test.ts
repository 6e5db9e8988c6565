// Invalid configuration stops the real entry point with exit code 2 and one stderr line per problem.
import { afterAll, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { lines, runCli, tempDir } from "./cli";

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("bad config exits 2 with one stderr line per problem, naming every variable", async () => {
  const dataDir = join(root, "never-created");
  const r = await runCli([], { DATA_DIR: dataDir, LISTEN_ADDR: "bad", RETRY_INTERVAL: "xyz", SQLITE_SYNCHRONOUS: "maybe" });
  expect(r.code).toBe(2);
  const errLines = lines(r.stderr);
  expect(errLines).toHaveLength(3);
  for (const name of ["LISTEN_ADDR", "RETRY_INTERVAL", "SQLITE_SYNCHRONOUS"]) expect(errLines.filter((l) => l.includes(name))).toHaveLength(1);
  expect(r.stdout).toBe("");
  // Validation happens before anything touches the disk.
  expect(existsSync(dataDir)).toBe(false);
});

test("bad config exits 2 for every command that reads the environment, not only serve", async () => {
  for (const args of [["serve"], ["migrate"], ["tenants", "list"], ["healthcheck"]]) {
    const r = await runCli(args, { DATA_DIR: join(root, "cmd"), MAX_BODY_BYTES: "lots" });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain("MAX_BODY_BYTES");
  }
});

test("a config error never echoes the master key", async () => {
  const r = await runCli([], { DATA_DIR: join(root, "mk"), MASTER_API_KEY: "short secret" });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("MASTER_API_KEY");
  expect(r.stderr).not.toContain("short secret");
});

test("REDIS_URL without a PostgreSQL DATABASE_DSN exits 2 (cluster mode needs one shared store)", async () => {
  const r = await runCli(["serve"], { DATA_DIR: join(root, "redis"), REDIS_URL: "redis://127.0.0.1:6379/0" });
  expect(r.code).toBe(2);
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toContain("REDIS_URL");
  expect(r.stderr).toContain("DATABASE_DSN");
});
