// What a PostgreSQL statement class runs on: the pool (reads outside transactions) or one
// transaction's connection, with errors classified and the handle's lifetime checked.
import type { SQL } from "bun";
import { StorageUnavailableError, TransactionClosedError } from "../errors";
import type { Instant } from "../store";
import { classify } from "./errors";

/** A tagged-template runner: `q\`SELECT ... ${x}\`` resolves to the rows (errors classified). */
export type Query = (strings: TemplateStringsArray, ...values: unknown[]) => Promise<any[] & { count: number }>;

/** Where a statement class sends its statements. */
export interface Conn {
  readonly q: Query;
  /**
   * True on a transaction's connection. Point reads that the domain follows with a write of the same
   * row (edit after byId, room and tenant patches after get) then lock the row (FOR NO KEY UPDATE):
   * under READ COMMITTED two such read-modify-writes would otherwise both read the old row and the
   * second would undo the first (SQLite runs transactions one at a time, so this keeps both stores alike).
   */
  readonly inTx: boolean;
  /**
   * Records that this transaction now holds the lock of `key` (a room row): after-commit callbacks of
   * transactions that locked the same key run in lock order, which is their commit order.
   * A no-op outside transactions.
   */
  locked(key: string): void;
}

/** A runner on `client` (the pool or a transaction) that throws TransactionClosedError once `isOpen` says no. */
export function makeQuery(client: () => SQL, isOpen: () => boolean = () => true): Query {
  return (strings, ...values) => {
    if (!isOpen()) return Promise.reject(new TransactionClosedError());
    return (client()(strings, ...values) as unknown as Promise<any[] & { count: number }>).catch((err: unknown) => {
      throw classify(err);
    });
  };
}

// A pooled connection the server ended (restart, failover, pg_terminate_backend) fails its next
// statement once; the pool then opens a new one.
const STALE_CONNECTION = /^(57P01|57P02|08003|08006|ERR_POSTGRES_CONNECTION_CLOSED)$/;

/** True when `err` says the connection was gone before the statement ran (safe to retry a read or an upsert). */
export function isStaleConnection(err: unknown): boolean {
  return err instanceof StorageUnavailableError && STALE_CONNECTION.test(err.driverCode);
}

/** A connection outside any transaction. Each statement is retried once on a stale pooled connection (reads are idempotent). */
export function poolConn(sql: SQL): Conn {
  const once = makeQuery(() => sql);
  const q: Query = (strings, ...values) => once(strings, ...values).catch((err: unknown) => (isStaleConnection(err) ? once(strings, ...values) : Promise.reject(err)));
  return { q, inTx: false, locked: () => {} };
}

/** The key of a room row for Conn.locked. */
export function roomKey(tenantId: string, roomId: string): string {
  return `${tenantId}\u0000${roomId}`;
}

/** An Instant from a timestamptz value (Bun returns a Date). */
export function instant(v: Date | string): Instant {
  return typeof v === "string" ? new Date(v).toISOString() : v.toISOString();
}

/** An Instant or null. */
export function instantOrNull(v: Date | string | null | undefined): Instant | null {
  return v === null || v === undefined ? null : instant(v);
}

/** A json column's parameter: JSON text (cast with ::text::json), or null for SQL NULL. */
export function jsonParam(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
