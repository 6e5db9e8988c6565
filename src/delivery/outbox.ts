// The transactional outbox: inside the transaction that stores a message or notification, the
// webhook payload is stored once and a fan-out job is written; after commit the job is expanded in
// background chunks (fanout.ts), which write one small delivery row per offline recipient that
// references the payload. A 2xx therefore always means the work is on disk, whatever the room size.
import type { Frame } from "../bus/bus";
import type { MessageOutbox } from "../chat/messages";
import type { NotificationOutbox, NotifyTargets, StoredNotification } from "../chat/notifications";
import type { Message, Room } from "../chat/types";
import type { FanoutJobRow } from "../storage/fanout-store";
import type { Tx } from "../storage/store";
import type { Tenant } from "../tenancy/tenants";
import { FANOUT_LEASE_MS, type FanoutWorker } from "./fanout";

export interface DeliveryOutboxDeps {
  fanout: FanoutWorker;
  now?: () => number;
}

/** Queues message.new and notification.new webhooks (docs/guides/webhooks.md) and notification recipients. */
export class DeliveryOutbox implements MessageOutbox, NotificationOutbox {
  private readonly now: () => number;

  constructor(private readonly d: DeliveryOutboxDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Inside the send transaction: the payload once, and a job for the room's offline members. */
  async messageStored(tx: Tx, tenant: Tenant, room: Room, message: Message): Promise<FanoutJobRow | null> {
    if (!tenant.config.webhook_url) return null;
    const payloadId = await this.payload(tx, tenant, "message.new", {
      event: "message.new",
      tenant_id: tenant.id,
      room_id: room.room_id,
      room_metadata: room.metadata,
      // Per recipient: stored as the list of mentioned users, composed into a boolean for each
      // delivery when it is read (composeWebhookBody).
      mentioned: message.mentions,
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
    });
    return this.job(tx, tenant, { kind: "message", ref_id: message.message_id, payload_id: payloadId, room_id: room.room_id, exclude_user: message.sender_id, as_of: message.created_at });
  }

  /** Inside the notify transaction: the payload once (when the tenant has a webhook_url) and the recipients' job. */
  async notificationStored(tx: Tx, tenant: Tenant, n: StoredNotification, targets: NotifyTargets): Promise<FanoutJobRow> {
    const payloadId = tenant.config.webhook_url
      ? await this.payload(tx, tenant, "notification.new", {
          event: "notification.new",
          tenant_id: tenant.id,
          notification: { notification_id: n.notification_id, topic: n.topic, payload: n.payload, created_at: n.created_at },
        })
      : null;
    return this.job(tx, tenant, {
      kind: "notification",
      ref_id: n.notification_id,
      payload_id: payloadId,
      room_id: targets.room_id ?? null,
      user_ids: targets.user_ids && targets.user_ids.length > 0 ? targets.user_ids : null,
      topic: targets.topic_subscribers === true ? n.topic : null,
      as_of: n.created_at,
    });
  }

  /** After commit: expand the job in the background; resolves with its recipient count. */
  start(job: FanoutJobRow, frame?: Frame): Promise<number> {
    return this.d.fanout.enqueue(job, frame);
  }

  private async payload(tx: Tx, tenant: Tenant, kind: "message.new" | "notification.new", body: unknown): Promise<string> {
    const id = Bun.randomUUIDv7();
    await tx.deliveries.insertPayload({ payload_id: id, tenant_id: tenant.id, kind, body: JSON.stringify(body), created_at: new Date(this.now()).toISOString() });
    return id;
  }

  private async job(tx: Tx, tenant: Tenant, j: Pick<FanoutJobRow, "kind" | "ref_id" | "payload_id" | "as_of"> & Partial<FanoutJobRow>): Promise<FanoutJobRow> {
    const row: FanoutJobRow = {
      job_id: Bun.randomUUIDv7(),
      tenant_id: tenant.id,
      room_id: null,
      exclude_user: null,
      topic: null,
      user_ids: null,
      stage: 0,
      cursor: "",
      recipients: 0,
      created_at: new Date(this.now()).toISOString(),
      // This process expands it; another one resumes it only once the lease has passed.
      lease_until: new Date(this.now() + FANOUT_LEASE_MS).toISOString(),
      ...j,
    };
    await tx.fanout.insert(row);
    return row;
  }
}
