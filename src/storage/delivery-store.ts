// SQL for the webhook outbox (deliveries), plus the WAL checkpoint statement of the maintenance worker.
// The only place the deliveries table is read or written.
import type { Database, Statement } from "bun:sqlite";

export type DeliveryKind = "message.new" | "notification.new";
export type DeliveryStatus = "pending" | "delivered" | "dead";

/** A delivery row as read: `payload` is the exact webhook body (JSON text), composed from the shared payload. */
export interface DeliveryRow {
  delivery_id: string;
  tenant_id: string;
  kind: DeliveryKind;
  payload: string;
  payload_id?: string | null;
  recipient_id?: string | null;
  status: DeliveryStatus;
  attempts: number;
  /** unix ms */
  next_attempt_at: number;
  last_error: string | null;
  target_url: string | null;
  created_at: string;
  last_attempt_at: string | null;
  /** unix ms, set when delivered or dead */
  finished_at: number | null;
}

/** The outcome of one attempt, as written back. */
export type AttemptResult =
  | { status: "delivered"; attempts: number; at: string; atMs: number; targetUrl: string | null }
  | { status: "pending"; attempts: number; at: string; nextAttemptAt: number; error: string; targetUrl: string | null }
  | { status: "dead"; attempts: number; at: string; atMs: number; error: string; targetUrl: string | null };

/** Outbox gauges. */
export interface OutboxStats {
  pending: number;
  dead: number;
  /** ISO created_at of the oldest pending delivery, or null. */
  oldestPendingAt: string | null;
}

/** A new delivery that references a stored payload (webhook_payloads) instead of carrying a copy. */
export interface DeliveryRef {
  delivery_id: string;
  tenant_id: string;
  kind: DeliveryKind;
  payload_id: string;
  recipient_id: string;
  status: "pending" | "dead";
  next_attempt_at: number;
  last_error: string | null;
  target_url: string | null;
  created_at: string;
  finished_at: number | null;
}

/**
 * The webhook body of one delivery: the shared payload (the body without `event_id` and
 * `recipient_id`) with those two fields put in API.md's order (after `event`, after `room_id` or
 * else `tenant_id`). Deterministic, so a retry sends (and signs) the same bytes.
 */
export function composeWebhookBody(template: string, eventId: string, recipientId: string): string {
  const t = JSON.parse(template) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const after = "room_id" in t ? "room_id" : "tenant_id";
  for (const [k, v] of Object.entries(t)) {
    out[k] = v;
    if (k === "event") out.event_id = eventId;
    if (k === after) out.recipient_id = recipientId;
  }
  return JSON.stringify(out);
}

/** Persistence of webhook deliveries. Every write runs inside the caller's (writer's) transaction. */
export interface DeliveryStore {
  insert(row: DeliveryRow): void;
  /** Stores a payload once (message or notification); deliveries reference it. */
  insertPayload(p: { payload_id: string; tenant_id: string; kind: DeliveryKind; body: string; created_at: string }): void;
  /** Inserts deliveries that reference a stored payload. */
  insertRefs(rows: DeliveryRef[]): void;
  /** Pending deliveries of a tenant (outbox quota). */
  pendingCount(tenantId: string): number;
  /** Deletes up to `limit` payloads created before `beforeIso` that no delivery references. */
  prunePayloads(beforeIso: string, limit: number): number;
  /** Tenants with at least one pending delivery due at `nowMs`. */
  dueTenants(nowMs: number): string[];
  /** A tenant's pending deliveries due at `nowMs`, oldest due first. */
  due(tenantId: string, nowMs: number, limit: number): DeliveryRow[];
  /** The earliest next_attempt_at of a pending delivery strictly after `nowMs`, or null. */
  nextDueAfter(nowMs: number): number | null;
  /** Writes an attempt's outcome; only touches a row still pending. Returns false when it was not. */
  recordAttempt(deliveryId: string, r: AttemptResult): boolean;
  /** This tenant's dead letters, newest first. */
  listDead(tenantId: string, limit: number): DeliveryRow[];
  /** Puts a dead letter of this tenant back to pending with attempts 0, due at `nowMs`. False when no such dead letter. */
  requeueDead(tenantId: string, deliveryId: string, nowMs: number): boolean;
  /** Deletes up to `limit` rows of `status` finished before `beforeMs`; returns the count. */
  pruneFinished(status: "delivered" | "dead", beforeMs: number, limit: number): number;
  stats(): OutboxStats;
  get(deliveryId: string): DeliveryRow | null;
}

