// Contract of RoomStore.nextSeq + MessageStore: gapless seqs under concurrency, idempotency by
// unique constraint, range reads, edits and tombstones, JSON values.
import { describe, expect, test } from "bun:test";
import { UniqueViolationError } from "../errors";
import type { MessageRow } from "../message-store";
import type { Store } from "../store";
import { at, messageRow, tenantWithRoom } from "./fixtures";
import { storeWithRoomPerTest, type StoreFactory } from "./harness";

/** One send as the domain does it: idempotency check, seq, insert (a UniqueViolationError means another send won). */
async function send(store: Store, roomId: string, content: string, clientMsgId: string | null = null): Promise<{ row: MessageRow; created: boolean }> {
  try {
    return await store.transaction(async (tx) => {
      if (clientMsgId !== null) {
        const existing = await tx.messages.byClientId("t1", roomId, "u1", clientMsgId);
        if (existing) return { row: existing, created: false };
      }
      const seq = await tx.rooms.nextSeq("t1", roomId, at(1000));
      const row = messageRow("t1", roomId, seq, { content, client_msg_id: clientMsgId });
      await tx.messages.insert(row);
      return { row, created: true };
    });
  } catch (err) {
    if (!(err instanceof UniqueViolationError) || err.constraint !== "message_client_id" || clientMsgId === null) throw err;
    const winner = await store.messages.byClientId("t1", roomId, "u1", clientMsgId);
    if (!winner) throw err;
    return { row: winner, created: false };
  }
}

/** Runs the message contract against `factory`'s stores. */
export function messageContract(name: string, factory: StoreFactory): void {
  describe(`${name}: messages and seqs`, () => {
    let store: Store;
    storeWithRoomPerTest(factory, (s) => (store = s));

    test("200 concurrent sends to one room get seqs 1..200, each once; last_seq is 200", async () => {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => send(store, "r1", `c${i}`)));
      expect(results.map((r) => r.row.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const rows = await store.messages.after("t1", "r1", 0, null, 500);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect((await store.rooms.get("t1", "r1"))?.last_seq).toBe(200);
    });

    test("afterCommit callbacks of concurrent sends to one room run in seq order (per-room publish order)", async () => {
      const published: number[] = [];
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.transaction(async (tx) => {
            const seq = await tx.rooms.nextSeq("t1", "r1", at(i));
            await tx.messages.insert(messageRow("t1", "r1", seq));
            tx.afterCommit(() => published.push(seq));
          }),
        ),
      );
      expect(published).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    test("10 concurrent sends with one client_msg_id store one message; all get it; no seq is burnt", async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => send(store, "r1", "once", "cid-1")));
      expect(results.filter((r) => r.created).length).toBe(1);
      expect(new Set(results.map((r) => r.row.message_id)).size).toBe(1);
      expect(await store.messages.after("t1", "r1", 0, null, 50)).toHaveLength(1);
      expect((await store.rooms.get("t1", "r1"))?.last_seq).toBe(1);
      // The next send continues gaplessly.
      expect((await send(store, "r1", "next")).row.seq).toBe(2);
    });

    test("a repeated client_msg_id inserted in one transaction throws UniqueViolationError(message_client_id) and rolls back its seq", async () => {
      await send(store, "r1", "first", "dup");
      const p = store.transaction(async (tx) => {
        const seq = await tx.rooms.nextSeq("t1", "r1", at(2000));
        await tx.messages.insert(messageRow("t1", "r1", seq, { client_msg_id: "dup" }));
      });
      const err = await p.catch((e) => e);
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect((err as UniqueViolationError).constraint).toBe("message_client_id");
      expect((await store.rooms.get("t1", "r1"))?.last_seq).toBe(1);
    });

    test("rooms are independent: concurrent sends to two rooms each count from 1", async () => {
      await tenantWithRoom(store, "t1", "r2");
      await Promise.all(Array.from({ length: 20 }, (_, i) => send(store, i % 2 ? "r1" : "r2", `x${i}`)));
      for (const r of ["r1", "r2"]) expect((await store.messages.after("t1", r, 0, null, 50)).map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    });

    test("range reads: after (with before bound) and before are ascending and limited; scoped by tenant", async () => {
      for (let i = 0; i < 10; i++) await send(store, "r1", `m${i}`);
      expect((await store.messages.after("t1", "r1", 3, null, 4)).map((m) => m.seq)).toEqual([4, 5, 6, 7]);
      expect((await store.messages.after("t1", "r1", 3, 6, 10)).map((m) => m.seq)).toEqual([4, 5]);
      expect((await store.messages.before("t1", "r1", null, 3)).map((m) => m.seq)).toEqual([8, 9, 10]);
      expect((await store.messages.before("t1", "r1", 5, 10)).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
      expect(await store.messages.after("other-tenant", "r1", 0, null, 10)).toEqual([]);
      const m5 = (await store.messages.bySeq("t1", "r1", 5))!;
      expect((await store.messages.byId("t1", m5.message_id))?.seq).toBe(5);
      expect(await store.messages.byId("other-tenant", m5.message_id)).toBeNull();
    });

    test("meta is a JSON value in and out; edit replaces content and meta; tombstone keeps the seq and clears both", async () => {
      const meta = { a: [1, "two", { three: null }], b: true, n: 1.5 };
      const row = messageRow("t1", "r1", 1, { meta });
      await store.transaction(async (tx) => {
        await tx.rooms.nextSeq("t1", "r1", at(1));
        await tx.messages.insert(row);
      });
      expect((await store.messages.byId("t1", row.message_id))?.meta).toEqual(meta);
      expect(await store.transaction((tx) => tx.messages.edit("t1", row.message_id, "edited", ["x"], at(5), 5, null))).toBe(true);
      expect(await store.messages.byId("t1", row.message_id)).toMatchObject({ content: "edited", meta: ["x"], edited_at: at(5) });
      expect(await store.transaction((tx) => tx.messages.tombstone("t1", row.message_id, at(6), 6))).toBe(true);
      expect(await store.messages.byId("t1", row.message_id)).toMatchObject({ seq: 1, content: "", meta: null, deleted_at: at(6) });
      expect(await store.transaction((tx) => tx.messages.edit("t1", "no-such-id", "x", null, at(7), 7, null))).toBe(false);
    });

    test("unreadCount counts messages after a seq, not deleted, not the reader's own", async () => {
      for (let i = 0; i < 5; i++) await send(store, "r1", `m${i}`);
      const m2 = (await store.messages.bySeq("t1", "r1", 2))!;
      await store.transaction((tx) => tx.messages.tombstone("t1", m2.message_id, at(9), 99));
      expect(await store.messages.unreadCount("t1", "r1", 0, "u2")).toBe(4);
      expect(await store.messages.unreadCount("t1", "r1", 3, "u2")).toBe(2);
      expect(await store.messages.unreadCount("t1", "r1", 0, "u1")).toBe(0);
    });
  });
}
