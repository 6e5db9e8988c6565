// Contracts of the smaller stores: tenants, subscriptions, notifications, ws tokens, health, maintenance.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { UniqueViolationError } from "../errors";
import type { Store } from "../store";
import { at, tenantWithRoom } from "./fixtures";
import type { StoreFactory, StoreFixture } from "./harness";

/** Runs the tenant, subscription, notification, token, health and maintenance contracts. */
export function miscContract(name: string, factory: StoreFactory): void {
  describe(`${name}: tenants, subscriptions, notifications, tokens, health`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
      await tenantWithRoom(store, "t1", "r1", ["u1", "u2"]);
    });
    afterEach(() => fx.dispose());

    test("tenants: config is a JSON object in and out; key hash unique and replaceable; list oldest first", async () => {
      await store.transaction((tx) =>
        tx.tenants.insert({ tenant_id: "t0", name: "zero", api_key_hash: "h0", config: { rate_limit: 5, webhook_url: "http://x/" }, webhook_secret: "s", jwt_secret: null, jwt_public_keys: null, created_at: at(-1), updated_at: at(-1) }),
      );
      expect((await store.tenants.byKeyHash("h0"))?.config).toEqual({ rate_limit: 5, webhook_url: "http://x/" });
      expect((await store.tenants.list()).map((t) => t.tenant_id)).toEqual(["t0", "t1"]);
      const dup = await store.transaction((tx) => tx.tenants.insert({ tenant_id: "t9", name: "x", api_key_hash: "h0", config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: at(), updated_at: at() })).catch((e) => e);
      expect(dup).toBeInstanceOf(UniqueViolationError);
      expect(await store.transaction((tx) => tx.tenants.setKeyHash("t0", "h0b", at(5)))).toBe(true);
      expect(await store.tenants.byKeyHash("h0")).toBeNull();
      expect(await store.transaction((tx) => tx.tenants.update("t0", { name: "renamed", config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, updated_at: at(6) }))).toBe(true);
      expect(await store.tenants.get("t0")).toMatchObject({ name: "renamed", config: {}, webhook_secret: null, api_key_hash: "h0b" });
      expect(await store.transaction((tx) => tx.tenants.setKeyHash("nope", "h", at()))).toBe(false);
    });

    test("subscriptions: 5 concurrent upserts of one topic create one row; all return it", async () => {
      const rows = await Promise.all(
        Array.from({ length: 5 }, (_, i) => store.transaction((tx) => tx.subscriptions.upsert({ tenant_id: "t1", id: `s${i}`, user_id: "u1", topic: "deploys", created_at: at(i) }))),
      );
      expect(rows.filter((r) => r.created).length).toBe(1);
      expect(new Set(rows.map((r) => r.row.id)).size).toBe(1);
      expect((await store.subscriptions.listForUser("t1", "u1")).map((r) => r.topic)).toEqual(["deploys"]);
      expect(await store.subscriptions.subscribers("t1", "deploys")).toEqual(["u1"]);
      const id = rows[0]!.row.id;
      expect(await store.transaction((tx) => tx.subscriptions.deleteOwn("t1", "u2", id))).toBe(false);
      expect(await store.transaction((tx) => tx.subscriptions.deleteOwn("t1", "u1", id))).toBe(true);
    });

    test("notifications: payload is a JSON value (null too); recipients once; ack keeps the first time", async () => {
      await store.transaction((tx) => tx.notifications.insert({ tenant_id: "t1", notification_id: "n1", topic: "t", payload: null, created_at: at(1) }, ["u1", "u1", "u2"]));
      await store.transaction((tx) => tx.notifications.insert({ tenant_id: "t1", notification_id: "n2", topic: "t", payload: { deep: [1, { x: "y" }] }, created_at: at(2) }, ["u1"]));
      expect((await store.notifications.listForUser("t1", "u1", false, 10)).map((n) => [n.notification_id, n.payload])).toEqual([
        ["n2", { deep: [1, { x: "y" }] }],
        ["n1", null],
      ]);
      expect(await store.transaction((tx) => tx.notifications.ack("t1", "u1", "n1", at(5)))).toBe(at(5));
      expect(await store.transaction((tx) => tx.notifications.ack("t1", "u1", "n1", at(6)))).toBe(at(5));
      expect(await store.transaction((tx) => tx.notifications.ack("t1", "u3", "n1", at(6)))).toBeNull();
      expect((await store.notifications.unackedOldestFirst("t1", "u1", 10)).map((n) => n.notification_id)).toEqual(["n2"]);
      expect((await store.notifications.listForUser("t1", "u2", true, 10)).map((n) => n.notification_id)).toEqual(["n1"]);
    });

    test("ws tokens: of 5 concurrent consumes of one token exactly one gets the grant; purge removes expired ones", async () => {
      await store.transaction(async (tx) => {
        await tx.wsTokens.insert("hash-1", "t1", "u1", at(60_000));
        await tx.wsTokens.insert("hash-old", "t1", "u1", at(-1));
      });
      const grants = await Promise.all(Array.from({ length: 5 }, () => store.transaction((tx) => tx.wsTokens.consume("hash-1"))));
      expect(grants.filter((g) => g !== null)).toEqual([{ tenant_id: "t1", user_id: "u1", expires_at: at(60_000) }]);
      expect(await store.transaction((tx) => tx.wsTokens.purgeExpired(at(0)))).toBe(1);
      expect(await store.transaction((tx) => tx.wsTokens.consume("hash-old"))).toBeNull();
    });

    test("health: probe writes for real (lastProbeAt follows); describe names the store; maintenance runs", async () => {
      expect(await store.health.probe(at(100))).toBe(true);
      expect(await store.health.lastProbeAt()).toBe(at(100));
      expect(await store.health.probe(at(200))).toBe(true);
      expect(await store.health.lastProbeAt()).toBe(at(200));
      expect(store.health.describe().kind).toBe(store.kind);
      const cp = await store.maintenance.checkpoint("passive");
      expect(typeof cp.busy).toBe("boolean");
      const dump = await store.maintenance.dump();
      expect([...(dump.get("rooms")?.values() ?? [])].some((r) => r.room_id === "r1")).toBe(true);
    });
  });
}
