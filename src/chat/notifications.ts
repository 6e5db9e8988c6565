// Notifications: POST /notify resolves explicit targets (users, a room's members, topic subscribers)
// to recipients stored at creation; live `notification` frames after commit; notification.new
// webhooks for offline recipients through the outbox; per-recipient list and ack (REST and WS).
import { invalid, notFound } from "../errors";
import type { RecipientNotificationRow } from "../storage/notification-store";
import type { Store, Tx } from "../storage/store";
import type { FanoutJobRow } from "../storage/fanout-store";
import type { Tenant } from "../tenancy/tenants";
import type { Bus, Frame, OnlineDirectory } from "../bus/bus";
import type { Actor } from "./types";
import { checkText, checkUserId, utf8Bytes } from "./validate";

/** docs/reference/rest.md Notification as one recipient sees it; `payload` is any JSON value. */
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

/** Called inside the notify transaction: recipients and notification.new webhooks (transactional outbox). */
export interface NotificationOutbox {
  /** In `tx`: stores the webhook payload once (when the tenant has a webhook_url) and the recipients' fan-out job. */
  notificationStored(tx: Tx, tenant: Tenant, notification: StoredNotification, targets: NotifyTargets): Promise<FanoutJobRow>;
  /** After commit: expands the job in background chunks; resolves with the recipient count. */
  start(job: FanoutJobRow, frame: Frame): Promise<number>;
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
  store: Store;
  bus: Bus;
  online: OnlineDirectory;
  outbox: NotificationOutbox;
  now?: () => Date;
}

export const MAX_NOTIFICATION_PAYLOAD_BYTES = 16 * 1024;
export const MAX_TOPIC_CHARS = 128;
export const MAX_TARGET_USER_IDS = 1000;
/** Default cap of `unacked` (connect replay). */
export const DEFAULT_UNACKED_LIMIT = 1000;

/** Checks a topic: 1..128 characters, the string rule (no lone surrogates, no control characters). */
export function checkTopic(topic: unknown, path = "/topic"): string {
  return checkText(topic, { path, what: "topic", min: 1, max: MAX_TOPIC_CHARS });
}

function toNotification(r: RecipientNotificationRow): Notification {
  return { notification_id: r.notification_id, topic: r.topic, payload: r.payload, created_at: r.created_at, acked_at: r.acked_at };
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

    // The notification (payload once) and its fan-out job in one transaction; recipients are then
    // stored, sent their frame and queued their webhook a chunk at a time (delivery/fanout.ts), in
    // turns with other tenants' work. Resolved as of creation: members who joined and subscriptions
    // made after it are not recipients. The 202 comes once every recipient is stored.
    const frame: Frame = { type: "notification", notification_id: n.notification_id, topic, payload, created_at: n.created_at };
    const outbox = this.d.outbox;
    let started: Promise<number> | null = null;
    await this.d.store.transaction(async (tx) => {
      if (roomId !== undefined && !(await tx.rooms.get(tenantId, roomId))) throw notFound("room not found");
      await tx.notifications.insert({ tenant_id: tenantId, notification_id: n.notification_id, topic, payload, created_at: n.created_at }, []);
      const job = await outbox.notificationStored(tx, tenant, n, { user_ids: userIds, room_id: roomId, topic_subscribers: targets.topic_subscribers });
      tx.afterCommit(() => {
        started = outbox.start(job, frame);
      });
    });
    const recipients = await ((started as Promise<number> | null) ?? Promise.resolve(0));
    return { notification_id: n.notification_id, topic, recipients, created_at: n.created_at };
  }

  /** The caller's notifications, newest first; `unacked` keeps only those not acked; limit 1..200 (50). */
  async list(actor: Actor, q: { unacked?: boolean; limit?: number } = {}): Promise<Notification[]> {
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid("limit must be 1..200", [{ path: "/query/limit", message: "out of range" }]);
    return (await this.d.store.notifications.listForUser(actor.tenant.id, actor.userId, q.unacked === true, limit)).map(toNotification);
  }

  /**
   * The user's unacked notifications, oldest first, as `notification` frame fields (no acked_at):
   * the gateway sends them after the connect replay.
   */
  async unacked(tenantId: string, userId: string, limit = DEFAULT_UNACKED_LIMIT, afterId?: string): Promise<StoredNotification[]> {
    return (await this.d.store.notifications.unackedOldestFirst(tenantId, userId, limit, afterId)).map((r) => ({ notification_id: r.notification_id, topic: r.topic, payload: r.payload, created_at: r.created_at }));
  }

  /** Marks the caller's notification acked (REST and the WS `notification.ack` frame); idempotent, keeps the first acked_at; not_found when it is not theirs. */
  async ack(actor: Actor, notificationId: string): Promise<void> {
    const tenantId = actor.tenant.id;
    const at = this.now().toISOString();
    const ackedAt = await this.d.store.transaction((tx) => tx.notifications.ack(tenantId, actor.userId, notificationId, at));
    if (ackedAt === null) throw notFound("notification not found");
  }
}
