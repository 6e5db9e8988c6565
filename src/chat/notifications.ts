// Notifications: POST /notify resolves explicit targets (users, a room's members, topic subscribers)
// to recipients stored at creation; live `notification` frames after commit; notification.new
// webhooks for offline recipients through the outbox; per-recipient list and ack (REST and WS).
import { invalid, notFound } from "../errors";
import type { NotificationStore, RecipientNotificationRow } from "../storage/notification-store";
import type { RoomStore } from "../storage/room-store";
import type { SubscriptionStore } from "../storage/subscription-store";
import type { Writer } from "../storage/writer";
import type { Tenant } from "../tenancy/tenants";
import type { Bus, OnlineDirectory } from "./bus";
import type { Actor } from "./types";
import { checkUserId, utf8Bytes } from "./validate";

/** API.md Notification as one recipient sees it; `payload` is any JSON value. */
export interface Notification {
  notification_id: string;
  topic: string;
  payload: unknown;
  created_at: string;
  acked_at: string | null;
}

/** A notification as created (recipient-independent). */
export interface StoredNotification {
  notification_id: string;
  topic: string;
  payload: unknown;
  created_at: string;
}

/** Called inside the notify transaction to queue notification.new webhooks (transactional outbox). */
export interface NotificationOutbox {
  /** Returns true when anything was queued (then `wake` runs after commit). */
  notificationStored(tenant: Tenant, notification: StoredNotification, offlineRecipients: string[]): boolean;
  wake(): void;
}

export interface NotifyTargets {
  user_ids?: string[];
  room_id?: string;
  topic_subscribers?: boolean;
}

export interface NotifyInput {
  topic: unknown;
  payload?: unknown;
  targets?: NotifyTargets | null;
}

/** The 202 body of POST /notify. */
export interface NotifyResult {
  notification_id: string;
  topic: string;
  recipients: number;
  created_at: string;
}

export interface NotificationServiceDeps {
  store: NotificationStore;
  subscriptions: SubscriptionStore;
  rooms: RoomStore;
  writer: Writer;
  bus: Bus;
  online: OnlineDirectory;
  outbox?: NotificationOutbox;
  now?: () => Date;
}

export const MAX_NOTIFICATION_PAYLOAD_BYTES = 16 * 1024;
export const MAX_TOPIC_CHARS = 128;
export const MAX_TARGET_USER_IDS = 1000;
/** Default cap of `unacked` (connect replay). */
export const DEFAULT_UNACKED_LIMIT = 1000;

/** Checks a topic: a well-formed string of 1..128 characters. */
export function checkTopic(topic: unknown, path = "/topic"): string {
  if (typeof topic !== "string" || topic.length < 1 || topic.length > MAX_TOPIC_CHARS || !topic.isWellFormed()) {
    throw invalid(`topic must be 1..${MAX_TOPIC_CHARS} characters`, [{ path, message: "invalid topic" }]);
  }
  return topic;
}

function toNotification(r: RecipientNotificationRow): Notification {
  return { notification_id: r.notification_id, topic: r.topic, payload: JSON.parse(r.payload), created_at: r.created_at, acked_at: r.acked_at };
}

/** Notification operations shared by REST (/notify, /notifications) and the WebSocket gateway. */
export class NotificationService {
  private readonly now: () => Date;

