// The webhook outbox on PostgreSQL. Claims lock candidate rows with FOR UPDATE SKIP LOCKED and
// lease them to one owner, so several processes never send one delivery at once.
import { composeWebhookBody, type AttemptResult, type DeliveryLease, type DeliveryRef, type DeliveryRow, type DeliveryStatus, type DeliveryStore, type OutboxStats, type WebhookPayloadRow } from "../delivery-store";
import { instant, instantOrNull, type Conn } from "./conn";

/**
 * A delivery row as the domain sees it. Legacy rows carry their whole body in `payload`; newer ones
 * reference a shared payload (`template`, joined from webhook_payloads) composed with their
 * event_id and recipient_id.
 */
export function deliveryRow(r: any): DeliveryRow {
  return {
    delivery_id: r.delivery_id,
    tenant_id: r.tenant_id,
    kind: r.kind,
    payload: r.payload ?? (r.template != null ? composeWebhookBody(r.template, r.delivery_id, r.recipient_id ?? "") : ""),
    status: r.status,
    attempts: r.attempts,
    next_attempt_at: instant(r.next_attempt_at),
    last_error: r.last_error,
    target_url: r.target_url,
    created_at: instant(r.created_at),
    last_attempt_at: instantOrNull(r.last_attempt_at),
    finished_at: instantOrNull(r.finished_at),
  };
}

/** DeliveryStore on Bun.SQL. */
export class PgDeliveryStore implements DeliveryStore {
  constructor(private readonly c: Conn) {}

  async insert(rows: DeliveryRow[]): Promise<void> {
    if (rows.length === 0) return;
    // One statement for the whole batch: unnest of parallel arrays.
    const col = <K extends keyof DeliveryRow>(k: K) => rows.map((r) => r[k]);
    await this.c.q`INSERT INTO deliveries (delivery_id, tenant_id, kind, payload, status, attempts, next_attempt_at, last_error, target_url, created_at, last_attempt_at, finished_at)
      SELECT * FROM unnest(${col("delivery_id")}::text[], ${col("tenant_id")}::text[], ${col("kind")}::text[], ${col("payload")}::text[],
        ${col("status")}::text[], ${col("attempts")}::int[], ${col("next_attempt_at")}::timestamptz[], ${col("last_error")}::text[],
        ${col("target_url")}::text[], ${col("created_at")}::timestamptz[], ${col("last_attempt_at")}::timestamptz[], ${col("finished_at")}::timestamptz[])`;
  }

  async insertPayload(p: WebhookPayloadRow): Promise<void> {
    await this.c.q`INSERT INTO webhook_payloads (payload_id, tenant_id, kind, body, created_at)
      VALUES (${p.payload_id}, ${p.tenant_id}, ${p.kind}, ${p.body}, ${p.created_at}::timestamptz)`;
  }

