// Runs every contract suite of this folder (`*.contract.ts`: exported `xxxContract(name, factory)`
// functions) against PostgresStore, each store on a fresh database. Skipped with a notice when no
// PostgreSQL is reachable (CHATAPI_REQUIRE_POSTGRES=1 makes that a failure).
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { createTestPostgresStore, postgresAvailable } from "../../../test/support/postgres";
import type { StoreFactory } from "./harness";

const available = await postgresAvailable();

/** A fresh, migrated, empty PostgresStore per call (its database dropped by dispose). */
export const postgresFactory: StoreFactory = async () => {
  const { store, dispose } = await createTestPostgresStore({ poolSize: 6, onCallbackError: () => {} });
  return { store, dispose };
};

const suites: [string, Record<string, unknown>][] = [];
for (const f of readdirSync(import.meta.dir).filter((x) => x.endsWith(".contract.ts")).sort()) suites.push([f, (await import(`./${f}`)) as Record<string, unknown>]);

describe.skipIf(!available)("contract suites on PostgreSQL", () => {
  test("the factory gives a migrated, empty store of kind postgres", async () => {
    const { store, dispose } = await postgresFactory();
    try {
      expect(store.kind).toBe("postgres");
      expect(await store.tenants.list()).toEqual([]);
      expect(await store.deliveries.stats()).toEqual({ pending: 0, dead: 0, oldestPendingAt: null });
    } finally {
      await dispose();
    }
  }, 30_000);

  for (const [file, mod] of suites) {
    for (const [name, fn] of Object.entries(mod)) {
      if (typeof fn === "function" && /Contract$/.test(name)) (fn as (name: string, f: StoreFactory) => void)("postgres", postgresFactory);
    }
  }
});
