// The webhook outbox on bun:sqlite. next_attempt_at and finished_at are integer ms columns.
import type { Database, Statement } from "bun:sqlite";
import { composeWebhookBody, type AttemptResult, type DeliveryLease, type DeliveryRef, type DeliveryRow, type DeliveryStore, type OutboxStats, type WebhookPayloadRow } from "../delivery-store";
import type { Sync } from "./facade";
import { instantToMs, msToInstant } from "./json";

/** Method names of DeliveryStore. */
export const DELIVERY_METHODS = ["dueTenants", "nextDueAfter", "listDead", "stats", "get", "list", "pendingCount", "insertPayload", "insertRefs", "prunePayloads", "insert", "claimDue", "recordAttempt", "release", "requeueDead", "pruneFinished"] as const;

// As read: legacy rows carry their whole body in `payload`; newer ones reference a shared payload
// (`template`, joined from webhook_payloads) that is composed with their event_id and recipient_id.
type Raw = Omit<DeliveryRow, "next_attempt_at" | "finished_at" | "payload"> & {
  payload: string | null;
  recipient_id: string | null;
  template: string | null;
  next_attempt_at: number;
  finished_at: number | null;
};

function row(r: Raw): DeliveryRow {
  const payload = r.payload ?? (r.template !== null ? composeWebhookBody(r.template, r.delivery_id, r.recipient_id ?? "") : "");
  return {
    delivery_id: r.delivery_id,
    tenant_id: r.tenant_id,
    kind: r.kind,
    payload,
    status: r.status,
    attempts: r.attempts,
    next_attempt_at: msToInstant(r.next_attempt_at),
    last_error: r.last_error,
    target_url: r.target_url,
    created_at: r.created_at,
    last_attempt_at: r.last_attempt_at,
    finished_at: r.finished_at === null ? null : msToInstant(r.finished_at),
  };
}

