// rooms.member_count is kept by triggers, in the same transaction as each membership change.
import { expect, test } from "bun:test";
import { migrate, openDatabase } from "./db";
import { MIGRATIONS } from "./migrations";
import { SqliteRoomStore } from "./room-store";

function room(store: SqliteRoomStore, id: string, at: string) {
  store.insertRoom({ tenant_id: "t", room_id: id, type: "group", name: null, metadata: null, dm_key: null, last_seq: 0, last_activity_at: at, created_by: "a", created_at: at, updated_at: at });
}

test("member_count follows joins, re-adds and leaves; userRoomSizes returns it per room", () => {
  const db = openDatabase(":memory:", "full");
  migrate(db, MIGRATIONS);
  db.exec("INSERT INTO tenants (tenant_id, name, api_key_hash, created_at, updated_at) VALUES ('t', 't', 'h', 'x', 'x')");
  const store = new SqliteRoomStore(db);
  const at = new Date().toISOString();
  room(store, "r1", at);
  room(store, "r2", at);
  for (const u of ["a", "b", "c"]) store.addMember("t", "r1", u, "member", at);
  store.addMember("t", "r1", "b", "member", at); // re-add: no change
  store.addMember("t", "r2", "a", "member", at);
  store.removeMember("t", "r1", "c");
  store.removeMember("t", "r1", "zed"); // not a member: no change
  const sizes = Object.fromEntries(store.userRoomSizes("t", "a").map((r) => [r.room_id, r.member_count]));
  expect(sizes).toEqual({ r1: 2, r2: 1 });
  expect(store.userRoomSizes("t", "c")).toEqual([]);
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
