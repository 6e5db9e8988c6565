// GroupCommitWriter on a real bun:sqlite file database (WAL): batching, ordering, per-item failure.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GroupCommitWriter } from "./writer";

let dir: string;
let db: Database;
let other: Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "chatapi-writer-"));
  const path = join(dir, "w.db");
  db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
  // A second connection sees only committed data.
  other = new Database(path, { readonly: true });
});
afterEach(() => {
  other.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (v: string) => () => db.query("INSERT INTO t (v) VALUES (?) RETURNING id").get(v) as { id: number };
const committed = () => (other.query("SELECT v FROM t ORDER BY id").all() as { v: string }[]).map((r) => r.v);

describe("GroupCommitWriter", () => {
  test("submits of one turn share ONE transaction; onCommit runs after COMMIT, in submission order, before each promise resolves", async () => {
    const w = new GroupCommitWriter(db);
    const log: string[] = [];
    const promises = ["a", "b", "c", "d"].map((v) =>
      w.submit(
        () => {
          log.push(`work ${v} inTx=${db.inTransaction} visible=${committed().length}`);
          return insert(v)();
        },
        (r) => log.push(`commit ${v} id=${r.id} inTx=${db.inTransaction} visible=${committed().length}`),
      ),
    );
    // Nothing ran synchronously: the batch waits for the end of this turn.
    expect(log).toEqual([]);
    const results = await Promise.all(promises.map((p, i) => p.then((r) => (log.push(`resolved ${"abcd"[i]}`), r))));
    expect(results.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(w.stats).toEqual({ batches: 1, items: 4, largestBatch: 4 });
    expect(log).toEqual([
      // Every item ran inside the one open transaction, none visible to another connection yet.
      "work a inTx=true visible=0",
      "work b inTx=true visible=0",
      "work c inTx=true visible=0",
      "work d inTx=true visible=0",
      // After the single COMMIT all four are visible at once.
      "commit a id=1 inTx=false visible=4",
      "commit b id=2 inTx=false visible=4",
      "commit c id=3 inTx=false visible=4",
      "commit d id=4 inTx=false visible=4",
      "resolved a",
      "resolved b",
      "resolved c",
      "resolved d",
    ]);
    expect(committed()).toEqual(["a", "b", "c", "d"]);
  });

  test("submits of different turns form different batches", async () => {
    const w = new GroupCommitWriter(db);
    await w.submit(insert("x"));
    await Promise.all([w.submit(insert("y")), w.submit(insert("z"))]);
    expect(w.stats).toEqual({ batches: 2, items: 3, largestBatch: 2 });
    expect(committed()).toEqual(["x", "y", "z"]);
  });

  test("a failing item (UNIQUE violation) fails only its own promise; the others commit and get onCommit", async () => {
    db.exec("INSERT INTO t (v) VALUES ('taken')");
    const w = new GroupCommitWriter(db);
    const commits: string[] = [];
    const submit = (v: string) => w.submit(insert(v), () => commits.push(v));
    const results = await Promise.allSettled([submit("one"), submit("taken"), submit("two"), submit("one"), submit("three")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"]);
    const reason = (results[1] as PromiseRejectedResult).reason;
    expect(String(reason)).toContain("UNIQUE");
    expect(commits).toEqual(["one", "two", "three"]);
    expect(w.stats.batches).toBe(1);
    expect(committed()).toEqual(["taken", "one", "two", "three"]);
  });

  test("a failing item's own partial writes are rolled back (its savepoint), the batch's are kept", async () => {
    const w = new GroupCommitWriter(db);
    const bad = w.submit(() => {
      insert("partial")();
      throw new Error("boom after a write");
    });
    const good = w.submit(insert("kept"));
    await expect(bad).rejects.toThrow("boom after a write");
    expect((await good).id).toBeGreaterThan(0);
    expect(committed()).toEqual(["kept"]);
    expect(db.inTransaction).toBe(false);
  });

  test("a throwing onCommit does not turn a committed write into an error, nor stop later callbacks", async () => {
    const w = new GroupCommitWriter(db);
    const after: string[] = [];
    const p1 = w.submit(insert("p1"), () => {
      throw new Error("publish failed");
    });
    const p2 = w.submit(insert("p2"), () => after.push("p2"));
    expect((await p1).id).toBe(1);
    expect((await p2).id).toBe(2);
    expect(after).toEqual(["p2"]);
    expect(committed()).toEqual(["p1", "p2"]);
  });

  test("batches are capped at maxBatch items, still in submission order", async () => {
    const w = new GroupCommitWriter(db, 3);
    const order: string[] = [];
    const vs = ["1", "2", "3", "4", "5", "6", "7"];
    await Promise.all(vs.map((v) => w.submit(insert(v), () => order.push(v))));
    expect(w.stats).toEqual({ batches: 3, items: 7, largestBatch: 3 });
    expect(order).toEqual(vs);
    expect(committed()).toEqual(vs);
  });

  test("flush() runs queued work at once (shutdown)", async () => {
    const w = new GroupCommitWriter(db);
    const p = w.submit(insert("now"));
    w.flush();
    expect(committed()).toEqual(["now"]);
    expect((await p).id).toBe(1);
    expect(w.stats.batches).toBe(1);
  });

  test("when BEGIN fails, every item of the batch is rejected and nothing is written", async () => {
    const w = new GroupCommitWriter(db);
    db.exec("BEGIN");
    const results = await Promise.allSettled([w.submit(insert("a")), w.submit(insert("b"))]);
    db.exec("ROLLBACK");
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(committed()).toEqual([]);
    expect(w.stats.batches).toBe(0);
  });
});