  async insertRefs(rows: DeliveryRef[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <K extends keyof DeliveryRef>(k: K) => rows.map((r) => r[k]);
    await this.c.q`INSERT INTO deliveries (delivery_id, tenant_id, kind, payload, payload_id, recipient_id, status, attempts, next_attempt_at, last_error, target_url, created_at, last_attempt_at, finished_at)
      SELECT d, t, k, NULL, p, r, s, 0, n, e, u, c, NULL, f FROM unnest(${col("delivery_id")}::text[], ${col("tenant_id")}::text[], ${col("kind")}::text[],
        ${col("payload_id")}::text[], ${col("recipient_id")}::text[], ${col("status")}::text[], ${col("next_attempt_at")}::timestamptz[],
        ${col("last_error")}::text[], ${col("target_url")}::text[], ${col("created_at")}::timestamptz[], ${col("finished_at")}::timestamptz[])
        AS x(d, t, k, p, r, s, n, e, u, c, f)`;
  }

  async pendingCount(tenantId: string): Promise<number> {
    const [r] = await this.c.q`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = ${tenantId} AND status = 'pending'`;
    return r.n;
  }

  async prunePayloads(before: string, limit: number): Promise<number> {
    const r = await this.c.q`DELETE FROM webhook_payloads WHERE payload_id IN (
        SELECT p.payload_id FROM webhook_payloads p WHERE p.created_at < ${before}::timestamptz
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.payload_id = p.payload_id) LIMIT ${limit})`;
    return r.count;
  }

  async dueTenants(now: string): Promise<string[]> {
    // Loose index scan over deliveries_due_by_tenant: a few probes per tenant with pending rows,
    // however many rows each has.
    const rows = await this.c.q`WITH RECURSIVE t(tenant_id) AS (
        (SELECT tenant_id FROM deliveries WHERE status = 'pending' ORDER BY tenant_id LIMIT 1)
        UNION ALL
        SELECT (SELECT d.tenant_id FROM deliveries d WHERE d.status = 'pending' AND d.tenant_id > t.tenant_id ORDER BY d.tenant_id LIMIT 1)
        FROM t WHERE t.tenant_id IS NOT NULL)
      SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM deliveries d WHERE d.status = 'pending' AND d.tenant_id = t.tenant_id AND d.next_attempt_at <= ${now}::timestamptz)`;
    return rows.map((r: any) => r.tenant_id);
  }

  async nextDueAfter(now: string): Promise<string | null> {
    const [r] = await this.c.q`SELECT min(next_attempt_at) AS t FROM deliveries WHERE status = 'pending' AND next_attempt_at > ${now}::timestamptz`;
    return instantOrNull(r?.t);
  }

  async claimDue(tenantId: string, now: string, limit: number, lease: DeliveryLease): Promise<DeliveryRow[]> {
    // Rows another transaction is claiming right now are skipped, not waited for; the UPDATE's
    // RETURNING shows the new values, so the rows as they were come from the locking SELECT.
    const rows = await this.c.q`WITH due AS (
        SELECT * FROM deliveries WHERE status = 'pending' AND tenant_id = ${tenantId} AND next_attempt_at <= ${now}::timestamptz
        ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE deliveries d SET next_attempt_at = ${lease.until}::timestamptz, lease_owner = ${lease.owner}
        FROM due WHERE d.delivery_id = due.delivery_id RETURNING d.delivery_id)
      SELECT due.*, p.body AS template FROM due JOIN claimed USING (delivery_id) LEFT JOIN webhook_payloads p ON p.payload_id = due.payload_id
      ORDER BY due.next_attempt_at, due.delivery_id`;
    return rows.map(deliveryRow);
  }

  async recordAttempt(id: string, owner: string, r: AttemptResult): Promise<boolean> {
    let res;
    if (r.status === "delivered") {
      res = await this.c.q`UPDATE deliveries SET status = 'delivered', attempts = ${r.attempts}, last_error = NULL, last_attempt_at = ${r.at}::timestamptz,
          finished_at = ${r.at}::timestamptz, target_url = coalesce(${r.targetUrl}::text, target_url), lease_owner = NULL
        WHERE delivery_id = ${id} AND status = 'pending' AND lease_owner = ${owner}`;
    } else if (r.status === "pending") {
      res = await this.c.q`UPDATE deliveries SET attempts = ${r.attempts}, next_attempt_at = ${r.nextAttemptAt}::timestamptz, last_error = ${r.error},
          last_attempt_at = ${r.at}::timestamptz, target_url = coalesce(${r.targetUrl}::text, target_url), lease_owner = NULL
        WHERE delivery_id = ${id} AND status = 'pending' AND lease_owner = ${owner}`;
    } else {
      res = await this.c.q`UPDATE deliveries SET status = 'dead', attempts = ${r.attempts}, last_error = ${r.error}, last_attempt_at = ${r.at}::timestamptz,
          finished_at = ${r.at}::timestamptz, target_url = coalesce(${r.targetUrl}::text, target_url), lease_owner = NULL
        WHERE delivery_id = ${id} AND status = 'pending' AND lease_owner = ${owner}`;
    }
    return res.count > 0;
  }

  async release(owner: string, ids: string[], now: string): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.c.q`UPDATE deliveries SET next_attempt_at = ${now}::timestamptz, lease_owner = NULL
      WHERE delivery_id = ANY(${ids}::text[]) AND status = 'pending' AND lease_owner = ${owner}`;
    return r.count;
  }

  async listDead(tenantId: string, limit: number): Promise<DeliveryRow[]> {
    const rows = await this.c.q`SELECT d.*, p.body AS template FROM deliveries d LEFT JOIN webhook_payloads p ON p.payload_id = d.payload_id
      WHERE d.tenant_id = ${tenantId} AND d.status = 'dead' ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT ${limit}`;
    return rows.map(deliveryRow);
  }

  async requeueDead(tenantId: string, deliveryId: string, now: string): Promise<boolean> {
    const r = await this.c.q`UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ${now}::timestamptz, last_error = NULL,
        finished_at = NULL, lease_owner = NULL
      WHERE tenant_id = ${tenantId} AND delivery_id = ${deliveryId} AND status = 'dead'`;
    return r.count > 0;
  }

  async pruneFinished(status: "delivered" | "dead", before: string, limit: number): Promise<number> {
    const r = await this.c.q`DELETE FROM deliveries WHERE delivery_id IN (
        SELECT delivery_id FROM deliveries WHERE status = ${status} AND status <> 'pending' AND finished_at < ${before}::timestamptz LIMIT ${limit})`;
    return r.count;
  }

  async stats(): Promise<OutboxStats> {
    const [r] = await this.c.q`SELECT
        (SELECT count(*)::int FROM deliveries WHERE status = 'pending') AS pending,
        (SELECT min(created_at) FROM deliveries WHERE status = 'pending') AS oldest,
        (SELECT count(*)::int FROM deliveries WHERE status = 'dead' AND status <> 'pending') AS dead`;
    return { pending: r.pending, dead: r.dead, oldestPendingAt: instantOrNull(r.oldest) };
  }

  async list(filter: { tenantId?: string; status?: DeliveryStatus }, limit: number): Promise<DeliveryRow[]> {
    const rows = await this.c.q`SELECT d.*, p.body AS template FROM deliveries d LEFT JOIN webhook_payloads p ON p.payload_id = d.payload_id
      WHERE (${filter.tenantId ?? null}::text IS NULL OR d.tenant_id = ${filter.tenantId ?? null}::text)
        AND (${filter.status ?? null}::text IS NULL OR d.status = ${filter.status ?? null}::text)
      ORDER BY d.created_at, d.delivery_id LIMIT ${limit}`;
    return rows.map(deliveryRow);
  }

  async get(deliveryId: string): Promise<DeliveryRow | null> {
    const [r] = await this.c.q`SELECT d.*, p.body AS template FROM deliveries d LEFT JOIN webhook_payloads p ON p.payload_id = d.payload_id
      WHERE d.delivery_id = ${deliveryId}`;
    return r ? deliveryRow(r) : null;
  }
}
