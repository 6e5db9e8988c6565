// The embedded, ordered list of PostgreSQL migrations (same numbers and names as migrations/sqlite/),
// and the runner: each migration in one transaction under an advisory lock, so nodes starting at
// once apply each exactly once.
import type { SQL } from "bun";
import m001 from "../../../migrations/postgres/001_init.sql" with { type: "text" };
import m002 from "../../../migrations/postgres/002_chat.sql" with { type: "text" };
import m003 from "../../../migrations/postgres/003_delivery.sql" with { type: "text" };
import m004 from "../../../migrations/postgres/004_ws_tokens.sql" with { type: "text" };
import m005 from "../../../migrations/postgres/005_delivery_fairness.sql" with { type: "text" };
import m006 from "../../../migrations/postgres/006_room_member_count.sql" with { type: "text" };
import m007 from "../../../migrations/postgres/007_jwt_keys.sql" with { type: "text" };
import m009 from "../../../migrations/postgres/009_delivery_leases.sql" with { type: "text" };
import m010 from "../../../migrations/postgres/010_conversations.sql" with { type: "text" };
import m015 from "../../../migrations/postgres/015_search.sql" with { type: "text" };
import m016 from "../../../migrations/postgres/016_attachments.sql" with { type: "text" };
import m017 from "../../../migrations/postgres/017_fairness.sql" with { type: "text" };
import { MigrationError } from "../sqlite/connection";
import type { Migration } from "../sqlite/migrations";
import { classify } from "./errors";

/** Every PostgreSQL migration of this build, in the order they apply. */
export const PG_MIGRATIONS: readonly Migration[] = [
  { name: "001_init.sql", sql: m001 },
  { name: "002_chat.sql", sql: m002 },
  { name: "003_delivery.sql", sql: m003 },
  { name: "004_ws_tokens.sql", sql: m004 },
  { name: "005_delivery_fairness.sql", sql: m005 },
  { name: "006_room_member_count.sql", sql: m006 },
  { name: "007_jwt_keys.sql", sql: m007 },
  { name: "009_delivery_leases.sql", sql: m009 },
  { name: "010_conversations.sql", sql: m010 },
  // 011-014 are reserved for conversations (threads, mentions, reactions).
  { name: "015_search.sql", sql: m015 },
  { name: "016_attachments.sql", sql: m016 },
  { name: "017_fairness.sql", sql: m017 },
];

// pg_advisory_xact_lock key of the migration runner ("chatapi" + "migr" as ASCII, arbitrary but fixed).
const MIGRATION_LOCK = 0x63686174_6d696772n;

/**
 * Applies every migration not yet recorded in schema_migrations, each in its own transaction that
 * first takes the advisory lock and re-checks: a node that waited for another finds it applied.
 * Returns the names this call applied. Throws MigrationError (that migration rolled back).
 */
export async function migratePostgres(sql: SQL, migrations: readonly Migration[] = PG_MIGRATIONS, now: () => Date = () => new Date()): Promise<string[]> {
  const done: string[] = [];
  // Fast path without the lock: a started cluster has everything applied.
  let applied = new Set<string>();
  try {
    const rows = await sql`SELECT name FROM schema_migrations`;
    applied = new Set(rows.map((r: any) => r.name as string));
  } catch (err) {
    if ((err as { errno?: string }).errno !== "42P01") throw classify(err); // 42P01: no table yet
  }
  for (const m of migrations) {
    if (applied.has(m.name)) continue;
    let ran = false;
    try {
      ran = await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK}::bigint)`;
        await tx`CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)`;
        const [r] = await tx`SELECT 1 AS x FROM schema_migrations WHERE name = ${m.name}`;
        if (r) return false;
        await tx.unsafe(m.sql);
        await tx`INSERT INTO schema_migrations (name, applied_at) VALUES (${m.name}, ${now().toISOString()}::timestamptz)`;
        return true;
      });
    } catch (err) {
      const c = classify(err);
      if (c !== err) throw c; // unreachable database: not the migration's fault
      throw new MigrationError(m.name, err);
    }
    if (ran) done.push(m.name);
  }
  return done;
}
