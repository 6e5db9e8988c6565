// Which store the suite runs on (CHATAPI_TEST_STORE: unset = SQLite, `postgres` = bun run test:pg,
// `cluster` = bun run test:cluster) and the one way a test skips on a store: `skipOn` / `onlyOn`
// return the condition for test.skipIf / describe.skipIf and print why, so a skipped run says what
// it did not check. docs/guides/scaling.md lists the tests that skip in cluster mode.

export type TestStoreKind = "sqlite" | "postgres" | "cluster";

function kind(v: string | undefined): TestStoreKind {
  if (v === undefined || v === "" || v === "sqlite") return "sqlite";
  if (v === "postgres" || v === "cluster") return v;
  throw new Error(`CHATAPI_TEST_STORE=${v}: expected sqlite, postgres or cluster`);
}

/** The store of this run. */
export const testStore: TestStoreKind = kind(process.env.CHATAPI_TEST_STORE);

/** Every test server is two nodes behind nginx (test/support/cluster-mode.ts). */
export const inCluster = testStore === "cluster";

/** True (the test is skipped, and `why` printed) when this run's store is one of `stores`. */
export function skipOn(stores: TestStoreKind | TestStoreKind[], why: string): boolean {
  const list = Array.isArray(stores) ? stores : [stores];
  if (!list.includes(testStore)) return false;
  console.warn(`skipped on ${testStore}: ${why}`);
  return true;
}

/** True (the test is skipped, and `why` printed) unless this run's store is one of `stores`. */
export function onlyOn(stores: TestStoreKind | TestStoreKind[], why: string): boolean {
  const list = Array.isArray(stores) ? stores : [stores];
  return skipOn((["sqlite", "postgres", "cluster"] as const).filter((k) => !list.includes(k)), why);
}
