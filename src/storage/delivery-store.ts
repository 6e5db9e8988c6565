// The contract of the webhook outbox (deliveries): transactional inserts, claims with a lease so
// that several processes never send one delivery at once, results, dead letters, retention.
import type { Instant } from "./store";

export type DeliveryKind = "message.new" | "notification.new";
export type DeliveryStatus = "pending" | "delivered" | "dead";

/**
 * A delivery row. `payload` is the exact webhook body (JSON text), deliberately not a JSON value:
 * it is signed and sent byte for byte, so a store must give back the very string it was given.
 */
export interface DeliveryRow {
  delivery_id: string;
  tenant_id: string;
  kind: DeliveryKind;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the row is due; while claimed, when the claim's lease expires. */
  next_attempt_at: Instant;
  last_error: string | null;
  target_url: string | null;
  created_at: Instant;
  last_attempt_at: Instant | null;
  /** Set when delivered or dead. */
  finished_at: Instant | null;
}

/**
 * A new delivery that references a stored payload (webhook_payloads) instead of carrying a copy: the
 * body is composed when read (`composeWebhookBody`), so `DeliveryRow.payload` is always the full body.
 */
export interface DeliveryRef {
  delivery_id: string;
  tenant_id: string;
  kind: DeliveryKind;
  payload_id: string;
  recipient_id: string;
  status: "pending" | "dead";
  next_attempt_at: Instant;
  last_error: string | null;
  target_url: string | null;
  created_at: Instant;
  finished_at: Instant | null;
}

/** A webhook payload stored once per message or notification (the body without event_id and recipient_id). */
export interface WebhookPayloadRow {
  payload_id: string;
  tenant_id: string;
  kind: DeliveryKind;
  body: string;
  created_at: Instant;
}

/**
 * The webhook body of one delivery: the shared payload (the body without `event_id` and
 * `recipient_id`) with those two fields put in docs/guides/webhooks.md's order (after `event`,
 * after `room_id` or else `tenant_id`), and the per-recipient `mentioned` (stored as the list of
 * mentioned users) as a boolean. Deterministic, so a retry sends (and signs) the same bytes.
 */
export function composeWebhookBody(template: string, eventId: string, recipientId: string): string {
  const t = JSON.parse(template) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const after = "room_id" in t ? "room_id" : "tenant_id";
  for (const [k, v] of Object.entries(t)) {
    out[k] = k === "mentioned" && Array.isArray(v) ? v.includes(recipientId) : v;
    if (k === "event") out.event_id = eventId;
    if (k === after) out.recipient_id = recipientId;
  }
  return JSON.stringify(out);
}

/** The outcome of one attempt, as written back. */
export type AttemptResult =
  | { status: "delivered"; attempts: number; at: Instant; targetUrl: string | null }
  | { status: "pending"; attempts: number; at: Instant; nextAttemptAt: Instant; error: string; targetUrl: string | null }
  | { status: "dead"; attempts: number; at: Instant; error: string; targetUrl: string | null };

/** Outbox gauges. */
export interface OutboxStats {
  pending: number;
  dead: number;
  /** created_at of the oldest pending delivery, or null. */
  oldestPendingAt: Instant | null;
}

/** Who holds a claim and until when. `owner` is unique per process (e.g. a UUID taken at start). */
export interface DeliveryLease {
  owner: string;
  until: Instant;
}

/** Outbox reads. "Due" means pending with next_attempt_at <= now, and so never under a live lease. */
export interface DeliveryReads {
  /** Tenants with at least one due delivery, in no particular order. */
  dueTenants(now: Instant): Promise<string[]>;
  /** The earliest next_attempt_at of a pending delivery strictly after `now`, or null. */
  nextDueAfter(now: Instant): Promise<Instant | null>;
  /** This tenant's dead letters, newest first (created_at, then delivery_id, descending). */
  listDead(tenantId: string, limit: number): Promise<DeliveryRow[]>;
  stats(): Promise<OutboxStats>;
  get(deliveryId: string): Promise<DeliveryRow | null>;
  /** Rows matching the filter (tenant and/or status), oldest first (created_at, then delivery_id): tests, copy-store. */
  list(filter: { tenantId?: string; status?: DeliveryStatus }, limit: number): Promise<DeliveryRow[]>;
  /** Pending deliveries of a tenant (outbox quota). */
  pendingCount(tenantId: string): Promise<number>;
}

/**
 * The outbox inside a transaction. Unique: delivery_id (also the webhook event_id).
 * Claim protocol: `claimDue` leases rows (sets next_attempt_at = lease.until and the owner), the
 * owner sends, then `recordAttempt` writes the result and ends the lease. A process that dies
 * mid-send leaves its rows leased: they are due again when the lease expires (at-least-once).
 */
export interface DeliveryStore extends DeliveryReads {
  /** Inserts pending rows (the transactional outbox: in the transaction of the message or notification). */
  insert(rows: DeliveryRow[]): Promise<void>;
  /** Stores a payload once (message or notification); deliveries reference it. Unique: payload_id. */
  insertPayload(p: WebhookPayloadRow): Promise<void>;
  /** Inserts deliveries that reference a stored payload. */
  insertRefs(rows: DeliveryRef[]): Promise<void>;
  /** Deletes up to `limit` payloads created before `before` that no delivery references. */
  prunePayloads(before: Instant, limit: number): Promise<number>;
  /**
   * Claims up to `limit` of this tenant's due deliveries, oldest due first, for `lease.owner` until
   * `lease.until`; returns them as they were before the claim (attempts, due time). Two
   * transactions claiming at once never get the same row (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claimDue(tenantId: string, now: Instant, limit: number, lease: DeliveryLease): Promise<DeliveryRow[]>;
  /**
   * Writes an attempt's outcome and ends the lease. Only touches a row still pending and claimed by
   * `owner`; returns false when it was not (the lease expired and someone else took it, or a
   * dead-letter retry reset it).
   */
  recordAttempt(deliveryId: string, owner: string, r: AttemptResult): Promise<boolean>;
  /** Gives claimed rows back unchanged (due at `now`): shutdown never marks a delivery failed. */
  release(owner: string, deliveryIds: string[], now: Instant): Promise<number>;
  /** Puts a dead letter of this tenant back to pending with attempts 0, due at `now`. False when no such dead letter. */
  requeueDead(tenantId: string, deliveryId: string, now: Instant): Promise<boolean>;
  /** Deletes up to `limit` rows of `status` finished before `before`; returns the count. */
  pruneFinished(status: "delivered" | "dead", before: Instant, limit: number): Promise<number>;
}