/** DeliveryStore on bun:sqlite; statements prepared once. */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const cols = "delivery_id, tenant_id, kind, payload, status, attempts, next_attempt_at, last_error, target_url, created_at, last_attempt_at, finished_at";
    // Reads join the shared payload; `template` is composed into `payload` by `rows()`.
    const sel = `SELECT d.delivery_id, d.tenant_id, d.kind, d.payload, d.payload_id, d.recipient_id, d.status, d.attempts, d.next_attempt_at,
      d.last_error, d.target_url, d.created_at, d.last_attempt_at, d.finished_at, p.body AS template
      FROM deliveries d LEFT JOIN webhook_payloads p ON p.payload_id = d.payload_id`;
    this.q = {
      insertPayload: db.query("INSERT INTO webhook_payloads (payload_id, tenant_id, kind, body, created_at) VALUES ($payload_id, $tenant_id, $kind, $body, $created_at)"),
      insertRef: db.query(
        `INSERT INTO deliveries (delivery_id, tenant_id, kind, payload, payload_id, recipient_id, status, attempts, next_attempt_at, last_error, target_url, created_at, last_attempt_at, finished_at)
         VALUES ($delivery_id, $tenant_id, $kind, NULL, $payload_id, $recipient_id, $status, 0, $next_attempt_at, $last_error, $target_url, $created_at, NULL, $finished_at)`,
      ),
      pendingCount: db.query("SELECT count(*) AS n FROM deliveries INDEXED BY deliveries_due_by_tenant WHERE tenant_id = ? AND status = 'pending'"),
      prunePayloads: db.query(
        `DELETE FROM webhook_payloads WHERE payload_id IN (
           SELECT p.payload_id FROM webhook_payloads p WHERE p.created_at < ?
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.payload_id = p.payload_id) LIMIT ?)`,
      ),
      insert: db.query(
        `INSERT INTO deliveries (${cols}) VALUES ($delivery_id, $tenant_id, $kind, $payload, $status, $attempts, $next_attempt_at, $last_error, $target_url, $created_at, $last_attempt_at, $finished_at)`,
      ),
      // Skip-scan over the (tenant_id, next_attempt_at) partial index: a few seeks per tenant with
      // pending rows, however many rows each has.
      dueTenants: db.query(
        `WITH RECURSIVE t(tenant_id) AS (
           SELECT min(tenant_id) FROM deliveries WHERE status = 'pending'
           UNION ALL
           SELECT (SELECT min(tenant_id) FROM deliveries WHERE status = 'pending' AND tenant_id > t.tenant_id) FROM t WHERE t.tenant_id IS NOT NULL
         )
         SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL
           AND (SELECT min(next_attempt_at) FROM deliveries d WHERE d.status = 'pending' AND d.tenant_id = t.tenant_id) <= ?`,
      ),
      due: db.query(`${sel} WHERE d.status = 'pending' AND d.tenant_id = ? AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`),
      nextDueAfter: db.query("SELECT min(next_attempt_at) AS t FROM deliveries WHERE status = 'pending' AND next_attempt_at > ?"),
      delivered: db.query(
        `UPDATE deliveries SET status = 'delivered', attempts = ?, last_error = NULL, last_attempt_at = ?, finished_at = ?, target_url = coalesce(?, target_url)
         WHERE delivery_id = ? AND status = 'pending'`,
      ),
      retry: db.query(
        `UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = ?, last_attempt_at = ?, target_url = coalesce(?, target_url)
         WHERE delivery_id = ? AND status = 'pending'`,
      ),
      dead: db.query(
        `UPDATE deliveries SET status = 'dead', attempts = ?, last_error = ?, last_attempt_at = ?, finished_at = ?, target_url = coalesce(?, target_url)
         WHERE delivery_id = ? AND status = 'pending'`,
      ),
      listDead: db.query(`${sel} WHERE d.tenant_id = ? AND d.status = 'dead' ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT ?`),
      requeue: db.query(
        `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL, finished_at = NULL
         WHERE tenant_id = ? AND delivery_id = ? AND status = 'dead'`,
      ),
      // `status != 'pending'` lets SQLite use the partial deliveries_finished index.
      prune: db.query(
        `DELETE FROM deliveries WHERE rowid IN (
           SELECT rowid FROM deliveries WHERE status = ? AND status != 'pending' AND finished_at < ? LIMIT ?)`,
      ),
      pendingStats: db.query("SELECT count(*) AS n, min(created_at) AS oldest FROM deliveries WHERE status = 'pending'"),
      deadCount: db.query("SELECT count(*) AS n FROM deliveries WHERE status = 'dead' AND status != 'pending'"),
      get: db.query(`${sel} WHERE d.delivery_id = ?`),
    };
  }

  insert(row: DeliveryRow): void {
    this.q.insert!.run(row);
  }

  insertPayload(p: { payload_id: string; tenant_id: string; kind: DeliveryKind; body: string; created_at: string }): void {
    this.q.insertPayload!.run(p);
  }

  insertRefs(rows: DeliveryRef[]): void {
    for (const r of rows) this.q.insertRef!.run(r);
  }

  pendingCount(tenantId: string): number {
    return (this.q.pendingCount!.get(tenantId) as { n: number }).n;
  }

  prunePayloads(beforeIso: string, limit: number): number {
    return this.q.prunePayloads!.run(beforeIso, limit).changes;
  }

  /** Composes each row's body from its shared payload (legacy rows carry their own). */
  private rows(raw: (DeliveryRow & { template: string | null })[]): DeliveryRow[] {
    return raw.map(({ template, ...r }) =>
      r.payload === null && template !== null ? { ...r, payload: composeWebhookBody(template, r.delivery_id, r.recipient_id ?? "") } : (r as DeliveryRow),
    );
  }

  dueTenants(nowMs: number): string[] {
    return (this.q.dueTenants!.all(nowMs) as { tenant_id: string }[]).map((r) => r.tenant_id);
  }

  due(tenantId: string, nowMs: number, limit: number): DeliveryRow[] {
    return this.rows(this.q.due!.all(tenantId, nowMs, limit));
  }

  nextDueAfter(nowMs: number): number | null {
    return (this.q.nextDueAfter!.get(nowMs) as { t: number | null }).t;
  }

  recordAttempt(id: string, r: AttemptResult): boolean {
    let res;
    if (r.status === "delivered") res = this.q.delivered!.run(r.attempts, r.at, r.atMs, r.targetUrl, id);
    else if (r.status === "pending") res = this.q.retry!.run(r.attempts, r.nextAttemptAt, r.error, r.at, r.targetUrl, id);
    else res = this.q.dead!.run(r.attempts, r.error, r.at, r.atMs, r.targetUrl, id);
    return res.changes > 0;
  }

  listDead(tenantId: string, limit: number): DeliveryRow[] {
    return this.rows(this.q.listDead!.all(tenantId, limit));
  }

  requeueDead(tenantId: string, deliveryId: string, nowMs: number): boolean {
    return this.q.requeue!.run(nowMs, tenantId, deliveryId).changes > 0;
  }

  pruneFinished(status: "delivered" | "dead", beforeMs: number, limit: number): number {
    return this.q.prune!.run(status, beforeMs, limit).changes;
  }

  stats(): OutboxStats {
    const p = this.q.pendingStats!.get() as { n: number; oldest: string | null };
    const d = this.q.deadCount!.get() as { n: number };
    return { pending: p.n, dead: d.n, oldestPendingAt: p.oldest };
  }

  get(deliveryId: string): DeliveryRow | null {
    const r = this.q.get!.get(deliveryId);
    return r ? this.rows([r])[0]! : null;
  }
}

/** Periodic housekeeping statements that belong to no aggregate. */
export interface MaintenanceStore {
  /** PRAGMA wal_checkpoint(PASSIVE): copies what it can without waiting for readers or writers. */
  checkpointPassive(): { busy: number; log: number; checkpointed: number };
}

/** MaintenanceStore on bun:sqlite. */
export class SqliteMaintenanceStore implements MaintenanceStore {
  private readonly qCheckpoint: Statement<{ busy: number; log: number; checkpointed: number }, []>;

  constructor(db: Database) {
    this.qCheckpoint = db.query("PRAGMA wal_checkpoint(PASSIVE)");
  }

  checkpointPassive(): { busy: number; log: number; checkpointed: number } {
    return this.qCheckpoint.get() ?? { busy: 0, log: 0, checkpointed: 0 };
  }
}
