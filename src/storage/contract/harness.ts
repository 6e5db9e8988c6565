// What every contract suite receives: a factory of fresh, migrated, empty stores.
import { afterEach, beforeEach } from "bun:test";
import type { Store } from "../store";
import { tenantWithRoom } from "./fixtures";

/** A fresh store and how to drop it (close connections, delete the file or database). */
export interface StoreFixture {
  store: Store;
  dispose(): Promise<void>;
}

/** Creates a new empty store per call; suites call it in beforeEach/beforeAll. */
export type StoreFactory = () => Promise<StoreFixture>;

/**
 * Registers a beforeEach that makes a fresh store from `factory`, hands it to `use` and adds tenant t1
 * with room r1 (members u1, u2), and an afterEach that disposes of it.
 */
export function storeWithRoomPerTest(factory: StoreFactory, use: (store: Store) => void): void {
  let fx: StoreFixture;
  beforeEach(async () => {
    fx = await factory();
    use(fx.store);
    await tenantWithRoom(fx.store, "t1", "r1");
  });
  afterEach(() => fx.dispose());
}
