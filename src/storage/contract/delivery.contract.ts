// Contract of DeliveryStore: claims with leases (no delivery claimed twice), results, releases,
// dead letters, retention, stats. The payload string comes back byte for byte.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Store } from "../store";
import { at, deliveryRow, tenantWithRoom } from "./fixtures";
import type { StoreFactory, StoreFixture } from "./harness";

/** Runs the delivery contract against `factory`'s stores. */
export function deliveryContract(name: string, factory: StoreFactory): void {
  describe(`${name}: webhook outbox`, () => {
    let fx: StoreFixture;
    let store: Store;
    const lease = (owner: string, ms = 60_000) => ({ owner, until: at(ms) });
    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
      await tenantWithRoom(store, "t1", "r1");
      await tenantWithRoom(store, "t2", "r1");
    });
    afterEach(() => fx.dispose());

    test("two claimers (concurrent claims of two owners) never claim the same delivery; together they claim each once", async () => {
      const rows = Array.from({ length: 60 }, (_, i) => deliveryRow("t1", `d${String(i).padStart(3, "0")}`));
      await store.transaction((tx) => tx.deliveries.insert(rows));
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.transaction((tx) => tx.deliveries.claimDue("t1", at(10), 7, lease(i % 2 ? "owner-a" : "owner-b")))),
      );
      const ids = claims.flat().map((r) => r.delivery_id);
      expect(ids.length).toBe(60);
      expect(new Set(ids).size).toBe(60);
      // Everything is leased now: nothing is due for anyone until the leases end.
      expect(await store.transaction((tx) => tx.deliveries.claimDue("t1", at(10), 100, lease("owner-c")))).toEqual([]);
      expect(await store.deliveries.dueTenants(at(10))).toEqual([]);
      // After the lease expired, the rows are due again (a claimer that died hands them on).
      expect((await store.transaction((tx) => tx.deliveries.claimDue("t1", at(70_000), 100, lease("owner-c", 200_000))))).toHaveLength(60);
    });

    test("claims return rows as they were (payload byte for byte), oldest due first, per tenant", async () => {
      await store.transaction((tx) =>
        tx.deliveries.insert([deliveryRow("t1", "late", { next_attempt_at: at(5) }), deliveryRow("t1", "early", { next_attempt_at: at(1) }), deliveryRow("t2", "other", { next_attempt_at: at(1) })]),
      );
      expect((await store.deliveries.dueTenants(at(10))).sort()).toEqual(["t1", "t2"]);
      const got = await store.transaction((tx) => tx.deliveries.claimDue("t1", at(10), 10, lease("o")));
      expect(got.map((r) => r.delivery_id)).toEqual(["early", "late"]);
      expect(got[0]!.payload).toBe(deliveryRow("t1", "early").payload);
      expect(got[0]!.next_attempt_at).toBe(at(1));
      expect(await store.deliveries.nextDueAfter(at(10))).toBe(at(60_000));
    });

    test("recordAttempt writes only for the owner of a live claim; then the row leaves the pending set", async () => {
      await store.transaction((tx) => tx.deliveries.insert([deliveryRow("t1", "a"), deliveryRow("t1", "b")]));
      await store.transaction((tx) => tx.deliveries.claimDue("t1", at(10), 10, lease("me")));
      expect(await store.transaction((tx) => tx.deliveries.recordAttempt("a", "someone-else", { status: "delivered", attempts: 1, at: at(20), targetUrl: null }))).toBe(false);
      expect(await store.transaction((tx) => tx.deliveries.recordAttempt("a", "me", { status: "delivered", attempts: 1, at: at(20), targetUrl: "http://x/" }))).toBe(true);
      expect(await store.deliveries.get("a")).toMatchObject({ status: "delivered", attempts: 1, finished_at: at(20), target_url: "http://x/", last_error: null });
      expect(await store.transaction((tx) => tx.deliveries.recordAttempt("b", "me", { status: "pending", attempts: 1, at: at(20), nextAttemptAt: at(500), error: "HTTP 500", targetUrl: null }))).toBe(true);
      expect(await store.deliveries.get("b")).toMatchObject({ status: "pending", attempts: 1, next_attempt_at: at(500), last_error: "HTTP 500" });
      // A retried row needs a new claim: the old owner's claim ended with its result.
      expect(await store.transaction((tx) => tx.deliveries.recordAttempt("b", "me", { status: "dead", attempts: 2, at: at(30), error: "x", targetUrl: null }))).toBe(false);
      expect(await store.deliveries.stats()).toEqual({ pending: 1, dead: 0, oldestPendingAt: at() });
    });

    test("release gives claims back due now; dead letters list newest first, requeue, prune", async () => {
      await store.transaction((tx) => tx.deliveries.insert([deliveryRow("t1", "r"), deliveryRow("t1", "d1", { created_at: at(1) }), deliveryRow("t1", "d2", { created_at: at(2) })]));
      await store.transaction((tx) => tx.deliveries.claimDue("t1", at(10), 10, lease("me")));
      expect(await store.transaction((tx) => tx.deliveries.release("someone-else", ["r"], at(11)))).toBe(0);
      expect(await store.transaction((tx) => tx.deliveries.release("me", ["r"], at(11)))).toBe(1);
      expect((await store.deliveries.get("r"))?.next_attempt_at).toBe(at(11));
      for (const id of ["d1", "d2"]) await store.transaction((tx) => tx.deliveries.recordAttempt(id, "me", { status: "dead", attempts: 3, at: at(40), error: "HTTP 410", targetUrl: null }));
      expect((await store.deliveries.listDead("t1", 10)).map((r) => r.delivery_id)).toEqual(["d2", "d1"]);
      expect(await store.deliveries.listDead("t2", 10)).toEqual([]);
      expect(await store.transaction((tx) => tx.deliveries.requeueDead("t2", "d1", at(50)))).toBe(false);
      expect(await store.transaction((tx) => tx.deliveries.requeueDead("t1", "d1", at(50)))).toBe(true);
      expect(await store.deliveries.get("d1")).toMatchObject({ status: "pending", attempts: 0, next_attempt_at: at(50), last_error: null, finished_at: null });
      expect(await store.transaction((tx) => tx.deliveries.pruneFinished("dead", at(41), 10))).toBe(1);
      expect(await store.deliveries.get("d2")).toBeNull();
      expect((await store.deliveries.list({ tenantId: "t1" }, 10)).map((r) => r.delivery_id).sort()).toEqual(["d1", "r"]);
    });
  });
}
