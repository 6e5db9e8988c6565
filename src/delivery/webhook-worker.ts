// The webhook sender: claims due deliveries from the outbox and POSTs them to the tenant's webhook_url.
//
// - Event-driven: `wake()` (after a commit that queued deliveries, or a dead-letter retry) triggers a
//   pass at once; after each pass a timer is armed for the earliest future retry; WORKER_INTERVAL is
//   only the fallback poll.
// - Fair: every tenant has its own in-memory lane (at most 2 x per-tenant concurrency rows claimed,
//   at most WEBHOOK_CONCURRENCY_PER_TENANT sending), and lanes are served round-robin under a global
//   cap, so one slow or dead endpoint cannot starve the others. The due scan reads per tenant, so a
//   large backlog of one tenant never hides another's rows.
// - No double send, even across processes: a scan claims due rows with a lease (DeliveryStore.claimDue)
//   and a delivery id stays in the in-flight set from claim until its result is committed. A crash
//   mid-send leaves the row pending and leased; it is sent again (same event_id) when the lease runs
//   out, or at once after a restart on SQLite (at-least-once). Shutdown gives unsent claims back.
// - Claims and results are transactions (on SQLite they batch with other writes).
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { AttemptResult, DeliveryRow } from "../storage/delivery-store";
import type { Store } from "../storage/store";
import type { Tenant } from "../tenancy/tenants";
import { AppError } from "../errors";
import { retryDelayMs } from "./backoff";
import { webhookHeaders } from "./signing";

export interface WebhookWorkerOptions {
  store: Store;
  /** Read on every attempt, so URL and secret changes apply to pending deliveries. Rejects when unknown. */
  tenants: { get(tenantId: string): Promise<Tenant> };
  log: Logger;
  metrics?: Metrics;
  retryMaxAttempts: number;
  retryIntervalMs: number;
  retryMaxIntervalMs: number;
  workerIntervalMs: number;
  webhookTimeoutMs: number;
  concurrencyPerTenant: number;
  /** Sends in flight across all tenants (default max(64, concurrencyPerTenant)). */
  globalConcurrency?: number;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Rewrites a payload just before it is sent (signs attachment urls, docs/guides/webhooks.md). */
  preparePayload?: (payload: string) => string;
  now?: () => number;
  random?: () => number;
}

interface Lane {
  tenantId: string;
  queue: DeliveryRow[];
  active: number;
  /** The last scan filled the lane: more due rows may wait in the database. */
  backlog: boolean;
}

const GAUGE_REFRESH_MS = 1000;

/** Sends webhooks from the outbox. One per process; `start` after wiring, `stop` at shutdown. */
export class WebhookWorker {
  private readonly lanes = new Map<string, Lane>();
  /** Tenants with queued rows, served round-robin from `rr`. */
  private ring: string[] = [];
  private rr = 0;
  private readonly inFlight = new Set<string>();
  private activeTotal = 0;
  private readonly sends = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private scanScheduled = false;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  /** This process's claim owner id (unique per process start). */
  private readonly owner = Bun.randomUUIDv7();
  private readonly leaseMs: number;
  private dueTimer: ReturnType<typeof setTimeout> | null = null;
  private dueTimerAt: number | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private started = false;
  private stopping = false;
  /** Shutdown gave up waiting: aborted sends leave their rows pending, untouched. */
  private abandoning = false;
  private lastGaugesAt = 0;
  private readonly globalCap: number;
  private readonly claimPerTenant: number;
  private readonly now: () => number;
  private readonly fetchImpl: (url: string, init: RequestInit) => Promise<Response>;

  constructor(private readonly o: WebhookWorkerOptions) {
    this.globalCap = o.globalConcurrency ?? Math.max(64, o.concurrencyPerTenant);
    this.claimPerTenant = o.concurrencyPerTenant * 2;
    this.now = o.now ?? Date.now;
    this.fetchImpl = o.fetch ?? ((url, init) => fetch(url, init));
    // A claim covers the wait in its lane (up to two sends ahead of it) and its own attempt.
    this.leaseMs = 3 * o.webhookTimeoutMs + 30_000;
  }

  /** Resumes pending deliveries (also those left by a crash) and starts the fallback poll. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.pollTimer = setInterval(() => {
      void this.scan();
      void this.refreshGauges();
    }, this.o.workerIntervalMs);
    this.pollTimer.unref?.();
    void this.refreshGauges();
    this.wake();
  }

  /** Runs a pass soon (coalesced): new deliveries were committed or a dead letter was re-queued. */
  wake(): void {
    if (this.scanScheduled || this.stopping || !this.started) return;
    this.scanScheduled = true;
    setImmediate(() => {
      this.scanScheduled = false;
      void this.scan();
    });
  }

