import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackgroundCheckpointer, BACKSTOP_AUTOCHECKPOINT_PAGES } from "./checkpointer";
import { openDatabase } from "./connection";
import { waitFor } from "../../../test/helpers";

test("the worker checkpoints the WAL once it passes the threshold; the main connection's autocheckpoint becomes the backstop", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ckpt-"));
  const path = join(dir, "db.sqlite");
  const db = openDatabase(path, "full");
  const c = new BackgroundCheckpointer({ path, db, pollMs: 10, thresholdBytes: 64 * 1024 });
  try {
    expect(c.start()).toBe(true);
    expect((db.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
    db.exec("CREATE TABLE t (x TEXT)");
    const ins = db.query("INSERT INTO t VALUES (?)");
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) ins.run("x".repeat(200));
    })();
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(64 * 1024);
    await waitFor(() => c.completed > 0, 5000, "a background checkpoint");
    // The checkpointed pages are in the database file now.
    expect(statSync(path).size).toBeGreaterThan(2000 * 200);
  } finally {
    await c.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
