// PostgreSQL for tests: a fresh database per store or test server on the server at TEST_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards. When that server is
// unreachable, PostgreSQL tests skip and say why once; CHATAPI_REQUIRE_POSTGRES=1 turns that into a failure.
import { SQL } from "bun";
import { openPostgresStore, type PostgresStore } from "../../src/storage/postgres/postgres-store";

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/** The line printed when PostgreSQL tests skip (.ci/run looks for it). */
export const SKIP_MARKER = "POSTGRES TESTS SKIPPED";

let admin: SQL | null = null;
let availability: Promise<string | null> | null = null;
let counter = 0;

function adminSql(): SQL {
  return (admin ??= new SQL(TEST_POSTGRES_URL, { max: 2, idleTimeout: 2, connectionTimeout: 3 }));
}

/** null when the server answers; else why not. */
function probe(): Promise<string | null> {
  return (availability ??= adminSql()`SELECT 1 AS ok`.then(
    () => null,
    (err: unknown) => `${TEST_POSTGRES_URL.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@")} unreachable (${err instanceof Error ? err.message : String(err)})`,
  ));
}

/**
 * True when PostgreSQL tests can run. When they cannot, warns once with the reason and the marker
 * line; with CHATAPI_REQUIRE_POSTGRES=1 it throws instead, so a CI run cannot pass by skipping.
 */
export async function postgresAvailable(): Promise<boolean> {
  const why = await probe();
  if (why === null) return true;
  if (process.env.CHATAPI_REQUIRE_POSTGRES === "1") throw new Error(`PostgreSQL required (CHATAPI_REQUIRE_POSTGRES=1) but ${why}`);
  if (!warned) {
    warned = true;
    console.warn(`${SKIP_MARKER}: ${why}`);
  }
  return false;
}
let warned = false;

/** A database created for one test store or server. */
export interface TestDatabase {
  name: string;
  url: string;
  /** Drops it (closing any connection still open). Idempotent. */
  drop(): Promise<void>;
}

/** Creates an empty database on the test server and returns its URL. */
export async function createTestDatabase(prefix = "chatapi_t"): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  await adminSql().unsafe(`CREATE DATABASE "${name}"`);
  const u = new URL(TEST_POSTGRES_URL);
  u.pathname = `/${name}`;
  let dropped: Promise<void> | null = null;
  return {
    name,
    url: u.toString(),
    drop: () => (dropped ??= adminSql().unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).then(() => {})),
  };
}

/** A migrated PostgresStore on a fresh database, and how to dispose of both. */
export async function createTestPostgresStore(opts: { poolSize?: number; onCallbackError?: (err: unknown) => void } = {}): Promise<{ store: PostgresStore; db: TestDatabase; dispose(): Promise<void> }> {
  const db = await createTestDatabase();
  const store = await openPostgresStore({ url: db.url, poolSize: opts.poolSize ?? 8, onCallbackError: opts.onCallbackError });
  return {
    store,
    db,
    async dispose() {
      await store.close();
      await db.drop();
    },
  };
}
