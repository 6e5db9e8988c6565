// SQL for notifications and their recipients. Every statement is scoped by tenant_id (and user_id on reads).
import type { Database, Statement } from "bun:sqlite";

/** A notification row; `payload` is JSON text ('null' for a null payload). */
export interface NotificationRow {
  tenant_id: string;
  notification_id: string;
  topic: string;
  payload: string;
  created_at: string;
}

/** A notification as one recipient sees it. */
export interface RecipientNotificationRow {
  notification_id: string;
  topic: string;
  payload: string;
  created_at: string;
  acked_at: string | null;
}

/** Persistence of notifications and per-recipient ack state. */
export interface NotificationStore {
  insert(row: NotificationRow, recipients: string[]): void;
  /** Adds recipients (each once); returns those that were not recipients yet. */
  addRecipients(tenantId: string, notificationId: string, userIds: string[]): string[];
  /** The user's notifications, newest first; only unacked ones when `unackedOnly`. */
  listForUser(tenantId: string, userId: string, unackedOnly: boolean, limit: number): RecipientNotificationRow[];
  /** The user's unacked notifications, oldest first, after `afterId` when given (connect replay, paged). */
  unackedOldestFirst(tenantId: string, userId: string, limit: number, afterId?: string): RecipientNotificationRow[];
  /** Sets acked_at once (a second ack keeps the first time); returns the row's acked_at, or null when the user is no recipient. */
  ack(tenantId: string, userId: string, notificationId: string, at: string): string | null;
}

/** NotificationStore on bun:sqlite; statements prepared once. */
export class SqliteNotificationStore implements NotificationStore {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const sel = `SELECT n.notification_id, n.topic, n.payload, n.created_at, r.acked_at
      FROM notification_recipients r JOIN notifications n ON n.tenant_id = r.tenant_id AND n.notification_id = r.notification_id`;
    this.q = {
      insert: db.query("INSERT INTO notifications (tenant_id, notification_id, topic, payload, created_at) VALUES ($tenant_id, $notification_id, $topic, $payload, $created_at)"),
      recipient: db.query("INSERT OR IGNORE INTO notification_recipients (tenant_id, notification_id, user_id, acked_at) VALUES (?, ?, ?, NULL)"),
      list: db.query(`${sel} WHERE r.tenant_id = ? AND r.user_id = ? ORDER BY r.notification_id DESC LIMIT ?`),
      listUnacked: db.query(`${sel} WHERE r.tenant_id = ? AND r.user_id = ? AND r.acked_at IS NULL ORDER BY r.notification_id DESC LIMIT ?`),
      unackedAsc: db.query(`${sel} WHERE r.tenant_id = ? AND r.user_id = ? AND r.acked_at IS NULL AND r.notification_id > ? ORDER BY r.notification_id ASC LIMIT ?`),
      ack: db.query(
        `UPDATE notification_recipients SET acked_at = coalesce(acked_at, ?)
         WHERE tenant_id = ? AND user_id = ? AND notification_id = ? RETURNING acked_at`,
      ),
    };
  }

  insert(row: NotificationRow, recipients: string[]): void {
    this.q.insert!.run(row);
    for (const u of recipients) this.q.recipient!.run(row.tenant_id, row.notification_id, u);
  }

  addRecipients(tenantId: string, notificationId: string, userIds: string[]): string[] {
    return userIds.filter((u) => this.q.recipient!.run(tenantId, notificationId, u).changes > 0);
  }

  listForUser(tenantId: string, userId: string, unackedOnly: boolean, limit: number): RecipientNotificationRow[] {
    return (unackedOnly ? this.q.listUnacked! : this.q.list!).all(tenantId, userId, limit) as RecipientNotificationRow[];
  }

  unackedOldestFirst(tenantId: string, userId: string, limit: number, afterId = ""): RecipientNotificationRow[] {
    return this.q.unackedAsc!.all(tenantId, userId, afterId, limit) as RecipientNotificationRow[];
  }

  ack(tenantId: string, userId: string, notificationId: string, at: string): string | null {
    const r = this.q.ack!.get(at, tenantId, userId, notificationId) as { acked_at: string } | null;
    return r?.acked_at ?? null;
  }
}