/** DeliveryStore on bun:sqlite; statements prepared once. */
export class SqliteDeliveryStore implements Sync<DeliveryStore> {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const cols = "delivery_id, tenant_id, kind, payload, status, attempts, next_attempt_at, last_error, target_url, created_at, last_attempt_at, finished_at";
    // Reads join the shared payload; `template` is composed into `payload` by `row()`.
    const sel = `SELECT d.delivery_id, d.tenant_id, d.kind, d.payload, d.recipient_id, d.status, d.attempts, d.next_attempt_at,
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
      claim: db.query("UPDATE deliveries SET next_attempt_at = ?, lease_owner = ? WHERE delivery_id = ?"),
      delivered: db.query(
        `UPDATE deliveries SET status = 'delivered', attempts = ?, last_error = NULL, last_attempt_at = ?, finished_at = ?, target_url = coalesce(?, target_url), lease_owner = NULL
         WHERE delivery_id = ? AND status = 'pending' AND lease_owner = ?`,
      ),
      retry: db.query(
        `UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = ?, last_attempt_at = ?, target_url = coalesce(?, target_url), lease_owner = NULL
         WHERE delivery_id = ? AND status = 'pending' AND lease_owner = ?`,
      ),
      dead: db.query(
        `UPDATE deliveries SET status = 'dead', attempts = ?, last_error = ?, last_attempt_at = ?, finished_at = ?, target_url = coalesce(?, target_url), lease_owner = NULL
         WHERE delivery_id = ? AND status = 'pending' AND lease_owner = ?`,
      ),
      release: db.query("UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL WHERE delivery_id = ? AND status = 'pending' AND lease_owner = ?"),
      // One process owns a SQLite database: leases a previous process left are void.
      voidLeases: db.query("UPDATE deliveries SET next_attempt_at = min(next_attempt_at, ?), lease_owner = NULL WHERE status = 'pending' AND lease_owner IS NOT NULL"),
      listDead: db.query(`${sel} WHERE d.tenant_id = ? AND d.status = 'dead' ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT ?`),
      requeue: db.query(
        `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL, finished_at = NULL, lease_owner = NULL
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
      list: db.query(
        `${sel} WHERE ($tenant IS NULL OR d.tenant_id = $tenant) AND ($status IS NULL OR d.status = $status)
         ORDER BY d.created_at, d.delivery_id LIMIT $limit /* whole-table: tests, copy-store */`,
      ),
    };
  }

  insert(rows: DeliveryRow[]): void {
    for (const r of rows) {
      this.q.insert!.run({ ...r, next_attempt_at: instantToMs(r.next_attempt_at), finished_at: r.finished_at === null ? null : instantToMs(r.finished_at) });
    }
  }

  insertPayload(p: WebhookPayloadRow): void {
    this.q.insertPayload!.run(p as never);
  }

  insertRefs(rows: DeliveryRef[]): void {
    for (const r of rows) {
      this.q.insertRef!.run({ ...r, next_attempt_at: instantToMs(r.next_attempt_at), finished_at: r.finished_at === null ? null : instantToMs(r.finished_at) } as never);
    }
  }

  pendingCount(tenantId: string): number {
    return (this.q.pendingCount!.get(tenantId) as { n: number }).n;
  }

  prunePayloads(before: string, limit: number): number {
    return this.q.prunePayloads!.run(before, limit).changes;
  }

  dueTenants(now: string): string[] {
    return (this.q.dueTenants!.all(instantToMs(now)) as { tenant_id: string }[]).map((r) => r.tenant_id);
  }

  nextDueAfter(now: string): string | null {
    const t = (this.q.nextDueAfter!.get(instantToMs(now)) as { t: number | null }).t;
    return t === null ? null : msToInstant(t);
  }

  claimDue(tenantId: string, now: string, limit: number, lease: DeliveryLease): DeliveryRow[] {
    // The write lock of the batch is held: nobody can claim between this read and the updates.
    const rows = this.q.due!.all(tenantId, instantToMs(now), limit) as Raw[];
    const until = instantToMs(lease.until);
    for (const r of rows) this.q.claim!.run(until, lease.owner, r.delivery_id);
    return rows.map(row);
  }

  recordAttempt(id: string, owner: string, r: AttemptResult): boolean {
    let res;
    if (r.status === "delivered") res = this.q.delivered!.run(r.attempts, r.at, instantToMs(r.at), r.targetUrl, id, owner);
    else if (r.status === "pending") res = this.q.retry!.run(r.attempts, instantToMs(r.nextAttemptAt), r.error, r.at, r.targetUrl, id, owner);
    else res = this.q.dead!.run(r.attempts, r.error, r.at, instantToMs(r.at), r.targetUrl, id, owner);
    return res.changes > 0;
  }

  release(owner: string, ids: string[], now: string): number {
    const nowMs = instantToMs(now);
    let n = 0;
    for (const id of ids) n += this.q.release!.run(nowMs, id, owner).changes;
    return n;
  }

  /** Voids every lease (at open: this process is the only one using the database). */
  voidLeases(now: string): number {
    return this.q.voidLeases!.run(instantToMs(now)).changes;
  }

  listDead(tenantId: string, limit: number): DeliveryRow[] {
    return (this.q.listDead!.all(tenantId, limit) as Raw[]).map(row);
  }

  requeueDead(tenantId: string, deliveryId: string, now: string): boolean {
    return this.q.requeue!.run(instantToMs(now), tenantId, deliveryId).changes > 0;
  }

  pruneFinished(status: "delivered" | "dead", before: string, limit: number): number {
    return this.q.prune!.run(status, instantToMs(before), limit).changes;
  }

  stats(): OutboxStats {
    const p = this.q.pendingStats!.get() as { n: number; oldest: string | null };
    const d = this.q.deadCount!.get() as { n: number };
    return { pending: p.n, dead: d.n, oldestPendingAt: p.oldest };
  }

  list(filter: { tenantId?: string; status?: DeliveryRow["status"] }, limit: number): DeliveryRow[] {
    return (this.q.list!.all({ tenant: filter.tenantId ?? null, status: filter.status ?? null, limit }) as Raw[]).map(row);
  }

  get(deliveryId: string): DeliveryRow | null {
    const r = this.q.get!.get(deliveryId) as Raw | null;
    return r ? row(r) : null;
  }
}
