// The contract of topic subscriptions: at most one row per (tenant, user, topic).
import type { Instant } from "./store";

/** A subscription row. */
export interface SubscriptionRow {
  tenant_id: string;
  id: string;
  user_id: string;
  topic: string;
  created_at: Instant;
}

/** Subscription reads. */
export interface SubscriptionReads {
  /** The user's subscriptions, oldest first (created_at, then id). */
  listForUser(tenantId: string, userId: string): Promise<SubscriptionRow[]>;
  /** Users subscribed to the topic, in no particular order. */
  subscribers(tenantId: string, topic: string): Promise<string[]>;
}

/** Subscriptions inside a transaction. Unique: (tenant_id, id); (tenant_id, user_id, topic). */
export interface SubscriptionStore extends SubscriptionReads {
  /**
   * Inserts unless the user already subscribes to the topic; returns the row that exists afterwards
   * and whether it is new. Never throws a unique violation: of two racing upserts one creates, the
   * other returns the winner's row (PostgreSQL: ON CONFLICT DO NOTHING, then read).
   */
  upsert(row: SubscriptionRow): Promise<{ row: SubscriptionRow; created: boolean }>;
  /** Deletes the user's own subscription; false when it is not theirs or does not exist. */
  deleteOwn(tenantId: string, userId: string, id: string): Promise<boolean>;
}
