// Contract of RoomStore: dm uniqueness, memberships, member counts, acks, listings, replay rows.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { UniqueViolationError } from "../errors";
import type { Store } from "../store";
import { at, messageRow, roomRow, tenantWithRoom } from "./fixtures";
import type { StoreFactory, StoreFixture } from "./harness";

/** Runs the room contract against `factory`'s stores. */
export function roomContract(name: string, factory: StoreFactory): void {
  describe(`${name}: rooms and members`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
      await tenantWithRoom(store, "t1", "r1", ["u1", "u2", "u3"]);
    });
    afterEach(() => fx.dispose());

    test("a second dm of one pair throws UniqueViolationError(room_dm_key); other tenants are separate", async () => {
      await store.transaction((tx) => tx.rooms.insertRoom(roomRow("t1", "dm1", { type: "dm", dm_key: "a:b" })));
      const err = await store.transaction((tx) => tx.rooms.insertRoom(roomRow("t1", "dm2", { type: "dm", dm_key: "a:b" }))).catch((e) => e);
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect((err as UniqueViolationError).constraint).toBe("room_dm_key");
      expect((await store.rooms.byDmKey("t1", "a:b"))?.room_id).toBe("dm1");
      await tenantWithRoom(store, "t2", "x");
      await store.transaction((tx) => tx.rooms.insertRoom(roomRow("t2", "dm1", { type: "dm", dm_key: "a:b" })));
      expect((await store.rooms.byDmKey("t2", "a:b"))?.tenant_id).toBe("t2");
    });

    test("metadata is a JSON value in and out; update replaces name and metadata", async () => {
      await store.transaction((tx) => tx.rooms.insertRoom(roomRow("t1", "meta", { metadata: { k: [1, { v: "x" }] }, name: "n" })));
      expect((await store.rooms.get("t1", "meta"))?.metadata).toEqual({ k: [1, { v: "x" }] });
      expect(await store.transaction((tx) => tx.rooms.update("t1", "meta", null, "just a string", at(3)))).toBe(true);
      expect(await store.rooms.get("t1", "meta")).toMatchObject({ name: null, metadata: "just a string", updated_at: at(3) });
      expect(await store.rooms.get("t2", "meta")).toBeNull();
    });

    test("members: join order, idempotent add, remove, roles, member counts", async () => {
      expect((await store.rooms.members("t1", "r1")).map((m) => [m.user_id, m.role, m.join_order])).toEqual([
        ["u1", "owner", 1],
        ["u2", "member", 2],
        ["u3", "member", 3],
      ]);
      expect(await store.transaction((tx) => tx.rooms.addMember("t1", "r1", "u2", "admin", at()))).toBe(false);
      expect(await store.transaction((tx) => tx.rooms.removeMember("t1", "r1", "u3"))).toBe(true);
      expect(await store.transaction((tx) => tx.rooms.removeMember("t1", "r1", "u3"))).toBe(false);
      expect(await store.transaction((tx) => tx.rooms.setRole("t1", "r1", "u2", "admin"))).toBe(true);
      expect((await store.rooms.member("t1", "r1", "u2"))?.role).toBe("admin");
      expect(await store.rooms.userRoomSizes("t1", "u1")).toEqual([{ room_id: "r1", member_count: 2 }]);
      expect(await store.rooms.shareRoom("t1", "u1", "u2")).toBe(true);
      expect(await store.rooms.shareRoom("t1", "u1", "u3")).toBe(false);
      expect((await store.rooms.userRoomIds("t1", "u2")).sort()).toEqual(["r1"]);
    });

    test("acks only move forward; unackedRooms lists rooms with last_seq > last_ack, most recent activity first", async () => {
      await tenantWithRoom(store, "t1", "r2", ["u1", "u2"]);
      for (const [roomId, n, t] of [["r1", 3, 10], ["r2", 2, 20]] as const) {
        await store.transaction(async (tx) => {
          for (let i = 0; i < n; i++) {
            const seq = await tx.rooms.nextSeq("t1", roomId, at(t + i));
            await tx.messages.insert(messageRow("t1", roomId, seq));
          }
        });
      }
      expect(await store.transaction((tx) => tx.rooms.advanceAck("t1", "r1", "u2", 2))).toBe(2);
      expect(await store.transaction((tx) => tx.rooms.advanceAck("t1", "r1", "u2", 1))).toBe(2);
      expect(await store.transaction((tx) => tx.rooms.advanceAck("t1", "r1", "nobody", 1))).toBeNull();
      expect(await store.rooms.unackedRooms("t1", "u2")).toEqual([
        { room_id: "r2", last_seq: 2, last_ack: 0 },
        { room_id: "r1", last_seq: 3, last_ack: 2 },
      ]);
    });

    test("userRooms: most recent activity first, pages are stable against later activity (snapshot)", async () => {
      // Listings only show rooms created before the snapshot: room ids are UUIDv7s taken at creation.
      const [a, b, c] = [Bun.randomUUIDv7(), Bun.randomUUIDv7(), Bun.randomUUIDv7()];
      for (const id of [a, b, c]) await tenantWithRoom(store, "t1", id, ["u5"]);
      const post = (roomId: string, t: number) =>
        store.transaction(async (tx) => {
          const seq = await tx.rooms.nextSeq("t1", roomId, at(t));
          await tx.messages.insert(messageRow("t1", roomId, seq, { created_at: at(t) }));
        });
      await post(a, 100);
      await post(c, 200);
      await post(b, 300);
      const snap = { at: at(1_000_000), id: Bun.randomUUIDv7() };
      const page1 = await store.rooms.userRooms("t1", "u5", snap, null, 2);
      expect(page1.map((r) => r.room_id)).toEqual([b, c]);
      expect(page1.map((r) => r.sort_key)).toEqual([at(300), at(200)]);
      // Activity after the snapshot does not reorder the next page.
      await post(a, 2_000_000);
      const last = page1[1]!;
      const page2 = await store.rooms.userRooms("t1", "u5", snap, { key: last.sort_key, roomId: last.room_id }, 2);
      expect(page2.map((r) => r.room_id)).toEqual([a]);
      expect(page2[0]!.sort_key).toBe(at(100));
    });
  });
}
