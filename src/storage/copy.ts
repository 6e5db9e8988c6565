// The contract of bulk export and import for `chatapi copy-store`: every table of an installation
// as store-neutral rows, read from one consistent snapshot and written in batches into an empty store.
import type { StoreKind } from "./store";

/** The tables copy-store moves, in an order that satisfies foreign keys. (ws_tokens live 60 s and are not copied.) */
export const COPY_TABLES = [
  "tenants",
  "rooms",
  "room_members",
  "messages",
  "message_mentions",
  "reactions",
  "notifications",
  "notification_recipients",
  "subscriptions",
  "webhook_payloads",
  "deliveries",
  "attachments",
  "attachment_usage",
  "fanout_jobs",
] as const;
export type CopyTable = (typeof COPY_TABLES)[number];

/** Each table's primary key: rows are read in this order (keyset pagination). */
export const COPY_KEYS: Record<CopyTable, readonly string[]> = {
  tenants: ["tenant_id"],
  rooms: ["tenant_id", "room_id"],
  room_members: ["tenant_id", "room_id", "user_id"],
  messages: ["tenant_id", "room_id", "seq"],
  message_mentions: ["tenant_id", "room_id", "user_id", "seq"],
  reactions: ["tenant_id", "message_id", "reaction", "user_id"],
  notifications: ["tenant_id", "notification_id"],
  notification_recipients: ["tenant_id", "user_id", "notification_id"],
  subscriptions: ["tenant_id", "id"],
  webhook_payloads: ["payload_id"],
  deliveries: ["delivery_id"],
  attachments: ["tenant_id", "attachment_id"],
  attachment_usage: ["tenant_id"],
  fanout_jobs: ["job_id"],
};

/**
 * Columns a store derives itself (search indexes): never copied; the target rebuilds them
 * (SQLite's search_id and FTS5 index in finish(), PostgreSQL's generated search_tsv on insert).
 */
export const COPY_DERIVED: Partial<Record<CopyTable, readonly string[]>> = { messages: ["search_id", "search_tsv"] };

/** JSON columns (values in a CopyRow); `notNull` ones store JSON null as the text 'null'. */
export const COPY_JSON: Partial<Record<CopyTable, { column: string; notNull: boolean }[]>> = {
  tenants: [{ column: "config", notNull: true }, { column: "jwt_public_keys", notNull: false }],
  rooms: [{ column: "metadata", notNull: false }],
  messages: [
    { column: "meta", notNull: false },
    { column: "mentions", notNull: false },
    { column: "reactions", notNull: false },
    { column: "attachments", notNull: false },
  ],
  notifications: [{ column: "payload", notNull: true }],
  fanout_jobs: [{ column: "user_ids", notNull: false }],
};

/**
 * A row in store-neutral form: column name -> value. JSON columns hold values (not text), time
 * columns hold Instants, integers numbers, the rest strings or null. Columns a later migration adds
 * travel as they are.
 */
export type CopyRow = Record<string, unknown>;

/** Reading side of a copy. */
export interface CopySource {
  readonly kind: StoreKind;
  /** Where it is, without credentials (host:port/db or the file). */
  readonly location: string;
  /** Names of the migrations applied to it. */
  migrations(): Promise<string[]>;
  count(table: CopyTable): Promise<number>;
  /**
   * Every row of `table` in primary-key order, at most `batchSize` per yield. A source opened as a
   * snapshot reads every table from one consistent point in time, and never writes.
   */
  rows(table: CopyTable, batchSize: number): AsyncIterable<CopyRow[]>;
  close(): Promise<void>;
}

/** Writing side of a copy (also readable, for verification). */
export interface CopyTarget extends CopySource {
  /** True when no copied table holds a row (a target must be empty). */
  isEmpty(): Promise<boolean>;
  /** Inserts the rows as given, in one transaction. Throws when the target lacks one of their columns. */
  insert(table: CopyTable, rows: CopyRow[]): Promise<void>;
  /** Ends the import: recomputes derived values (rooms.member_count) from the copied rows. */
  finish(): Promise<void>;
}
