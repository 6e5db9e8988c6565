// The storage aggregate: every interface of src/storage behind one object, and explicit transactions.
// Implementations: storage/sqlite/ (embedded default), storage/postgres/. Design note: ./README.md.
import type { AttachmentReads, AttachmentStore } from "./attachment-store";
import type { DeliveryReads, DeliveryStore } from "./delivery-store";
import type { FanoutReads, FanoutStore } from "./fanout-store";
import type { HealthStore } from "./health-store";
import type { MaintenanceStore } from "./maintenance-store";
import type { MessageReads, MessageStore } from "./message-store";
import type { NotificationReads, NotificationStore } from "./notification-store";
import type { RoomReads, RoomStore } from "./room-store";
import type { SearchReads } from "./search-store";
import type { SubscriptionReads, SubscriptionStore } from "./subscription-store";
import type { TenantReads, TenantStore } from "./tenant-store";
import type { WsTokenStore } from "./ws-token-store";

/**
 * An instant, the one time type of every row: ISO-8601 UTC with milliseconds, exactly as
 * `Date.prototype.toISOString()` writes it ("2026-12-05T09:21:11.123Z"). Fixed width, so two
 * instants compare correctly as strings. Stores convert to and from their column types.
 */
export type Instant = string;

/** Any value `JSON.parse` can return (null is JSON null). Stores keep it as a value, never as text. */
export type JsonValue = unknown;

/** Which implementation a Store is (reported by /health and used by the CLI). */
export type StoreKind = "sqlite" | "postgres";

/**
 * A transaction handle: the full interfaces (reads and writes), bound to one transaction.
 *
 * - Reads through `tx` see committed data plus this transaction's own writes.
 * - A handle is valid only while its `fn` runs: any call after `fn` settled throws
 *   `TransactionClosedError` (so a handle kept by mistake can never write into someone else's commit).
 * - Effects outside the database (publishing frames, cache updates, waking workers) go through
 *   `afterCommit`, never inline: `fn` may be rolled back or run again.
 */
export interface Tx {
  readonly tenants: TenantStore;
  readonly rooms: RoomStore;
  readonly messages: MessageStore;
  readonly deliveries: DeliveryStore;
  readonly notifications: NotificationStore;
  readonly subscriptions: SubscriptionStore;
  readonly wsTokens: WsTokenStore;
  readonly attachments: AttachmentStore;
  readonly fanout: FanoutStore;
  /**
   * Runs `cb` once, after this transaction committed and before `transaction()` resolves; never
   * when it rolls back. Callbacks of one transaction run in registration order; those of two
   * transactions that touched the same row run in commit order (per-room publish order relies on it).
   * A throwing callback is logged by the store; it neither fails the commit nor skips later callbacks.
   */
  afterCommit(cb: () => void): void;
}

/** Options of one transaction. */
export interface TransactionOptions {
  /**
   * Background work that is safe to redo after a crash (a fan-out chunk whose job row is durable, a
   * webhook attempt's result): the commit need not wait for the disk (SQLite: synchronous=NORMAL for
   * it, the next ordinary commit's fsync makes it durable; PostgreSQL: synchronous_commit = off). A
   * lost lazy commit is lost whole, never half-applied.
   */
  lazy?: boolean;
}

/**
 * The storage of one process. Reads outside a transaction (`store.rooms.get(...)`) see committed
 * data only, never another transaction's uncommitted rows. Every method returns a Promise.
 */
export interface Store {
  readonly kind: StoreKind;
  readonly tenants: TenantReads;
  readonly rooms: RoomReads;
  readonly messages: MessageReads;
  readonly deliveries: DeliveryReads;
  readonly notifications: NotificationReads;
  readonly subscriptions: SubscriptionReads;
  readonly attachments: AttachmentReads;
  readonly search: SearchReads;
  readonly fanout: FanoutReads;
  readonly health: HealthStore;
  readonly maintenance: MaintenanceStore;

  /**
   * Runs `fn` in a transaction of its own and commits when it resolves; rolls back and rejects with
   * `fn`'s error when it throws (or with the storage error when the commit fails).
   *
   * Contract for `fn`:
   * - it may run more than once (a store retries after a serialization failure, SQLite's group commit
   *   replays a batch when another item in it failed): side effects only through `tx` and
   *   `tx.afterCommit`;
   * - it awaits only `tx` methods (no network, timers or other stores' promises): a transaction
   *   holds locks (on SQLite the single write lock of the batch) while it runs;
   * - it never calls `store.transaction` again (no nesting: that would deadlock on SQLite).
   *
   * Guarantees: atomic (all of `fn`'s writes commit or none); isolated (no other transaction or
   * reader sees them before the commit); durable when the promise resolves (per the store's
   * durability setting). Transactions may be committed together (group commit) but each keeps its
   * own fate for errors thrown by its `fn`; they then also share the COMMIT's fate, and their
   * serial order is the order they were started.
   * Errors: `StorageUnavailableError` (503) when the database cannot take the write; the rejection
   * of `fn` unchanged otherwise.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: TransactionOptions): Promise<T>;

  /** Flushes queued work, waits for running transactions, closes connections. Idempotent. */
  close(): Promise<void>;
}
