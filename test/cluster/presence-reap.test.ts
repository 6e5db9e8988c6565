// Cluster presence state in Redis (src/bus/redis-state.ts) against a real redis-server: a node that
// dies leaves its sockets' leases to expire; the reaper then reports each of its users offline once.
import { RedisClient } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisState } from "../../src/bus/redis-state";
import { waitFor } from "../helpers";
import { sharedRedis } from "../support/cluster-mode";
import { clusterUnavailable } from "./harness";

const skip = (await clusterUnavailable()) !== null;
let client: RedisClient;
let state: RedisState;

beforeAll(async () => {
  if (skip) return;
  client = new RedisClient(await sharedRedis());
  await client.connect();
  state = new RedisState(() => client, `reap-${process.pid}-${Date.now()}:`);
}, 30_000);
afterAll(() => {
  if (!skip) client.close();
});

describe.skipIf(skip)("cluster presence in Redis", () => {
  test("the per-user cap counts every node's sockets; the first socket since offline is announced once", async () => {
    const a = await state.connect("t1", "u", "nodeA|c1", 2, 10_000);
    const b = await state.connect("t1", "u", "nodeB|c1", 2, 10_000);
    const c = await state.connect("t1", "u", "nodeC|c1", 2, 10_000);
    expect([a.ok, a.announce, b.ok, b.announce, c.ok]).toEqual([true, true, true, false, false]);
    expect(await state.disconnect("t1", "u", "nodeA|c1", Date.now())).toBe(1);
  });

  test("a dead node's sockets expire with their lease; reap reports the user offline once, with last_seen", async () => {
    expect((await state.connect("t2", "dead", "nodeX|c1", 5, 50)).announce).toBe(true);
    expect((await state.presence("t2", "dead")).online).toBe(true);
    // A node starting now learns it (its webhook decisions treat the user as online).
    expect(await state.onlineUsers()).toContainEqual({ tenantId: "t2", userId: "dead" });
    const gone = await waitFor(async () => {
      const r = await state.reap(100);
      return r.length ? r : null;
    }, 3000, "the expired user reaped");
    expect(gone).toEqual([{ tenantId: "t2", userId: "dead" }]);
    expect(await state.reap(100)).toEqual([]);
    expect(await state.onlineUsers()).not.toContainEqual({ tenantId: "t2", userId: "dead" });
    const p = await state.presence("t2", "dead");
    expect(p.online).toBe(false);
    expect(typeof p.lastSeenMs).toBe("number");
    // Back online later: announced again.
    expect((await state.connect("t2", "dead", "nodeY|c1", 5, 10_000)).announce).toBe(true);
  });
});
