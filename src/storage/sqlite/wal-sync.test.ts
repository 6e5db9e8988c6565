// Durable commits off the event loop (wal-sync.ts): a batch settles only after an fdatasync that began
// after its COMMIT; batches keep committing while one is in flight; readers never see a row that is not
// durable yet; a failed fdatasync is a 503 for its batch and for everything after it.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageUnavailableError } from "../errors";
import type { TenantRow } from "../tenant-store";
import { openSqliteStore, type SqliteStore } from "./sqlite-store";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A disk whose fdatasyncs wait until the test lets each one go (then really fdatasync the WAL). */
function heldDisk(path: string) {
  const held: { release: () => void; fail: (e: Error) => void }[] = [];
  const waiting: (() => void)[] = [];
  let real = 0;
  const sync = () =>
    new Promise<void>((resolve, reject) => {
      held.push({
        release: () => {
          void open(`${path}-wal`, "r+").then(async (fh) => {
            await fh.datasync();
            await fh.close();
            real++;
            resolve();
          }, reject);
        },
        fail: reject,
      });
      for (const w of waiting.splice(0)) w();
    });
  return {
    sync,
    /** Resolves once an fdatasync is waiting to be let go. */
    next: async () => {
      while (held.length === 0) await new Promise<void>((r) => waiting.push(r));
      return held.shift()!;
    },
    get real() {
      return real;
    },
  };
}

const tenant = (id: string): TenantRow => ({ tenant_id: id, name: id, api_key_hash: `h-${id}`, config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: new Date(0).toISOString(), updated_at: new Date(0).toISOString() } as TenantRow);

/** A store on a file whose fdatasyncs the test lets go one by one; durability errors are collected. */
function heldStore() {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-walsync-"));
  dirs.push(dir);
  const path = join(dir, "s.db");
  const disk = heldDisk(path);
  const errors: unknown[] = [];
  const s = openSqliteStore({ path, synchronous: "full", durabilitySync: disk.sync, onDurabilityError: (e) => errors.push(e), onCallbackError: () => {} });
  stores.push(s);
  return { s, disk, errors };
}

function store() {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-walsync-"));
  dirs.push(dir);
  const s = openSqliteStore({ path: join(dir, "s.db"), synchronous: "full", onCallbackError: () => {} });
  stores.push(s);
  return { s };
}

describe("SQLite durability off the event loop (SQLITE_SYNCHRONOUS=full)", () => {
  test("the write connection commits without fsync and the WAL is fdatasynced on the I/O pool instead (real disk)", async () => {
    const { s } = store();
    expect(s.walSync).not.toBeNull();
    expect((s.db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous).toBe(1); // NORMAL
    await Promise.all(["a", "b", "c"].map((id) => s.transaction((tx) => tx.tenants.insert(tenant(id)))));
    expect(s.walSync!.stats.syncs).toBeGreaterThanOrEqual(1);
    expect(s.walSync!.stats.syncs).toBeLessThanOrEqual(s.walSync!.stats.commits);
    expect((await s.tenants.list()).map((t) => t.tenant_id).sort()).toEqual(["a", "b", "c"]);
  });

  test("SQLITE_SYNCHRONOUS=normal and :memory: keep SQLite's own commit (no WAL sync)", () => {
    const dir = mkdtempSync(join(tmpdir(), "chatapi-walsync-"));
    dirs.push(dir);
    const n = openSqliteStore({ path: join(dir, "n.db"), synchronous: "normal" });
    const m = openSqliteStore({ path: ":memory:", synchronous: "full" });
    stores.push(n, m);
    expect(n.walSync).toBeNull();
    expect(m.walSync).toBeNull();
  });

  test("a batch settles (promise, after-commit callbacks) only after its fdatasync; what arrives meanwhile waits and commits as ONE next batch, settled after, in commit order", async () => {
    const { s, disk } = heldStore();
    const log: string[] = [];
    const send = (id: string) =>
      s.transaction(async (tx) => {
        await tx.tenants.insert(tenant(id));
        tx.afterCommit(() => log.push(`callback ${id}`));
      }).then(() => log.push(`resolved ${id}`));
    const first = send("one");
    const sync1 = await disk.next();
    // Committed (the writer is free) but not durable: nothing settled yet.
    expect(s.writer.stats.batches).toBe(1);
    expect(log).toEqual([]);
    // Sends of several turns while the fdatasync runs: the event loop is free, they queue up.
    const more = [send("two")];
    await new Promise((r) => setImmediate(r));
    more.push(send("three"));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(s.writer.stats.batches).toBe(1);
    sync1.release();
    await first;
    expect(log).toEqual(["callback one", "resolved one"]);
    // They commit together, then one more fdatasync (begun after that COMMIT) settles them.
    const sync2 = await disk.next();
    expect(s.writer.stats).toMatchObject({ batches: 2, items: 3, largestBatch: 2 });
    expect(log.length).toBe(2);
    sync2.release();
    await Promise.all(more);
    // Callbacks in commit order (each item's promise resolves after its own callbacks).
    expect(log.filter((l) => l.startsWith("callback"))).toEqual(["callback one", "callback two", "callback three"]);
    expect(log.indexOf("resolved two")).toBeGreaterThan(log.indexOf("callback two"));
    expect(log.indexOf("resolved three")).toBeGreaterThan(log.indexOf("callback three"));
    expect(disk.real).toBe(2);
  });

  test("a read never returns a row that is not durable yet: it waits for the fdatasync in flight", async () => {
    const { s, disk } = heldStore();
    const write = s.transaction((tx) => tx.tenants.insert(tenant("visible-later")));
    const sync = await disk.next();
    let read: string | null | undefined;
    const reading = s.tenants.get("visible-later").then((t) => (read = t?.tenant_id ?? null));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(read).toBeUndefined();
    sync.release();
    await Promise.all([write, reading]);
    expect(read).toBe("visible-later");
    // Nothing pending: reads answer at once again.
    expect(s.walSync!.barrier()).toBeNull();
  });

  test("regression: a failed fdatasync is 503 unavailable for its batch, for reads and for every later write (never an acknowledged write that may be gone); reported once", async () => {
    const { s, disk, errors } = heldStore();
    let ran = false;
    const w = s.transaction(async (tx) => {
      await tx.tenants.insert(tenant("x"));
      tx.afterCommit(() => (ran = true));
    }).catch((e) => e);
    const held = await disk.next();
    const read = s.tenants.get("x").catch((e) => e);
    held.fail(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    const err = await w;
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err as StorageUnavailableError).code).toBe("unavailable");
    expect(await read).toBeInstanceOf(StorageUnavailableError);
    expect(ran).toBe(false);
    const later = await s.transaction((tx) => tx.tenants.insert(tenant("y"))).catch((e) => e);
    expect(later).toBeInstanceOf(StorageUnavailableError);
    expect(errors.length).toBe(1);
  });
});
