// Notifications and their recipients on bun:sqlite. Scoped by tenant_id (and user_id on reads).
import type { Database, Statement } from "bun:sqlite";
import type { NotificationRow, NotificationStore, RecipientNotificationRow } from "../notification-store";
import type { Sync } from "./facade";

/** Method names of NotificationStore. */
export const NOTIFICATION_METHODS = ["listForUser", "unackedOldestFirst", "insert", "addRecipients", "ack"] as const;

// The payload column holds JSON text ('null' for a null payload): never NULL.
function parsed(rows: (Omit<RecipientNotificationRow, "payload"> & { payload: string })[]): RecipientNotificationRow[] {
  for (const r of rows) (r as { payload: unknown }).payload = JSON.parse(r.payload);
  return rows as RecipientNotificationRow[];
}

/** NotificationStore on bun:sqlite; statements prepared once. */
export class SqliteNotificationStore implements Sync<NotificationStore> {
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
    this.q.insert!.run({ ...row, payload: JSON.stringify(row.payload ?? null) });
    for (const u of recipients) this.q.recipient!.run(row.tenant_id, row.notification_id, u);
  }

  listForUser(tenantId: string, userId: string, unackedOnly: boolean, limit: number): RecipientNotificationRow[] {
    return parsed((unackedOnly ? this.q.listUnacked! : this.q.list!).all(tenantId, userId, limit));
  }

  unackedOldestFirst(tenantId: string, userId: string, limit: number, afterId = ""): RecipientNotificationRow[] {
    return parsed(this.q.unackedAsc!.all(tenantId, userId, afterId, limit));
  }

  addRecipients(tenantId: string, notificationId: string, userIds: string[]): string[] {
    return userIds.filter((u) => this.q.recipient!.run(tenantId, notificationId, u).changes > 0);
  }

  ack(tenantId: string, userId: string, notificationId: string, at: string): string | null {
    const r = this.q.ack!.get(at, tenantId, userId, notificationId) as { acked_at: string } | null;
    return r?.acked_at ?? null;
  }
}
