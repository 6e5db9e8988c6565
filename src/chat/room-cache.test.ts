// RoomCache: commit callbacks must reach the live entry even after an eviction and reload.
import { expect, test } from "bun:test";
import { openDatabase, migrate } from "../storage/sqlite/db";
import { MIGRATIONS } from "../storage/sqlite/migrations";
import { SqliteRoomStore } from "../storage/sqlite/room-store";
import { RoomCache } from "./room-cache";

function setup() {
  const db = openDatabase(":memory:", "full");
  migrate(db, MIGRATIONS);
  db.exec("INSERT INTO tenants (tenant_id, name, api_key_hash, created_at, updated_at) VALUES ('t', 't', 'h', 'x', 'x')");
  const store = new SqliteRoomStore(db);
  const at = new Date().toISOString();
  for (const id of ["a", "b"]) {
    store.insertRoom({ tenant_id: "t", room_id: id, type: "group", name: null, metadata: null, dm_key: null, last_seq: 0, last_activity_at: at, created_by: "u", created_at: at, updated_at: at });
    store.addMember("t", id, "u", "owner", at);
  }
  return { store, cache: new RoomCache(store, 1) };
}

test("room cache: update reaches the entry reloaded after an eviction, not the stale captured one", () => {
  const { cache } = setup();
  const captured = cache.get("t", "a")!;
  cache.get("t", "b"); // evicts "a" (capacity 1)
  const reloaded = cache.get("t", "a")!;
  expect(reloaded).not.toBe(captured);
  cache.update("t", "a", (c) => void c.members.set("v", "member"));
  expect(cache.get("t", "a")!.members.get("v")).toBe("member");
});

test("room cache: update of an uncached room is a no-op (the next read loads committed state)", () => {
  const { cache } = setup();
  let called = false;
  cache.update("t", "a", () => void (called = true));
  expect(called).toBe(false);
  expect(cache.get("t", "a")!.members.has("u")).toBe(true);
});

test("room cache: another tenant's room id is a miss", () => {
  const { cache } = setup();
  expect(cache.get("other", "a")).toBeNull();
});
