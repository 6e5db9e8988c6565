// rooms.member_count is kept by triggers, in the same transaction as each membership change.
import { expect, test } from "bun:test";
import { migrate, openDatabase } from "./connection";
import { MIGRATIONS } from "./migrations";
import { openSqliteStore } from "./sqlite-store";

test("member_count follows joins, re-adds and leaves; userRoomSizes returns it per room", async () => {
  const store = openSqliteStore({ path: ":memory:", synchronous: "full" });
  const at = new Date().toISOString();
  await store.transaction(async (tx) => {
    await tx.tenants.insert({ tenant_id: "t", name: "t", api_key_hash: "h", config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: at, updated_at: at });
    for (const id of ["r1", "r2"]) {
      await tx.rooms.insertRoom({ tenant_id: "t", room_id: id, type: "group", name: null, metadata: null, dm_key: null, last_seq: 0, last_activity_at: at, created_by: "a", created_at: at, updated_at: at });
    }
    for (const u of ["a", "b", "c"]) await tx.rooms.addMember("t", "r1", u, "member", at);
    expect(await tx.rooms.addMember("t", "r1", "b", "member", at)).toBe(false); // re-add: no change
    await tx.rooms.addMember("t", "r2", "a", "member", at);
    await tx.rooms.removeMember("t", "r1", "c");
    expect(await tx.rooms.removeMember("t", "r1", "zed")).toBe(false); // not a member: no change
  });
  const sizes = Object.fromEntries((await store.rooms.userRoomSizes("t", "a")).map((r) => [r.room_id, r.member_count]));
  expect(sizes).toEqual({ r1: 2, r2: 1 });
  expect(await store.rooms.userRoomSizes("t", "c")).toEqual([]);
  await store.close();
});

test("migration 006 backfills member_count of rooms that existed before it", () => {
  const db = openDatabase(":memory:", "full");
  const upTo5 = MIGRATIONS.filter((m) => m.name < "006");
  migrate(db, upTo5);
  db.exec("INSERT INTO tenants (tenant_id, name, api_key_hash, created_at, updated_at) VALUES ('t', 't', 'h', 'x', 'x')");
  db.exec("INSERT INTO rooms (tenant_id, room_id, type, last_activity_at, created_by, created_at, updated_at) VALUES ('t', 'r', 'group', 'x', 'a', 'x', 'x')");
  db.exec("INSERT INTO room_members (tenant_id, room_id, user_id, role, joined_at, join_order) VALUES ('t', 'r', 'a', 'owner', 'x', 1), ('t', 'r', 'b', 'member', 'x', 2)");
  migrate(db, MIGRATIONS);
  expect((db.query("SELECT member_count FROM rooms WHERE room_id = 'r'").get() as { member_count: number }).member_count).toBe(2);
});
