// The data directory and the database files are private to the service account: the directory is
// created 0700 and a new database file 0600. SQLite creates `-wal` and `-shm` with the mode of the
// database file, so they are 0600 too; an existing file or directory keeps the mode it has.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

/** Creates `dir` (and missing parents) with mode 0700; an existing directory is left as it is. */
export function ensurePrivateDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir applies the umask; a umask can only remove bits, so chmod pins the exact mode.
  chmodSync(dir, 0o700);
}

/** Before SQLite opens `path`: private parent directory, and an empty 0600 file when none exists. */
export function ensurePrivateDatabaseFile(path: string): void {
  if (path === ":memory:" || path === "" || path.startsWith("file:")) return;
  ensurePrivateDir(dirname(path));
  if (existsSync(path)) return;
  try {
    // "wx": only the process that creates the file sets its mode (an empty file is a valid database).
    closeSync(openSync(path, "wx", 0o600));
    chmodSync(path, 0o600);
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
  }
}
