// Contract of Store.transaction: atomicity, isolation, rollback on throw, closed handles, afterCommit.
import { describe, expect, test } from "bun:test";
import { TransactionClosedError } from "../errors";
import type { Store, Tx } from "../store";
import { at, roomRow } from "./fixtures";
import { storeWithRoomPerTest, type StoreFactory } from "./harness";

/** Runs the transaction contract against `factory`'s stores. */
export function transactionContract(name: string, factory: StoreFactory): void {
  describe(`${name}: Store.transaction`, () => {
    let store: Store;
    storeWithRoomPerTest(factory, (s) => (store = s));

    test("commits all writes of fn; resolves with fn's value; reads outside see them after the commit", async () => {
      const v = await store.transaction(async (tx) => {
        await tx.rooms.insertRoom(roomRow("t1", "r2"));
        await tx.rooms.addMember("t1", "r2", "u9", "owner", at());
        return "done";
      });
      expect(v).toBe("done");
      expect((await store.rooms.get("t1", "r2"))?.room_id).toBe("r2");
      expect((await store.rooms.member("t1", "r2", "u9"))?.role).toBe("owner");
    });

    test("isolation: uncommitted rows are invisible to reads outside the transaction, visible to its own reads", async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const seenInside: unknown[] = [];
      const seenOutside: unknown[] = [];
      const writer = store.transaction(async (tx) => {
        await tx.rooms.insertRoom(roomRow("t1", "hidden"));
        seenInside.push((await tx.rooms.get("t1", "hidden"))?.room_id ?? null);
        // Reads from outside the transaction while it is open (its rows are not committed).
        seenOutside.push(await store.rooms.get("t1", "hidden"));
        seenOutside.push(await store.rooms.members("t1", "hidden"));
        release();
        return null;
      });
      await gate;
      await writer;
      expect(seenInside).toEqual(["hidden"]);
      expect(seenOutside).toEqual([null, []]);
      expect((await store.rooms.get("t1", "hidden"))?.room_id).toBe("hidden");
    });

    test("rollback on throw: nothing of fn persists, the error comes back unchanged, afterCommit never runs", async () => {
      const boom = new Error("boom");
      let ran = false;
      const p = store.transaction(async (tx) => {
        await tx.rooms.insertRoom(roomRow("t1", "ghost"));
        await tx.rooms.nextSeq("t1", "r1", at(5));
        tx.afterCommit(() => void (ran = true));
        throw boom;
      });
      await expect(p).rejects.toBe(boom);
      expect(await store.rooms.get("t1", "ghost")).toBeNull();
      expect((await store.rooms.get("t1", "r1"))?.last_seq).toBe(0);
      expect(ran).toBe(false);
    });

    test("one failing transaction does not take concurrent ones down", async () => {
      const results = await Promise.allSettled([
        store.transaction(async (tx) => tx.rooms.insertRoom(roomRow("t1", "ok-1"))),
        store.transaction(async (tx) => {
          await tx.rooms.insertRoom(roomRow("t1", "bad"));
          throw new Error("no");
        }),
        store.transaction(async (tx) => tx.rooms.insertRoom(roomRow("t1", "ok-2"))),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(await store.rooms.get("t1", "bad")).toBeNull();
      expect((await store.rooms.get("t1", "ok-1"))?.room_id).toBe("ok-1");
      expect((await store.rooms.get("t1", "ok-2"))?.room_id).toBe("ok-2");
    });

    test("afterCommit: after the commit (the data is visible), in registration order, before transaction() resolves; a throwing callback fails nothing", async () => {
      const log: string[] = [];
      const p = store.transaction(async (tx) => {
        await tx.rooms.insertRoom(roomRow("t1", "cb"));
        tx.afterCommit(() => log.push("first"));
        tx.afterCommit(() => {
          throw new Error("a publish failed");
        });
        tx.afterCommit(() => log.push("third"));
        return "value";
      });
      expect(await p).toBe("value");
      log.push("resolved");
      expect(log).toEqual(["first", "third", "resolved"]);
      expect((await store.rooms.get("t1", "cb"))?.room_id).toBe("cb");
    });

    test("a handle kept after its transaction ended refuses every call (TransactionClosedError)", async () => {
      const kept = await store.transaction(async (tx) => tx);
      await expect((kept as Tx).rooms.get("t1", "r1")).rejects.toBeInstanceOf(TransactionClosedError);
      await expect((kept as Tx).rooms.insertRoom(roomRow("t1", "late"))).rejects.toBeInstanceOf(TransactionClosedError);
      expect(() => (kept as Tx).afterCommit(() => {})).toThrow(TransactionClosedError);
      expect(await store.rooms.get("t1", "late")).toBeNull();
    });

    test("concurrent transactions get distinct handles", async () => {
      const handles = await Promise.all(Array.from({ length: 5 }, () => store.transaction(async (tx) => tx)));
      expect(new Set(handles).size).toBe(5);
    });
  });
}
