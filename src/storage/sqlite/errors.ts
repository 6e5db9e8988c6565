// SQLite error classification: driver codes -> the storage errors of ../errors.ts.
import { StorageUnavailableError, UniqueViolationError, type UniqueConstraint } from "../errors";

// Result codes that mean "the database cannot take the work right now": 503, not 500.
const UNAVAILABLE = /^SQLITE_(READONLY|FULL|IOERR|CANTOPEN|BUSY|LOCKED|CORRUPT|NOTADB|PROTOCOL|NOMEM|INTERRUPT)/;
const UNIQUE = /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/;

/** The SQLite code of an error (e.g. "SQLITE_FULL"), or null when it is not a SQLite error. */
export function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : null;
}

function constraintOf(message: string): UniqueConstraint {
  if (message.includes("messages.client_msg_id")) return "message_client_id";
  if (message.includes("rooms.dm_key")) return "room_dm_key";
  return "other";
}

/** Maps a SQLite error to StorageUnavailableError / UniqueViolationError; anything else unchanged. */
export function classify(err: unknown): unknown {
  const code = sqliteCode(err);
  if (code === null) return err;
  if (UNAVAILABLE.test(code)) return new StorageUnavailableError(code, err);
  if (UNIQUE.test(code)) return new UniqueViolationError(constraintOf(String((err as Error).message)), err);
  return err;
}

/** True when SQLite has rolled the whole transaction back by itself after this error. */
export function abortsTransaction(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== null && /^SQLITE_(FULL|IOERR|BUSY|NOMEM|INTERRUPT|CORRUPT|NOTADB)/.test(code);
}
