// Errors a store throws, whatever its implementation. Driver errors never leave src/storage raw
// when they have a meaning here: unavailability and unique violations are classified.
import { AppError } from "../errors";

/** The database cannot take reads or writes right now (disk full, read-only, I/O error, locked, pool exhausted): HTTP 503 `unavailable`. */
export class StorageUnavailableError extends AppError {
  /** The driver's code (e.g. SQLITE_FULL, 53100) for logs. */
  readonly driverCode: string;
  constructor(driverCode: string, cause?: unknown) {
    super("unavailable", "database not writable");
    this.name = "StorageUnavailableError";
    this.driverCode = driverCode;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** The unique constraints the domain relies on (idempotency by constraint, not by read-then-write). */
export type UniqueConstraint =
  /** messages (tenant, room, sender, client_msg_id) */
  | "message_client_id"
  /** rooms (tenant, dm_key) */
  | "room_dm_key"
  /** any other primary key or unique index (a bug or an id collision) */
  | "other";

/**
 * An insert hit a unique constraint. The transaction that threw it cannot continue: let it
 * propagate out of `fn` (the store rolls back), then read the row that won.
 */
export class UniqueViolationError extends Error {
  constructor(
    readonly constraint: UniqueConstraint,
    cause?: unknown,
  ) {
    super(`unique constraint violated: ${constraint}`);
    this.name = "UniqueViolationError";
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** A transaction handle was used after its `fn` settled. Always a bug in the caller. */
export class TransactionClosedError extends Error {
  constructor() {
    super("transaction handle used after its transaction ended");
    this.name = "TransactionClosedError";
  }
}

/** The operation does not exist on this store (e.g. `backup` on PostgreSQL: use pg_dump). */
export class UnsupportedByStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedByStoreError";
  }
}

/** True when `err` means the database is unavailable (a StorageUnavailableError). */
export function isStorageUnavailable(err: unknown): err is StorageUnavailableError {
  return err instanceof StorageUnavailableError;
}
