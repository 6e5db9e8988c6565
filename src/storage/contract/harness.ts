// What every contract suite receives: a factory of fresh, migrated, empty stores.
import type { Store } from "../store";

/** A fresh store and how to drop it (close connections, delete the file or database). */
export interface StoreFixture {
  store: Store;
  dispose(): Promise<void>;
}

/** Creates a new empty store per call; suites call it in beforeEach/beforeAll. */
export type StoreFactory = () => Promise<StoreFixture>;
