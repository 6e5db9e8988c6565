// RoomCache: commit callbacks must reach the live entry even after an eviction and reload; a load
// overtaken by a commit is not cached; concurrent misses share one load.
import { expect, test } from "bun:test";
import { openSqliteStore } from "../storage/sqlite/sqlite-store";
import { RoomCache } from "./room-cache";

async function setup() {
  const store = openSqliteStore({ path: ":memory:", synchronous: "full" });
  const at = new Date().toISOString();
  await store.transaction(async (tx) => {
    await tx.tenants.insert({ tenant_id: "t", name: "t", api_key_hash: "h", config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: at, updated_at: at });
    for (const id of ["a", "b"]) {
      await tx.rooms.insertRoom({ tenant_id: "t", room_id: id, type: "group", name: null, metadata: null, dm_key: null, last_seq: 0, last_activity_at: at, created_by: "u", created_at: at, updated_at: at });
      await tx.rooms.addMember("t", id, "u", "owner", at);
    }
  });
  return { store, cache: new RoomCache(store.rooms, 1) };
}

test("room cache: update reaches the entry reloaded after an eviction, not the stale captured one", async () => {
  const { cache } = await setup();
  const captured = (await cache.get("t", "a"))!;
  await cache.get("t", "b"); // evicts "a" (capacity 1)
  const reloaded = (await cache.get("t", "a"))!;
  expect(reloaded).not.toBe(captured);
  cache.update("t", "a", (c) => void c.members.set("v", "member"));
  expect((await cache.get("t", "a"))!.members.get("v")).toBe("member");
});

test("room cache: update of an uncached room is a no-op (the next read loads committed state)", async () => {
  const { cache } = await setup();
  let called = false;
  cache.update("t", "a", () => void (called = true));
  expect(called).toBe(false);
  expect((await cache.get("t", "a"))!.members.has("u")).toBe(true);
});

test("room cache: another tenant's room id is a miss", async () => {
  const { cache } = await setup();
  expect(await cache.get("other", "a")).toBeNull();
});

test("room cache: concurrent misses share one load; a load a commit overtook is returned but not cached", async () => {
  const { cache } = await setup();
  const p1 = cache.get("t", "a");
  const p2 = cache.get("t", "a");
  expect(p2).toBe(p1);
  // A commit lands while the load is in flight: its callback cannot reach an entry yet.
  cache.update("t", "a", (c) => void c.members.set("late", "member"));
  const loaded = (await p1)!;
  expect(loaded.members.has("u")).toBe(true);
  expect(cache.peek("t", "a")).toBeNull();
  // The next read loads again (and is cached).
  const again = (await cache.get("t", "a"))!;
  expect(again).not.toBe(loaded);
  expect(cache.peek("t", "a")).toBe(again);
});
