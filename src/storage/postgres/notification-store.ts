// Notifications and their recipients on PostgreSQL. Scoped by tenant_id (and user_id on reads).
import type { NotificationRow, NotificationStore, RecipientNotificationRow } from "../notification-store";
import { instant, instantOrNull, type Conn } from "./conn";

function recipientRow(r: any): RecipientNotificationRow {
  return { notification_id: r.notification_id, topic: r.topic, payload: r.payload ?? null, created_at: instant(r.created_at), acked_at: instantOrNull(r.acked_at) };
}

/** NotificationStore on Bun.SQL. */
export class PgNotificationStore implements NotificationStore {
  constructor(private readonly c: Conn) {}

  async insert(row: NotificationRow, recipients: string[]): Promise<void> {
    // The payload column is never SQL NULL: a null payload is the JSON text 'null'.
    await this.c.q`INSERT INTO notifications (tenant_id, notification_id, topic, payload, created_at)
      VALUES (${row.tenant_id}, ${row.notification_id}, ${row.topic}, ${JSON.stringify(row.payload ?? null)}::text::json, ${row.created_at}::timestamptz)`;
    if (recipients.length === 0) return;
    await this.c.q`INSERT INTO notification_recipients (tenant_id, notification_id, user_id, acked_at)
      SELECT ${row.tenant_id}, ${row.notification_id}, u, NULL FROM unnest(${recipients}::text[]) AS u
      ON CONFLICT DO NOTHING`;
  }

  async listForUser(tenantId: string, userId: string, unackedOnly: boolean, limit: number): Promise<RecipientNotificationRow[]> {
    const rows = unackedOnly
      ? await this.c.q`SELECT n.notification_id, n.topic, n.payload, n.created_at, r.acked_at
          FROM notification_recipients r JOIN notifications n ON n.tenant_id = r.tenant_id AND n.notification_id = r.notification_id
          WHERE r.tenant_id = ${tenantId} AND r.user_id = ${userId} AND r.acked_at IS NULL ORDER BY r.notification_id DESC LIMIT ${limit}`
      : await this.c.q`SELECT n.notification_id, n.topic, n.payload, n.created_at, r.acked_at
          FROM notification_recipients r JOIN notifications n ON n.tenant_id = r.tenant_id AND n.notification_id = r.notification_id
          WHERE r.tenant_id = ${tenantId} AND r.user_id = ${userId} ORDER BY r.notification_id DESC LIMIT ${limit}`;
    return rows.map(recipientRow);
  }

  async unackedOldestFirst(tenantId: string, userId: string, limit: number, afterId = ""): Promise<RecipientNotificationRow[]> {
    const rows = await this.c.q`SELECT n.notification_id, n.topic, n.payload, n.created_at, r.acked_at
      FROM notification_recipients r JOIN notifications n ON n.tenant_id = r.tenant_id AND n.notification_id = r.notification_id
      WHERE r.tenant_id = ${tenantId} AND r.user_id = ${userId} AND r.acked_at IS NULL AND r.notification_id > ${afterId}
      ORDER BY r.notification_id ASC LIMIT ${limit}`;
    return rows.map(recipientRow);
  }

  async addRecipients(tenantId: string, notificationId: string, userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    // RETURNING lists the rows this statement inserted: users who were recipients already are skipped.
    const rows = await this.c.q`INSERT INTO notification_recipients (tenant_id, notification_id, user_id, acked_at)
      SELECT ${tenantId}, ${notificationId}, u, NULL FROM unnest(${userIds}::text[]) WITH ORDINALITY AS x(u, i)
      ON CONFLICT DO NOTHING RETURNING user_id`;
    const added = new Set(rows.map((r: any) => r.user_id as string));
    return userIds.filter((u, i) => added.has(u) && userIds.indexOf(u) === i);
  }

  async ack(tenantId: string, userId: string, notificationId: string, at: string): Promise<string | null> {
    const [r] = await this.c.q`UPDATE notification_recipients SET acked_at = coalesce(acked_at, ${at}::timestamptz)
      WHERE tenant_id = ${tenantId} AND user_id = ${userId} AND notification_id = ${notificationId} RETURNING acked_at`;
    return r ? instant(r.acked_at) : null;
  }
}
