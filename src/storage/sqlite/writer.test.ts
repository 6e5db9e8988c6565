// GroupCommitWriter on a real bun:sqlite file database (WAL): batching, ordering, per-item failure,
// and the failure path after SQLite rolls a batch back by itself.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageUnavailableError, TransactionClosedError } from "../errors";
import { GroupCommitWriter, type TxGate } from "./writer";

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

/** The handle the tests' functions get: the gate itself plus an afterCommit. */
interface H {
  gate: TxGate;
  afterCommit(cb: () => void): void;
}

function writer(opts: { maxBatch?: number; callbackErrors?: unknown[] } = {}) {
  return new GroupCommitWriter<H>(db, {
    makeHandle: (gate) => ({ gate, afterCommit: (cb) => void gate.callbacks.push(cb) }),
    onCallbackError: (err) => void opts.callbackErrors?.push(err),
    maxBatch: opts.maxBatch,
  });
}

const insertRow = (v: string) => db.query("INSERT INTO t (v) VALUES (?) RETURNING id").get(v) as { id: number };
const insert = (v: string, after?: (id: number) => void) => async (tx: H) => {
  const r = insertRow(v);
  if (after) tx.afterCommit(() => after(r.id));
  return r;
};
const committed = () => (other.query("SELECT v FROM t ORDER BY id").all() as { v: string }[]).map((r) => r.v);

