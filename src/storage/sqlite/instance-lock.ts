// One server per SQLite database: `<database>.lock` held with an exclusive SQLite lock (a POSIX
// record lock underneath) for the life of the server. The kernel drops it when the process dies,
// SIGKILL included, so a stale lock never blocks a restart. CLI commands (tenants, backup, migrate)
// do not take it: they share the database with a running server on purpose (WAL allows that).
import { Database } from "bun:sqlite";
import { closeSync, existsSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { ensurePrivateDir } from "../private-files";

/** Thrown when another process (or another server in this process) holds the database's lock. */
export class InstanceLockedError extends Error {
  constructor(readonly databasePath: string, readonly lockPath: string) {
    super(
      `another ChatAPI server is already using the database ${databasePath} (lock ${lockPath} is held). ` +
        "Stop that server first, or give this one its own DATA_DIR / DATABASE_DSN. " +
        "CLI commands such as `chatapi tenants create` and `chatapi backup` work while it runs.",
    );
    this.name = "InstanceLockedError";
  }
}

/** A held lock; `release()` is idempotent. */
export interface InstanceLock {
  readonly path: string;
  release(): void;
}

/** Takes the exclusive lock of `databasePath` or throws InstanceLockedError at once (no waiting). */
export function acquireInstanceLock(databasePath: string): InstanceLock | null {
  if (databasePath === ":memory:") return null;
  const path = `${databasePath}.lock`;
  ensurePrivateDir(dirname(path));
  // Created 0600 like the database. Never open and close an existing lock file here: closing any
  // descriptor of a file drops this process's POSIX locks on it (another server of this process).
  if (!existsSync(path)) {
    try {
      closeSync(openSync(path, "wx", 0o600));
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
    }
  }
  const db = new Database(path, { create: true });
  try {
    // Never wait: a held lock means a live holder, and the answer must come at once.
    db.exec("PRAGMA busy_timeout = 0");
    // An EXCLUSIVE transaction that is never committed: the lock lasts until release or death.
    db.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") throw new InstanceLockedError(databasePath, path);
    throw err;
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      try {
        db.exec("ROLLBACK");
      } finally {
        db.close();
      }
    },
  };
}