  /** Deliveries claimed by this process right now (queued or sending). */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Stops claiming; waits up to `timeoutMs` for sends in flight to finish and record their result,
   * then aborts the rest, which stay pending exactly as they were (never marked failed by shutdown).
   */
  async stop(timeoutMs: number): Promise<void> {
    if (this.stopping) return this.drained();
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.pollTimer = this.dueTimer = null;
    if (this.scanning) await this.scanning;
    const unsent: string[] = [];
    for (const lane of this.lanes.values()) {
      for (const r of lane.queue) {
        this.inFlight.delete(r.delivery_id);
        unsent.push(r.delivery_id);
      }
      lane.queue = [];
    }
    this.ring = [];
    await this.release(unsent);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      this.drained().then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      this.abandoning = true;
      this.o.log.warn({ in_flight: this.sends.size }, "webhooks: shutdown drain timeout; in-flight deliveries stay pending");
      for (const c of this.controllers) c.abort();
      await this.drained();
    }
  }

  /** Gives claimed rows back (due now), so another process or the next start sends them at once. */
  private async release(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const now = new Date(this.now()).toISOString();
      await this.o.store.transaction((tx) => tx.deliveries.release(this.owner, ids, now));
    } catch (err) {
      this.o.log.error({ err: String(err), count: ids.length }, "webhooks: releasing claims failed; they expire with their lease");
    }
  }

  private async drained(): Promise<void> {
    while (this.sends.size > 0) await Promise.allSettled([...this.sends]);
  }

  /** Sets the outbox gauges from the database. */
  async refreshGauges(): Promise<void> {
    const m = this.o.metrics;
    if (!m) return;
    const nowMs = this.now();
    this.lastGaugesAt = nowMs;
    try {
      const s = await this.o.store.deliveries.stats();
      m.outboxDepth.set(s.pending);
      m.deadLetters.set(s.dead);
      const oldest = s.oldestPendingAt ? Date.parse(s.oldestPendingAt) : NaN;
      m.outboxOldestPendingSeconds.set(Number.isFinite(oldest) ? Math.max(0, (nowMs - oldest) / 1000) : 0);
    } catch (err) {
      this.o.log.error({ err: String(err) }, "webhooks: reading outbox stats failed");
    }
  }

  private lane(tenantId: string): Lane {
    let l = this.lanes.get(tenantId);
    if (!l) {
      l = { tenantId, queue: [], active: 0, backlog: false };
      this.lanes.set(tenantId, l);
    }
    return l;
  }

  /** Claims due rows per tenant into the lanes, arms the timer for the next retry, starts sends. Never overlaps itself. */
  private scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.rescan = false;
          await this.scanOnce();
        } while (this.rescan && !this.stopping);
      } finally {
        this.scanning = null;
      }
    })();
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    if (this.stopping) return;
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    const until = new Date(nowMs + this.leaseMs).toISOString();
    try {
      for (const tenantId of await this.o.store.deliveries.dueTenants(now)) {
        if (this.stopping) return;
        const before = this.lane(tenantId);
        const room = this.claimPerTenant - (before.queue.length + before.active);
        if (room <= 0) continue;
        // Claimed rows are leased, so no longer due: what comes back is new to every process.
        const rows = await this.o.store.transaction((tx) => tx.deliveries.claimDue(tenantId, now, room, { owner: this.owner, until }));
        // Sends that finished during the claim may have dropped the lane as idle: queue the claimed
        // rows on the lane that is registered now, or pump() would never find them.
        const lane = this.lane(tenantId);
        for (const r of rows) {
          if (this.inFlight.has(r.delivery_id)) continue;
          this.inFlight.add(r.delivery_id);
          lane.queue.push(r);
        }
        lane.backlog = rows.length >= room;
        if (lane.queue.length > 0 && !this.ring.includes(tenantId)) this.ring.push(tenantId);
        this.dropIfIdle(lane);
      }
      const next = await this.o.store.deliveries.nextDueAfter(now);
      if (next !== null) this.armDueTimer(Date.parse(next));
    } catch (err) {
      this.o.log.error({ err: String(err) }, "webhooks: scanning the outbox failed");
    }
    if (nowMs - this.lastGaugesAt >= GAUGE_REFRESH_MS) void this.refreshGauges();
    this.pump();
  }

  private armDueTimer(atMs: number): void {
    if (this.stopping) return;
    if (this.dueTimerAt !== null && this.dueTimerAt <= atMs) return;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimerAt = atMs;
    // +2 ms: a timer may fire a hair early, and the row must be due when the scan reads it.
    this.dueTimer = setTimeout(() => {
      this.dueTimer = null;
      this.dueTimerAt = null;
      void this.scan();
    }, Math.max(0, atMs - this.now()) + 2);
    this.dueTimer.unref?.();
  }

  /** Starts sends round-robin over lanes while the global and per-tenant caps allow. */
  private pump(): void {
    while (!this.stopping && this.activeTotal < this.globalCap && this.ring.length > 0) {
      let startedOne = false;
      for (let i = 0; i < this.ring.length; i++) {
        const idx = (this.rr + i) % this.ring.length;
        const lane = this.lanes.get(this.ring[idx]!);
        if (!lane || lane.active >= this.o.concurrencyPerTenant || lane.queue.length === 0) continue;
        const row = lane.queue.shift()!;
        if (lane.queue.length === 0) {
          this.ring.splice(idx, 1);
          this.rr = idx;
        } else {
          this.rr = idx + 1;
        }
        this.begin(lane, row);
        startedOne = true;
        break;
      }
      if (!startedOne) break;
    }
  }

  private begin(lane: Lane, row: DeliveryRow): void {
    lane.active++;
    this.activeTotal++;
    const p: Promise<void> = this.deliver(row).finally(() => {
      this.inFlight.delete(row.delivery_id);
      lane.active--;
      this.activeTotal--;
      this.sends.delete(p);
      if (this.stopping) return;
      if (lane.backlog && lane.queue.length < this.o.concurrencyPerTenant) this.wake();
      this.dropIfIdle(lane);
      this.pump();
    });
    this.sends.add(p);
  }

  private dropIfIdle(lane: Lane): void {
    if (lane.active === 0 && lane.queue.length === 0 && !lane.backlog) this.lanes.delete(lane.tenantId);
  }

  /** One attempt and its recorded result. Never throws. */
  private async deliver(row: DeliveryRow): Promise<void> {
    let result: AttemptResult | null;
    try {
      result = await this.attempt(row);
    } catch (err) {
      this.o.log.error({ delivery_id: row.delivery_id, err: String(err) }, "webhooks: attempt crashed; the delivery stays pending");
      await this.release([row.delivery_id]);
      return;
    }
    if (!result) {
      // Aborted by shutdown: hand the claim back untouched.
      await this.release([row.delivery_id]);
      return;
    }
    try {
      const r = result;
      // Lazy: a result lost in a crash only means the delivery is sent again (same event_id).
      const recorded = await this.o.store.transaction((tx) => tx.deliveries.recordAttempt(row.delivery_id, this.owner, r), { lazy: true });
      if (!recorded) this.o.log.warn({ delivery_id: row.delivery_id }, "webhooks: the claim ended before the result was recorded (lease expired or retried)");
    } catch (err) {
      // The row stays pending and due: it is sent again (same event_id), never lost.
      this.o.log.error({ delivery_id: row.delivery_id, err: String(err) }, "webhooks: recording an attempt failed");
      return;
    }
    const log = { delivery_id: row.delivery_id, tenant_id: row.tenant_id, kind: row.kind, attempts: result.attempts };
    if (result.status === "pending") {
      this.o.log.info({ ...log, error: result.error, next_attempt_at: result.nextAttemptAt }, "webhook attempt failed; will retry");
      this.armDueTimer(Date.parse(result.nextAttemptAt));
    } else if (result.status === "dead") {
      this.o.log.warn({ ...log, error: result.error }, "webhook delivery is now a dead letter");
    }
  }

  /** POSTs one delivery. Returns null when shutdown aborted it (the row is left untouched). */
  private async attempt(row: DeliveryRow): Promise<AttemptResult | null> {
    const startMs = this.now();
    const at = new Date(startMs).toISOString();
    let tenant: Tenant;
    try {
      tenant = await this.o.tenants.get(row.tenant_id);
    } catch (err) {
      if (!(err instanceof AppError && err.code === "not_found")) throw err;
      return { status: "dead", attempts: row.attempts, at, error: "tenant not found", targetUrl: null };
    }
    const url = tenant.config.webhook_url;
    if (!url) return { status: "dead", attempts: row.attempts, at, error: "tenant has no webhook_url", targetUrl: null };
    const attempts = row.attempts + 1;
    this.o.metrics?.deliveryAttempts.inc();
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, this.o.webhookTimeoutMs);
    this.controllers.add(ctrl);
    let error: string | null = null;
    const body = this.o.preparePayload ? this.o.preparePayload(row.payload) : row.payload;
    try {
      const res = await this.fetchImpl(url, {
        method: "POST",
        headers: webhookHeaders(row.delivery_id, body, tenant.webhookSecret, startMs),
        body,
        signal: ctrl.signal,
        // A redirect is not a 2xx: the receiver must answer at the configured URL.
        redirect: "manual",
      });
      void res.body?.cancel().catch(() => {});
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
    } catch (err) {
      if (timedOut) error = `timeout after ${this.o.webhookTimeoutMs} ms`;
      else if (this.abandoning) return null;
      else error = describeError(err);
    } finally {
      clearTimeout(timer);
      this.controllers.delete(ctrl);
    }
    const endMs = this.now();
    const endAt = new Date(endMs).toISOString();
    if (error === null) return { status: "delivered", attempts, at: endAt, targetUrl: url };
    this.o.metrics?.deliveryFailures.inc();
    if (attempts >= this.o.retryMaxAttempts) return { status: "dead", attempts, at: endAt, error, targetUrl: url };
    const delay = retryDelayMs(attempts, this.o.retryIntervalMs, this.o.retryMaxIntervalMs, this.o.random);
    return { status: "pending", attempts, at: endAt, nextAttemptAt: new Date(endMs + delay).toISOString(), error, targetUrl: url };
  }
}

/**
 * A network error as stored in last_error and shown in dead letters: "network error" plus the error's
 * code when it has one (ConnectionRefused, ECONNRESET...). Never the message: it may name hosts,
 * addresses or the URL with its credentials.
 */
function describeError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code) ? `network error (${code})` : "network error";
}
