// The transactional outbox: inside the transaction that stores a message or notification, the
// webhook payload is stored once and a fan-out job is written; after commit the job is expanded in
// background chunks (fanout.ts), which write one small delivery row per offline recipient that
// references the payload. A 2xx therefore always means the work is on disk, whatever the room size.
import type { Frame } from "../chat/bus";
import type { MessageOutbox } from "../chat/messages";
import type { NotificationOutbox, NotifyTargets, StoredNotification } from "../chat/notifications";
import type { Message, Room } from "../chat/types";
import type { DeliveryStore } from "../storage/delivery-store";
import type { FanoutJobRow, FanoutStore } from "../storage/fanout-store";
import type { Tenant } from "../tenancy/tenants";
import type { FanoutWorker } from "./fanout";

export interface DeliveryOutboxDeps {
  store: DeliveryStore;
  jobs: FanoutStore;
  fanout: FanoutWorker;
  now?: () => number;
}

/** Queues message.new and notification.new webhooks (API.md section 5) and notification recipients. */
export class DeliveryOutbox implements MessageOutbox, NotificationOutbox {
  private readonly now: () => number;

  constructor(private readonly d: DeliveryOutboxDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Inside the send transaction: the payload once, and a job for the room's offline members. */
  messageStored(tenant: Tenant, room: Room, message: Message): FanoutJobRow | null {
    if (!tenant.config.webhook_url) return null;
    const payloadId = this.payload(tenant, "message.new", {
      event: "message.new",
      tenant_id: tenant.id,
      room_id: room.room_id,
      room_metadata: room.metadata,
      message: {
        message_id: message.message_id,
        sender_id: message.sender_id,
        content: message.content,
        seq: message.seq,
        created_at: message.created_at,
      },
    });
    return this.job(tenant, { kind: "message", ref_id: message.message_id, payload_id: payloadId, room_id: room.room_id, exclude_user: message.sender_id, as_of: message.created_at });
  }

  /** Inside the notify transaction: the payload once (when the tenant has a webhook_url) and the recipients' job. */
  notificationStored(tenant: Tenant, n: StoredNotification, targets: NotifyTargets): FanoutJobRow {
    const payloadId = tenant.config.webhook_url
      ? this.payload(tenant, "notification.new", {
          event: "notification.new",
          tenant_id: tenant.id,
          notification: { notification_id: n.notification_id, topic: n.topic, payload: n.payload, created_at: n.created_at },
        })
      : null;
    return this.job(tenant, {
      kind: "notification",
      ref_id: n.notification_id,
      payload_id: payloadId,
      room_id: targets.room_id ?? null,
      user_ids: targets.user_ids && targets.user_ids.length > 0 ? JSON.stringify(targets.user_ids) : null,
      topic: targets.topic_subscribers === true ? n.topic : null,
      as_of: n.created_at,
    });
  }

  /** After commit: expand the job in the background; resolves with its recipient count. */
  start(job: FanoutJobRow, frame?: Frame): Promise<number> {
    return this.d.fanout.enqueue(job, frame);
  }

  private payload(tenant: Tenant, kind: "message.new" | "notification.new", body: unknown): string {
    const id = Bun.randomUUIDv7();
    this.d.store.insertPayload({ payload_id: id, tenant_id: tenant.id, kind, body: JSON.stringify(body), created_at: new Date(this.now()).toISOString() });
    return id;
  }

  private job(tenant: Tenant, j: Pick<FanoutJobRow, "kind" | "ref_id" | "payload_id" | "as_of"> & Partial<FanoutJobRow>): FanoutJobRow {
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
      ...j,
    };
    this.d.jobs.insert(row);
    return row;
  }
}
