import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, MigrationError, openDatabase } from "./connection";
import { MIGRATIONS, type Migration } from "./migrations";

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-db-"));
  dirs.push(dir);
  return join(dir, "nested", "chatapi.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tableNames = (db: Database) =>
  db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r.name);
const schema = (db: Database) => db.query<{ sql: string | null }, []>("SELECT sql FROM sqlite_master ORDER BY type, name").all().map((r) => r.sql);

describe("openDatabase", () => {
  test("creates missing directories and sets WAL, synchronous, foreign keys and busy timeout", () => {
    const path = tempDb();
    const db = openDatabase(path, "full");
    try {
      expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
      expect(db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous).toBe(2); // FULL
      expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(1);
      expect(db.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()?.timeout).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    const normal = openDatabase(path, "normal");
    try {
      expect(normal.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous).toBe(1); // NORMAL
    } finally {
      normal.close();
    }
  });

  test("a read-only handle refuses writes", () => {
    const path = tempDb();
    const rw = openDatabase(path, "full");
    migrate(rw, MIGRATIONS);
    rw.close();
    const ro = openDatabase(path, "full", { readonly: true });
    try {
      expect(() => ro.exec("INSERT INTO health_probe (id, checked_at) VALUES (1, 'x')")).toThrow();
    } finally {
      ro.close();
    }
  });
});

describe("migrate", () => {
  test("applies every migration once and is idempotent on the same file", () => {
    const path = tempDb();
    const db1 = openDatabase(path, "full");
    expect(migrate(db1, MIGRATIONS)).toEqual(MIGRATIONS.map((m) => m.name));
    const before = schema(db1);
    db1.close();
    const db2 = openDatabase(path, "full");
    try {
      expect(migrate(db2, MIGRATIONS)).toEqual([]);
      expect(migrate(db2, MIGRATIONS)).toEqual([]);
      expect(schema(db2)).toEqual(before);
      const rows = db2.query<{ name: string; n: number }, []>("SELECT name, count(*) AS n FROM schema_migrations GROUP BY name ORDER BY name").all();
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ name: m.name, n: 1 })));
      expect(tableNames(db2)).toContain("tenants");
    } finally {
      db2.close();
    }
  });

  test("records applied_at from the clock it is given", () => {
    const db = openDatabase(":memory:", "full");
    try {
      migrate(db, [{ name: "900_t.sql", sql: "CREATE TABLE t (x)" }], () => new Date("2026-01-02T03:04:05.678Z"));
      expect(db.query("SELECT name, applied_at FROM schema_migrations").all()).toEqual([{ name: "900_t.sql", applied_at: "2026-01-02T03:04:05.678Z" }]);
    } finally {
      db.close();
    }
  });

  test("a failing migration leaves the schema unchanged and throws MigrationError naming it", () => {
    const path = tempDb();
    const db = openDatabase(path, "full");
    const good: Migration = { name: "900_good.sql", sql: "CREATE TABLE good_table (x INTEGER);" };
    const bad: Migration = { name: "901_bad.sql", sql: "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);" };
    const after: Migration = { name: "902_after.sql", sql: "CREATE TABLE after_bad (x INTEGER);" };
    let thrown: unknown;
    try {
      migrate(db, [good, bad, after]);
    } catch (err) {
      thrown = err;
    }
    try {
      expect(thrown).toBeInstanceOf(MigrationError);
      expect((thrown as MigrationError).migration).toBe("901_bad.sql");
      expect((thrown as MigrationError).message).toContain("901_bad.sql");
      const tables = tableNames(db);
      expect(tables).toContain("good_table");
      expect(tables).not.toContain("half_done");
      // Nothing after the failing migration ran either.
      expect(tables).not.toContain("after_bad");
      const names = db.query<{ name: string }, []>("SELECT name FROM schema_migrations ORDER BY name").all().map((r) => r.name);
      expect(names).toEqual(["900_good.sql"]);
      // Fixed, it applies on the next run, and only the remaining migrations run.
      expect(migrate(db, [good, { ...bad, sql: "CREATE TABLE half_done (x INTEGER);" }, after])).toEqual(["901_bad.sql", "902_after.sql"]);
      expect(tableNames(db)).toEqual(expect.arrayContaining(["good_table", "half_done", "after_bad"]));
    } finally {
      db.close();
    }
  });

  test("a failed migration leaves no data change behind either", () => {
    const db = openDatabase(":memory:", "full");
    try {
      migrate(db, [{ name: "900_t.sql", sql: "CREATE TABLE t (x INTEGER NOT NULL); INSERT INTO t VALUES (1);" }]);
      expect(() => migrate(db, [{ name: "901_u.sql", sql: "INSERT INTO t VALUES (2); UPDATE t SET x = 9; INSERT INTO t VALUES (NULL);" }])).toThrow(MigrationError);
      expect(db.query("SELECT x FROM t ORDER BY x").all()).toEqual([{ x: 1 }]);
    } finally {
      db.close();
    }
  });

  test("the embedded migrations are ordered, uniquely named and non-empty", () => {
    const names = MIGRATIONS.map((m) => m.name);
    expect([...names].sort()).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
    for (const m of MIGRATIONS) {
      expect(m.name).toMatch(/^\d{3}_[a-z0-9_]+\.sql$/);
      expect(m.sql.trim().length).toBeGreaterThan(0);
    }
  });
});
