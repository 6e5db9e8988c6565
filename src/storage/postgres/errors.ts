// PostgreSQL error classification: Bun.SQL errors and SQLSTATEs -> the storage errors of ../errors.ts.
import { AppError } from "../../errors";
import { StorageUnavailableError, UniqueViolationError, type UniqueConstraint } from "../errors";

// SQLSTATE classes and codes that mean "the database cannot take the work right now": 503, not 500.
// 08 connection exception, 53 insufficient resources (disk full, out of memory, too many connections),
// 57P0x shutdown / cannot connect now, 57014 statement timeout, 58 system (I/O) error,
// 25006 read-only transaction (a standby or default_transaction_read_only), 55P03 lock timeout,
// 40001/40P01 serialization failure and deadlock (retried first, 503 when retries run out).
const UNAVAILABLE_STATE = /^(08|53|58|57P0[1-4]|57014|25006|55P03|40001|40P01)/;
const RETRYABLE_STATE = /^(40001|40P01)$/;

/** The unique indexes the domain relies on, by name (see migrations/postgres/). */
const CONSTRAINTS: Record<string, UniqueConstraint> = {
  messages_idempotency: "message_client_id",
  rooms_dm_key: "room_dm_key",
};

interface PgErrorLike {
  code?: unknown;
  errno?: unknown;
  constraint?: unknown;
}

/** The SQLSTATE of a server error (e.g. "23505"), or null. */
export function sqlState(err: unknown): string | null {
  const e = err as PgErrorLike | null;
  return e && typeof e.errno === "string" && /^[0-9A-Z]{5}$/.test(e.errno) ? e.errno : null;
}

/** Bun's own error code (e.g. "ERR_POSTGRES_CONNECTION_CLOSED"), or null. */
export function bunCode(err: unknown): string | null {
  const code = (err as PgErrorLike | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_POSTGRES_") ? code : null;
}

/** Maps a driver error to StorageUnavailableError / UniqueViolationError; anything else unchanged. */
export function classify(err: unknown): unknown {
  if (err instanceof StorageUnavailableError || err instanceof UniqueViolationError) return err;
  const state = sqlState(err);
  if (state === "23505") {
    const name = (err as PgErrorLike).constraint;
    return new UniqueViolationError((typeof name === "string" && CONSTRAINTS[name]) || "other", err);
  }
  // PostgreSQL text cannot hold U+0000 (22021), which SQLite stores: the request is refused with 400
  // rather than failing with 500 (JSON values are unaffected: the json type keeps "\u0000" escaped).
  if (state === "22021" || state === "22P05") return new AppError("invalid_request", "text cannot contain the NUL character (U+0000) on this server's store");
  // FATAL and PANIC end the session (a refused or terminated connection, whatever the code): the
  // database is not available to this request; the pool opens a new connection for the next one.
  const severity = (err as { severity?: unknown } | null)?.severity;
  if (state !== null) return UNAVAILABLE_STATE.test(state) || severity === "FATAL" || severity === "PANIC" ? new StorageUnavailableError(state, err) : err;
  const code = bunCode(err);
  // Errors Bun raises itself without a server SQLSTATE are about the connection (refused, closed,
  // timed out, TLS, authentication): the database is unreachable. Query-shape errors are bugs.
  if (code !== null && !/SYNTAX|INVALID_(QUERY|BINARY|ARGUMENT)|NOT_TAGGED|UNSUPPORTED|OVERFLOW|UNKNOWN_FORMAT/.test(code)) {
    return new StorageUnavailableError(code, err);
  }
  // A socket error surfacing untyped (ECONNRESET and friends).
  const errno = (err as PgErrorLike | null)?.code;
  if (typeof errno === "string" && /^E(CONN|PIPE|HOSTUNREACH|NETUNREACH|TIMEDOUT|AI_AGAIN)/.test(errno)) return new StorageUnavailableError(errno, err);
  return err;
}

/** True when the transaction may simply be run again (serialization failure, deadlock victim). */
export function isRetryable(err: unknown): boolean {
  return err instanceof StorageUnavailableError && RETRYABLE_STATE.test(err.driverCode);
}