  constructor(private readonly d: NotificationServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  /**
   * Creates a notification for the union of the targets (each recipient once), resolved and stored in
   * one transaction; never a tenant-wide fallback. After commit: a `notification` frame to each
   * recipient's sockets; offline recipients also get a notification.new webhook when the tenant has a URL.
   */
  async notify(tenant: Tenant, input: NotifyInput): Promise<NotifyResult> {
    const topic = checkTopic(input.topic);
    if (input.payload === undefined) throw invalid("payload is required (null is allowed)", [{ path: "/payload", message: "required" }]);
    const payloadText = JSON.stringify(input.payload);
    if (payloadText === undefined) throw invalid("payload must be JSON", [{ path: "/payload", message: "not JSON" }]);
    const size = utf8Bytes(payloadText);
    if (size > MAX_NOTIFICATION_PAYLOAD_BYTES) {
      throw invalid(`payload must be at most ${MAX_NOTIFICATION_PAYLOAD_BYTES} bytes serialized`, [{ path: "/payload", message: `${size} bytes` }]);
    }
    const targets = input.targets;
    const named = !!targets && (targets.user_ids !== undefined || targets.room_id !== undefined || targets.topic_subscribers === true);
    if (!targets || !named) {
      throw invalid("targets must name at least one of user_ids, room_id, topic_subscribers: true", [{ path: "/targets", message: "no target" }]);
    }
    const userIds = targets.user_ids ?? [];
    if (!Array.isArray(userIds)) throw invalid("targets.user_ids must be an array", [{ path: "/targets/user_ids", message: "expected array" }]);
    if (userIds.length > MAX_TARGET_USER_IDS) throw invalid(`at most ${MAX_TARGET_USER_IDS} user_ids`, [{ path: "/targets/user_ids", message: "too many" }]);
    userIds.forEach((u, i) => checkUserId(u, `/targets/user_ids/${i}`));
    const roomId = targets.room_id;
    if (roomId !== undefined && (typeof roomId !== "string" || roomId.length === 0)) throw invalid("targets.room_id must be a room id", [{ path: "/targets/room_id", message: "invalid" }]);
    const payload = JSON.parse(payloadText) as unknown;
    const tenantId = tenant.id;
    const n: StoredNotification = { notification_id: Bun.randomUUIDv7(), topic, payload, created_at: this.now().toISOString() };

    const result = await this.d.writer.submit(
      () => {
        const recipients = new Set<string>(userIds);
        if (roomId !== undefined) {
          // Resolved inside the transaction: the members at creation, of a room of this tenant only.
          if (!this.d.rooms.get(tenantId, roomId)) throw notFound("room not found");
          for (const m of this.d.rooms.members(tenantId, roomId)) recipients.add(m.user_id);
        }
        if (targets.topic_subscribers === true) for (const u of this.d.subscriptions.subscribers(tenantId, topic)) recipients.add(u);
        const list = [...recipients];
        this.d.store.insert({ tenant_id: tenantId, notification_id: n.notification_id, topic, payload: payloadText, created_at: n.created_at }, list);
        let queued = false;
        if (this.d.outbox && tenant.config.webhook_url && list.length > 0) {
          const offline = list.filter((u) => !this.d.online.isOnline(tenantId, u));
          if (offline.length) queued = this.d.outbox.notificationStored(tenant, n, offline);
        }
        return { list, queued };
      },
      (r) => {
        // Every recipient's sockets: the bus reaches only those online; a socket that opened after the
        // online check gets the frame here or in its connect replay (at-least-once, same notification_id).
        const frame = { type: "notification", notification_id: n.notification_id, topic, payload, created_at: n.created_at };
        for (const u of r.list) this.d.bus.toUser(tenantId, u, frame);
        if (r.queued) this.d.outbox?.wake();
      },
    );
    return { notification_id: n.notification_id, topic, recipients: result.list.length, created_at: n.created_at };
  }

  /** The caller's notifications, newest first; `unacked` keeps only those not acked; limit 1..200 (50). */
  list(actor: Actor, q: { unacked?: boolean; limit?: number } = {}): Notification[] {
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid("limit must be 1..200", [{ path: "/query/limit", message: "out of range" }]);
    return this.d.store.listForUser(actor.tenant.id, actor.userId, q.unacked === true, limit).map(toNotification);
  }

  /**
   * The user's unacked notifications, oldest first, as `notification` frame fields (no acked_at):
   * the gateway sends them after the connect replay.
   */
  unacked(tenantId: string, userId: string, limit = DEFAULT_UNACKED_LIMIT, afterId?: string): StoredNotification[] {
    return this.d.store.unackedOldestFirst(tenantId, userId, limit, afterId).map((r) => ({ notification_id: r.notification_id, topic: r.topic, payload: JSON.parse(r.payload), created_at: r.created_at }));
  }

  /** Marks the caller's notification acked (REST and the WS `notification.ack` frame); idempotent, keeps the first acked_at; not_found when it is not theirs. */
  async ack(actor: Actor, notificationId: string): Promise<void> {
    const tenantId = actor.tenant.id;
    const at = this.now().toISOString();
    const ackedAt = await this.d.writer.submit(() => this.d.store.ack(tenantId, actor.userId, notificationId, at));
    if (ackedAt === null) throw notFound("notification not found");
  }
}
