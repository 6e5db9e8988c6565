// Opens the SQLite database with the pragmas the service relies on, and runs migrations.
import { Database } from "bun:sqlite";
import type { SqliteSynchronous } from "../../config";
import type { Migration } from "./migrations";
import { ensurePrivateDatabaseFile } from "../private-files";

/** Opens (creating if needed) the database in WAL mode with foreign keys and a busy timeout. */
export function openDatabase(path: string, synchronous: SqliteSynchronous, opts: { readonly?: boolean; reader?: boolean } = {}): Database {
  if (path !== ":memory:" && !opts.readonly && !opts.reader) ensurePrivateDatabaseFile(path);
  const db = opts.readonly ? new Database(path, { readonly: true }) : new Database(path, { create: !opts.reader, strict: true });
  db.exec("PRAGMA busy_timeout = 5000");
  // The read connection of a store: writes through it would bypass the group commit.
  if (opts.reader) {
    db.exec("PRAGMA query_only = ON");
    db.exec("PRAGMA cache_size = -65536");
    db.exec("PRAGMA mmap_size = 268435456");
    return db;
  }
  if (!opts.readonly) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
  }
  db.exec("PRAGMA foreign_keys = ON");
  // Larger page cache and memory-mapped reads keep history reads off the syscall path.
  db.exec("PRAGMA cache_size = -65536");
  db.exec("PRAGMA mmap_size = 268435456");
  db.exec("PRAGMA temp_store = MEMORY");
  // Checkpoint every ~16 MB of WAL instead of SQLite's 4 MB: pages rewritten between two checkpoints
  // are copied back once, and fewer commits pay for a checkpoint inline. The WAL worker also runs
  // PASSIVE checkpoints every WAL_CHECKPOINT_INTERVAL, and shutdown truncates the WAL.
  if (!opts.readonly) db.exec("PRAGMA wal_autocheckpoint = 4000");
  return db;
}

/** Thrown when a migration fails; the database is left as it was before that migration. */
export class MigrationError extends Error {
  constructor(readonly migration: string, cause: unknown) {
    super(`migration ${migration} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Applies every migration not yet recorded in schema_migrations, each in its own transaction. Returns the names applied. */
export function migrate(db: Database, migrations: readonly Migration[], now: () => Date = () => new Date()): string[] {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)");
  const applied = new Set(db.query<{ name: string }, []>("SELECT name FROM schema_migrations").all().map((r) => r.name));
  const record = db.query("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)");
  const done: string[] = [];
  for (const m of migrations) {
    if (applied.has(m.name)) continue;
    try {
      db.transaction(() => {
        db.exec(m.sql);
        record.run(m.name, now().toISOString());
      }).immediate();
    } catch (err) {
      throw new MigrationError(m.name, err);
    }
    done.push(m.name);
  }
  return done;
}
