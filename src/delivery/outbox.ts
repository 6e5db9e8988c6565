// The transactional outbox: webhook deliveries are inserted inside the transaction that stores the
// message or notification, so a 2xx always means the pending delivery is on disk too.
import type { MessageOutbox } from "../chat/messages";
import type { NotificationOutbox, StoredNotification } from "../chat/notifications";
import type { Message, Room } from "../chat/types";
import type { DeliveryKind, DeliveryRow } from "../storage/delivery-store";
import type { Tx } from "../storage/store";
import type { Tenant } from "../tenancy/tenants";

export interface DeliveryOutboxDeps {
  /** The sender, woken after commit. */
  worker: { wake(): void };
  now?: () => number;
}

/** Queues message.new and notification.new webhooks (docs/guides/webhooks.md), one row per offline recipient. */
export class DeliveryOutbox implements MessageOutbox, NotificationOutbox {
  private readonly now: () => number;

  constructor(private readonly d: DeliveryOutboxDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Inside the send transaction. The body is exactly docs/reference/rest.md's; event_id = delivery_id. */
  messageStored(tx: Tx, tenant: Tenant, room: Room, message: Message, offlineRecipients: string[]): Promise<boolean> {
    return this.queue(tx, tenant, "message.new", offlineRecipients, (eventId, recipient) => ({
      event: "message.new",
      event_id: eventId,
      tenant_id: tenant.id,
      room_id: room.room_id,
      recipient_id: recipient,
      room_metadata: room.metadata,
      // Per recipient, from the mentions stored with the message.
      mentioned: message.mentions.includes(recipient),
      message: {
        message_id: message.message_id,
        sender_id: message.sender_id,
        content: message.content,
        seq: message.seq,
        created_at: message.created_at,
        parent_id: message.parent_id,
        // Stored without urls: the worker signs them when the delivery is sent (docs/guides/webhooks.md).
        attachments: message.attachments.map(({ url: _u, url_expires_at: _e, ...a }) => a),
      },
    }));
  }

  /** Inside the notify transaction. */
  notificationStored(tx: Tx, tenant: Tenant, n: StoredNotification, offlineRecipients: string[]): Promise<boolean> {
    return this.queue(tx, tenant, "notification.new", offlineRecipients, (eventId, recipient) => ({
      event: "notification.new",
      event_id: eventId,
      tenant_id: tenant.id,
      recipient_id: recipient,
      notification: { notification_id: n.notification_id, topic: n.topic, payload: n.payload, created_at: n.created_at },
    }));
  }

  /** After commit: deliver now rather than at the next poll. */
  wake(): void {
    this.d.worker.wake();
  }

  private async queue(tx: Tx, tenant: Tenant, kind: DeliveryKind, recipients: string[], body: (eventId: string, recipient: string) => unknown): Promise<boolean> {
    const url = tenant.config.webhook_url;
    if (!url || recipients.length === 0) return false;
    const createdAt = new Date(this.now()).toISOString();
    const rows: DeliveryRow[] = [];
    for (const recipient of recipients) {
      const id = Bun.randomUUIDv7();
      rows.push({
        delivery_id: id,
        tenant_id: tenant.id,
        kind,
        payload: JSON.stringify(body(id, recipient)),
        status: "pending",
        attempts: 0,
        next_attempt_at: createdAt,
        last_error: null,
        target_url: url,
        created_at: createdAt,
        last_attempt_at: null,
        finished_at: null,
      });
    }
    await tx.deliveries.insert(rows);
    return true;
  }
}
