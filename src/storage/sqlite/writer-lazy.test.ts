// GroupCommitWriter's lazy transactions (issue 13): background work commits after the durable work
// of the same turn, in its own transaction, without an fsync of its own; the connection stays FULL.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GroupCommitWriter, type TxGate } from "./writer";

let dir: string;
let db: Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "chatapi-writer-lazy-"));
  db = new Database(join(dir, "w.db"), { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const writer = () => new GroupCommitWriter<TxGate>(db, { makeHandle: (g) => g, onCallbackError: () => {} });
const ins = (v: string, order: string[]) => async (g: TxGate) => {
  db.query("INSERT INTO t (v) VALUES (?)").run(v);
  g.callbacks.push(() => order.push(`${v} committed`));
};

test("lazy work of a turn commits after that turn's durable work (whose promises resolve first); synchronous stays FULL", async () => {
  const w = writer();
  const order: string[] = [];
  const lazy = w.submit(ins("lazy", order), { lazy: true }).then(() => order.push("lazy resolved"));
  const durable = w.submit(ins("durable", order)).then(() => order.push("durable resolved"));
  await Promise.all([lazy, durable]);
  expect(order).toEqual(["durable committed", "durable resolved", "lazy committed", "lazy resolved"]);
  expect((db.query("SELECT v FROM t ORDER BY id").all() as { v: string }[]).map((r) => r.v)).toEqual(["durable", "lazy"]);
  expect((db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous).toBe(2);
  expect(w.stats.batches).toBe(2);
});

test("flush() (shutdown) runs queued lazy work at once", async () => {
  const w = writer();
  void w.submit(ins("x", []), { lazy: true });
  await w.flush();
  expect((db.query("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(1);
});