describe("GroupCommitWriter", () => {
  test("transactions of one turn share ONE SQLite transaction; afterCommit runs after COMMIT, in submission order, before each promise resolves", async () => {
    const w = writer();
    const log: string[] = [];
    const promises = ["a", "b", "c", "d"].map((v) =>
      w.submit(async (tx) => {
        log.push(`work ${v} inTx=${db.inTransaction} visible=${committed().length}`);
        const r = insertRow(v);
        // An await between statements, as real store calls have: the batch stays one transaction.
        await Promise.resolve();
        tx.afterCommit(() => log.push(`commit ${v} id=${r.id} inTx=${db.inTransaction} visible=${committed().length}`));
        return r;
      }),
    );
    // Nothing ran synchronously: the batch waits for the end of this turn.
    expect(log).toEqual([]);
    const results = await Promise.all(promises.map((p, i) => p.then((r) => (log.push(`resolved ${"abcd"[i]}`), r))));
    expect(results.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(w.stats).toEqual({ batches: 1, items: 4, largestBatch: 4 });
    expect(log).toEqual([
      "work a inTx=true visible=0",
      "work b inTx=true visible=0",
      "work c inTx=true visible=0",
      "work d inTx=true visible=0",
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
    const w = writer();
    await w.submit(insert("x"));
    await Promise.all([w.submit(insert("y")), w.submit(insert("z"))]);
    expect(w.stats).toEqual({ batches: 2, items: 3, largestBatch: 2 });
    expect(committed()).toEqual(["x", "y", "z"]);
  });

  test("a failing item (UNIQUE violation) fails only its own promise; the others commit and get afterCommit", async () => {
    db.exec("INSERT INTO t (v) VALUES ('taken')");
    const w = writer();
    const commits: string[] = [];
    const submit = (v: string) => w.submit(insert(v, () => commits.push(v)));
    const results = await Promise.allSettled([submit("one"), submit("taken"), submit("two"), submit("one"), submit("three")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain("unique");
    expect(commits).toEqual(["one", "two", "three"]);
    expect(w.stats.batches).toBe(1);
    expect(committed()).toEqual(["taken", "one", "two", "three"]);
  });

  test("a failing item's own partial writes are rolled back (its savepoint), the batch's are kept; its callbacks never run", async () => {
    const w = writer();
    let ran = false;
    const bad = w.submit(async (tx) => {
      insertRow("partial");
      tx.afterCommit(() => void (ran = true));
      throw new Error("boom after a write");
    });
    const good = w.submit(insert("kept"));
    await expect(bad).rejects.toThrow("boom after a write");
    expect((await good).id).toBeGreaterThan(0);
    expect(committed()).toEqual(["kept"]);
    expect(ran).toBe(false);
    expect(db.inTransaction).toBe(false);
  });

  test("regression: a throwing afterCommit callback is logged (onCallbackError), neither fails the commit nor stops later callbacks", async () => {
    const errors: unknown[] = [];
    const w = writer({ callbackErrors: errors });
    const after: string[] = [];
    const p1 = w.submit(
      insert("p1", () => {
        throw new Error("publish failed");
      }),
    );
    const p2 = w.submit(insert("p2", () => after.push("p2")));
    expect((await p1).id).toBe(1);
    expect((await p2).id).toBe(2);
    expect(after).toEqual(["p2"]);
    expect(errors.map(String)).toEqual(["Error: publish failed"]);
    expect(committed()).toEqual(["p1", "p2"]);
  });

  test("batches are capped at maxBatch items, still in submission order", async () => {
    const w = writer({ maxBatch: 3 });
    const order: string[] = [];
    const vs = ["1", "2", "3", "4", "5", "6", "7"];
    await Promise.all(vs.map((v) => w.submit(insert(v, () => order.push(v)))));
    expect(w.stats).toEqual({ batches: 3, items: 7, largestBatch: 3 });
    expect(order).toEqual(vs);
    expect(committed()).toEqual(vs);
  });

  test("flush() runs queued work at once (shutdown)", async () => {
    const w = writer();
    const p = w.submit(insert("now"));
    await w.flush();
    expect(committed()).toEqual(["now"]);
    expect((await p).id).toBe(1);
    expect(w.stats.batches).toBe(1);
  });

  test("when BEGIN fails (busy), every item of the batch is rejected with 503 unavailable and nothing is written", async () => {
    db.exec("PRAGMA busy_timeout = 0");
    const locker = new Database(join(dir, "w.db"));
    locker.exec("BEGIN IMMEDIATE");
    const w = writer();
    const results = await Promise.allSettled([w.submit(insert("a")), w.submit(insert("b"))]);
    locker.exec("ROLLBACK");
    locker.close();
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StorageUnavailableError);
    expect(committed()).toEqual([]);
    expect(w.stats.batches).toBe(0);
  });

  test("a handle used after its function settled throws TransactionClosedError", async () => {
    const w = writer();
    const kept = await w.submit(async (tx) => tx);
    expect(kept.gate.open).toBe(false);
  });
});

describe("GroupCommitWriter after SQLite rolled the batch back by itself (regression)", () => {
  function fillUp(): () => void {
    const pages = (db.query("PRAGMA page_count").get() as { page_count: number }).page_count;
    db.exec(`PRAGMA max_page_count = ${pages + 2}`);
    return () => db.exec("PRAGMA max_page_count = 1073741823");
  }
  // No index on this table: SQLite then answers SQLITE_FULL by rolling back the whole transaction.
  const big = (v: string, table = "blobs") => async () => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (v TEXT)`);
    for (let i = 0; i < 200; i++) db.query(`INSERT INTO ${table} (v) VALUES (?)`).run(`${v}-${i}-${"x".repeat(4000)}`);
    return null;
  };
  beforeEach(() => {
    db.exec("CREATE TABLE blobs (v TEXT)");
  });

  test("SQLITE_FULL mid-batch: no later item runs in autocommit mode; every caller gets 503 unavailable; nothing of the batch is committed", async () => {
    const restore = fillUp();
    const w = writer();
    const ran: string[] = [];
    const results = await Promise.allSettled([
      w.submit(insert("before")),
      // A plain failure first: the batch is replayed with a SAVEPOINT per item, where the bug was.
      w.submit(async () => {
        throw new Error("not allowed");
      }),
      w.submit(big("huge")),
      // Before the fix: this item's SAVEPOINT opened a fresh transaction and its RELEASE committed it.
      w.submit(async (tx) => {
        ran.push(`after inTx=${db.inTransaction}`);
        return insert("after")(tx);
      }),
    ]);
    restore();
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    // The item that failed on its own keeps its own error.
    expect(String((results[1] as PromiseRejectedResult).reason)).toBe("Error: not allowed");
    for (const r of [results[0], results[2], results[3]]) {
      const reason = (r as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(StorageUnavailableError);
      expect(reason.code).toBe("unavailable");
      expect(reason.driverCode).toBe("SQLITE_FULL");
    }
    expect(committed()).toEqual([]);
    expect(db.inTransaction).toBe(false);
    expect(ran).toEqual([]);
    // The writer keeps working once there is room again.
    expect((await w.submit(insert("later"))).id).toBeGreaterThan(0);
    expect(committed()).toEqual(["later"]);
  });

  test("an item that swallows the error and writes on gets TransactionClosedError, never an autocommit write", async () => {
    const restore = fillUp();
    const w = writer();
    let afterSwallow: unknown = null;
    const p = w.submit(async (tx) => {
      try {
        await big("huge")();
      } catch {
        // A careless caller: the transaction is gone, its handle must say so.
      }
      afterSwallow = tx.gate.open ? "open" : new TransactionClosedError();
      if (!tx.gate.open) throw afterSwallow;
      insertRow("must-not-commit");
      return null;
    });
    await expect(p).rejects.toBeInstanceOf(StorageUnavailableError);
    restore();
    expect(afterSwallow).toBeInstanceOf(TransactionClosedError);
    expect(committed()).toEqual([]);
  });

  test("an item whose function ROLLBACKs the transaction under the batch fails the whole batch with 503, later items are not committed on their own", async () => {
    const w = writer();
    const results = await Promise.allSettled([
      w.submit(insert("a")),
      w.submit(async () => {
        db.exec("ROLLBACK");
        throw Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR_WRITE" });
      }),
      w.submit(insert("c")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StorageUnavailableError);
    expect(committed()).toEqual([]);
  });
});

describe("GroupCommitWriter exclusive work (regression)", () => {
  test("an exclusive job alone (checkpoint) does not leave the writer looking busy: later transactions still run", async () => {
    const w = writer();
    expect(await w.exclusive(() => 42)).toBe(42);
    expect(await w.exclusive(() => "again")).toBe("again");
    expect((await w.submit(insert("after-exclusive"))).id).toBe(1);
    expect(committed()).toEqual(["after-exclusive"]);
  });

  test("exclusive jobs run between batches, outside any transaction, in queue order", async () => {
    const w = writer();
    const seen: string[] = [];
    await Promise.all([
      w.submit(insert("a", () => seen.push("a committed"))),
      w.exclusive(() => seen.push(`exclusive inTx=${db.inTransaction}`)),
      w.submit(insert("b", () => seen.push("b committed"))),
    ]);
    expect(seen).toEqual(["a committed", "exclusive inTx=false", "b committed"]);
  });
});
