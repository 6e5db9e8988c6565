// The contract of notifications and their per-recipient ack state. Scoped by tenant_id (and user_id on reads).
import type { Instant, JsonValue } from "./store";

/** A notification row; `payload` is the JSON value given (may be null). */
export interface NotificationRow {
  tenant_id: string;
  notification_id: string;
  topic: string;
  payload: JsonValue;
  created_at: Instant;
}

/** A notification as one recipient sees it. */
export interface RecipientNotificationRow {
  notification_id: string;
  topic: string;
  payload: JsonValue;
  created_at: Instant;
  acked_at: Instant | null;
}

/** Notification reads. Order by notification_id (UUIDv7, so creation order). */
export interface NotificationReads {
  /** The user's notifications, newest first; only unacked ones when `unackedOnly`. */
  listForUser(tenantId: string, userId: string, unackedOnly: boolean, limit: number): Promise<RecipientNotificationRow[]>;
  /** The user's unacked notifications, oldest first, after `afterId` when given (connect replay, paged). */
  unackedOldestFirst(tenantId: string, userId: string, limit: number, afterId?: string): Promise<RecipientNotificationRow[]>;
}

/** Notifications inside a transaction. Unique: (tenant_id, notification_id); one recipient row per user. */
export interface NotificationStore extends NotificationReads {
  /** Inserts the notification and one recipient row per distinct user of `recipients`. */
  insert(row: NotificationRow, recipients: string[]): Promise<void>;
  /** Adds recipients (each once); returns those that were not recipients yet (fan-out chunks). */
  addRecipients(tenantId: string, notificationId: string, userIds: string[]): Promise<string[]>;
  /** Sets acked_at once (a second ack keeps the first time); returns the row's acked_at, or null when the user is no recipient. */
  ack(tenantId: string, userId: string, notificationId: string, at: Instant): Promise<Instant | null>;
}
