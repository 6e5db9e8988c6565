// PostgreSQL store: transactions, concurrency and error classification against a real server
// (a fresh database per test; skipped with a notice when no PostgreSQL is reachable).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { createTestPostgresStore, postgresAvailable } from "../../../test/support/postgres";
import { messageRow, seedRoom, send } from "../../../test/support/store-rows";
import { StorageUnavailableError, TransactionClosedError, UniqueViolationError } from "../errors";
import type { Tx } from "../store";
import { openPostgresStore, type PostgresStore } from "./postgres-store";

const available = await postgresAvailable();

describe.skipIf(!available)("PostgresStore", () => {
  let store: PostgresStore;
  let dispose: () => Promise<void>;
  let url: string;
  const callbackErrors: unknown[] = [];

  beforeEach(async () => {
    callbackErrors.length = 0;
    const f = await createTestPostgresStore({ poolSize: 8, onCallbackError: (e) => void callbackErrors.push(e) });
    ({ store, dispose } = f);
    url = f.db.url;
    await seedRoom(store, "t1", "r1", ["u1", "u2"]);
  }, 30_000);
  afterEach(() => dispose(), 30_000);

  test("200 concurrent sends to one room get seqs 1..200; after-commit callbacks run in seq order", async () => {
    const published: number[] = [];
    const seqs = await Promise.all(
      Array.from({ length: 200 }, () =>
        store.transaction(async (tx) => {
          const seq = await send(tx, "t1", "r1");
          tx.afterCommit(() => published.push(seq));
          return seq;
        }),
      ),
    );
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(published).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect((await store.rooms.get("t1", "r1"))!.last_seq).toBe(200);
    expect((await store.messages.after("t1", "r1", 0, null, 500)).map((m) => m.seq)).toEqual(seqs.sort((a, b) => a - b));
  }, 30_000);

  test("10 concurrent sends with one client_msg_id: one row, nine UniqueViolationError(message_client_id), seqs given back", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        store.transaction(async (tx) => {
          if (await tx.messages.byClientId("t1", "r1", "u1", "same")) return "existing";
          await send(tx, "t1", "r1", { client_msg_id: "same" });
          return "created";
        }),
      ),
    );
    const created = results.filter((r) => r.status === "fulfilled" && r.value === "created");
    const violations = results.filter((r) => r.status === "rejected");
    expect(created).toHaveLength(1);
    for (const v of violations) {
      expect((v as PromiseRejectedResult).reason).toBeInstanceOf(UniqueViolationError);
      expect(((v as PromiseRejectedResult).reason as UniqueViolationError).constraint).toBe("message_client_id");
    }
    expect(await store.messages.after("t1", "r1", 0, null, 100)).toHaveLength(1);
    // Every losing transaction rolled back its seq: the next send is 2, not 11.
    expect(await store.transaction((tx) => send(tx, "t1", "r1"))).toBe(2);
  }, 30_000);

  test("a second dm of the same pair is UniqueViolationError(room_dm_key)", async () => {
    const now = new Date().toISOString();
    const dm = (id: string) => ({ tenant_id: "t1", room_id: id, type: "dm" as const, name: null, metadata: null, dm_key: "a|b", last_seq: 0, last_activity_at: now, created_by: "a", created_at: now, updated_at: now });
    await store.transaction((tx) => tx.rooms.insertRoom(dm("d1")));
    const err = await store.transaction((tx) => tx.rooms.insertRoom(dm("d2"))).catch((e) => e);
    expect(err).toBeInstanceOf(UniqueViolationError);
    expect(err.constraint).toBe("room_dm_key");
  }, 30_000);

  test("isolation: no reader and no other transaction sees uncommitted rows", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const wrote = new Promise<void>((r) => (inserted = r));
    const writer = store.transaction(async (tx) => {
      await tx.messages.insert(messageRow("t1", "r1", 1, { content: "uncommitted" }));
      // The writer sees its own row.
      expect(await tx.messages.bySeq("t1", "r1", 1)).not.toBeNull();
      inserted();
      await gate;
    });
    await wrote;
    expect(await store.messages.bySeq("t1", "r1", 1)).toBeNull();
    expect(await store.transaction((tx) => tx.messages.bySeq("t1", "r1", 1))).toBeNull();
    release();
    await writer;
    expect((await store.messages.bySeq("t1", "r1", 1))!.content).toBe("uncommitted");
  }, 30_000);

  test("rollback: fn's error comes back unchanged, nothing is written, callbacks never run, the seq is given back", async () => {
    let ran = false;
    class Boom extends Error {}
    const err = await store
      .transaction(async (tx) => {
        await send(tx, "t1", "r1");
        tx.afterCommit(() => (ran = true));
        throw new Boom("no");
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Boom);
    expect(ran).toBe(false);
    expect(await store.messages.after("t1", "r1", 0, null, 10)).toEqual([]);
    expect((await store.rooms.get("t1", "r1"))!.last_seq).toBe(0);
    expect(await store.transaction((tx) => send(tx, "t1", "r1"))).toBe(1);
  }, 30_000);

  test("a handle used after its transaction ended throws TransactionClosedError", async () => {
    let kept!: Tx;
    await store.transaction(async (tx) => void (kept = tx));
    await expect(kept.messages.bySeq("t1", "r1", 1)).rejects.toBeInstanceOf(TransactionClosedError);
    expect(() => kept.afterCommit(() => {})).toThrow(TransactionClosedError);
  }, 30_000);

  test("a throwing after-commit callback is reported; the commit stands and later callbacks run", async () => {
    const order: string[] = [];
    await store.transaction(async (tx) => {
      await send(tx, "t1", "r1");
      tx.afterCommit(() => order.push("a"));
      tx.afterCommit(() => {
        throw new Error("callback failed");
      });
      tx.afterCommit(() => order.push("c"));
    });
    expect(order).toEqual(["a", "c"]);
    expect(callbackErrors.map((e) => (e as Error).message)).toEqual(["callback failed"]);
    expect((await store.rooms.get("t1", "r1"))!.last_seq).toBe(1);
  }, 30_000);

  test("concurrent edits of different fields both land (the read of a read-modify-write locks the row)", async () => {
    const row = messageRow("t1", "r1", 1, { content: "x", meta: { k: 0 } });
    await store.transaction(async (tx) => {
      await tx.rooms.nextSeq("t1", "r1", row.created_at);
      await tx.messages.insert(row);
    });
    const edit = (f: (m: { content: string; meta: unknown }) => { content: string; meta: unknown }) =>
      store.transaction(async (tx) => {
        const cur = (await tx.messages.byId("t1", row.message_id))!;
        const next = f(cur);
        await tx.messages.edit("t1", row.message_id, next.content, next.meta, new Date().toISOString());
      });
    await Promise.all(Array.from({ length: 10 }, (_, i) => edit((m) => (i % 2 ? { ...m, content: `${m.content}+` } : { ...m, meta: { k: (m.meta as { k: number }).k + 1 } }))));
    const final = (await store.messages.byId("t1", row.message_id))!;
    expect(final.content).toBe("x+++++");
    expect(final.meta).toEqual({ k: 5 });
  }, 30_000);

  test("member_count follows joins and leaves made concurrently with sends", async () => {
    const now = new Date().toISOString();
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => store.transaction((tx) => tx.rooms.addMember("t1", "r1", `j${i}`, "member", now))),
      ...Array.from({ length: 20 }, () => store.transaction((tx) => send(tx, "t1", "r1"))),
      store.transaction((tx) => tx.rooms.removeMember("t1", "r1", "u2")),
    ]);
    const sizes = await store.rooms.userRoomSizes("t1", "u1");
    expect(sizes).toEqual([{ room_id: "r1", member_count: 21 }]);
    const orders = (await store.rooms.members("t1", "r1")).map((m) => m.join_order);
    expect(new Set(orders).size).toBe(orders.length);
  }, 30_000);

  test("JSON values come back exactly as given: key order, strings, arrays, numbers, null", async () => {
    const metas: unknown[] = [{ zeta: 1, alpha: { b: 2, a: 1 } }, "a string", "123", [1, "x", null], 42, true, null, { "": "é€😀" }];
    await store.transaction(async (tx) => {
      for (const meta of metas) await send(tx, "t1", "r1", { meta });
    });
    const back = (await store.messages.after("t1", "r1", 0, null, 100)).map((m) => JSON.stringify(m.meta));
    expect(back).toEqual(metas.map((m) => JSON.stringify(m)));
  }, 30_000);

  test("timestamps are Instants (ISO-8601 UTC with milliseconds)", async () => {
    const at = "2026-01-02T03:04:05.678Z";
    await store.transaction((tx) => send(tx, "t1", "r1", { created_at: at }));
    const m = (await store.messages.bySeq("t1", "r1", 1))!;
    expect(m.created_at).toBe(at);
    expect(m.edited_at).toBeNull();
    expect((await store.rooms.get("t1", "r1"))!.last_activity_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }, 30_000);

  test("pool exhaustion: a transaction that cannot get a connection in time is StorageUnavailableError", async () => {
    const db = await createTestPostgresStore({ poolSize: 1 });
    const small = await openPostgresStore({ url: db.db.url, poolSize: 1, acquireTimeoutMs: 200 });
    try {
      let release!: () => void;
      const held = small.transaction(() => new Promise<void>((r) => (release = r)));
      const err = await small.transaction(async () => 1).catch((e) => e);
      expect(err).toBeInstanceOf(StorageUnavailableError);
      expect(err.driverCode).toBe("pool_exhausted");
      release();
      await held;
      expect(await small.transaction(async () => 2)).toBe(2);
    } finally {
      await small.close();
      await db.dispose();
    }
  }, 30_000);

  test("reads outside transactions keep a connection: a full pool of transactions that await plain reads does not deadlock", async () => {
    const small = await openPostgresStore({ url, poolSize: 2, migrate: false });
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          small.transaction(async (tx) => {
            const seq = await send(tx, "t1", "r1");
            // Against the contract (fn should await only tx), but it must not hang the process.
            const outside = await small.rooms.get("t1", "r1");
            return [seq, outside!.room_id] as const;
          }),
        ),
      );
      expect(results.map(([seq]) => seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await small.close();
    }
  }, 30_000);

  test("a connection killed by the server (57P01) is StorageUnavailableError, and the pool recovers", async () => {
    let started!: () => void;
    const inTx = new Promise<void>((r) => (started = r));
    const admin = new SQL((await import("../../../test/support/postgres")).TEST_POSTGRES_URL, { max: 1 });
    try {
      const victim = store.transaction(async (tx) => {
        await send(tx, "t1", "r1");
        started();
        // Waits on a statement that the administrator's terminate interrupts.
        await tx.messages.bySeq("t1", "r1", 1);
        await (tx as unknown as { conn: { q: (s: TemplateStringsArray) => Promise<unknown> } }).conn.q`SELECT pg_sleep(30)`;
      });
      await inTx;
      const dbName = new URL(url).pathname.slice(1);
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${dbName} AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`;
      const err = await victim.catch((e) => e);
      expect(err).toBeInstanceOf(StorageUnavailableError);
      expect(err.status ?? 503).toBe(503);
      expect((await store.rooms.get("t1", "r1"))!.last_seq).toBe(0);
      expect(await store.transaction((tx) => send(tx, "t1", "r1"))).toBe(1);
    } finally {
      await admin.close();
    }
  }, 30_000);

  test("an unreachable server is StorageUnavailableError on reads and transactions; the health probe says false", async () => {
    const dead = new (await import("./postgres-store")).PostgresStore({ url: "postgres://postgres@127.0.0.1:1/none", poolSize: 1, connectTimeoutSeconds: 1 });
    try {
      await expect(dead.rooms.get("t1", "r1")).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(dead.transaction((tx) => tx.rooms.get("t1", "r1"))).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(await dead.health.probe(new Date().toISOString())).toBe(false);
    } finally {
      await dead.close();
    }
  }, 30_000);

  test("the health probe writes for real; backup names pg_dump; describe() hides credentials", async () => {
    const now = new Date().toISOString();
    expect(await store.health.probe(now)).toBe(true);
    expect(await store.health.lastProbeAt()).toBe(now);
    await expect(store.maintenance.backup("/tmp/x.db")).rejects.toThrow(/pg_dump/);
    expect(await store.maintenance.checkpoint("truncate")).toEqual({ busy: false, walBytes: 0 });
    expect(store.health.describe()).toMatchObject({ kind: "postgres", location: expect.stringMatching(/^127\.0\.0\.1:5432\/chatapi_t_/) });
  }, 30_000);
});
