// Fan-out in background chunks: the recipients of a notification, and the offline members of a room
// that get a message's webhook, are expanded FANOUT_CHUNK at a time, one chunk per step, with the
// event loop free in between. Tenants take turns (round-robin), so a tenant notifying a huge room
// never queues another tenant's work behind its own. Jobs are durable (fanout_jobs): written in the
// transaction of the message or notification, advanced by each chunk's transaction, resumed at start.
import type { Bus, Frame, OnlineDirectory } from "../bus/bus";
import type { StepScheduler } from "../fairness/step-scheduler";
import type { Logger } from "../log";
import type { DeliveryRef } from "../storage/delivery-store";
import type { FanoutJobRow } from "../storage/fanout-store";
import type { Store, Tx } from "../storage/store";
import type { Tenant } from "../tenancy/tenants";

/** Recipients expanded per step at first; the size then adapts so a step's work stays near STEP_TARGET_MS. */
export const FANOUT_CHUNK = 200;
const MIN_CHUNK = 25;
const MAX_CHUNK = 1000;
const STEP_TARGET_MS = 2;
// The outbox quota reads the pending count at most this often per tenant and counts locally between.
const QUOTA_REFRESH_MS = 1000;
/**
 * A job's lease: the process expanding it renews it every third of this; once it has passed (the
 * process died), another process sharing the database claims the job and resumes it.
 */
export const FANOUT_LEASE_MS = 30_000;
const CLAIM_BATCH = 100;

export interface FanoutDeps {
  store: Store;
  bus: Bus;
  online: OnlineDirectory;
  tenants: { get(tenantId: string): Promise<Tenant> };
  /** The webhook sender, woken after a chunk queued deliveries. */
  worker: { wake(): void };
  log: Logger;
  /** Turns between tenants' background steps (shared with the connect replay). */
  steps: StepScheduler;
  chunk?: number;
  now?: () => number;
  /**
   * The database is served by this process alone (not cluster mode): at start every unfinished job is
   * its own, whatever its lease. Otherwise (cluster mode: nodes sharing PostgreSQL) only jobs whose
   * lease has passed are claimed, at start and then periodically (a node that died leaves its jobs).
   */
  exclusive?: boolean;
  leaseMs?: number;
}

interface Running {
  row: FanoutJobRow;
  /** The live frame for notification recipients (absent for a job resumed after a restart: replay covers it). */
  frame?: Frame;
  done?: (recipients: number) => void;
  fail?: (err: unknown) => void;
}

interface ChunkResult {
  stage: number;
  cursor: string;
  recipients: number;
  fresh: string[];
  queued: boolean;
  /** Recipients read in this step. */
  n: number;
}

/** The last stage: the job is finished. */
const DONE = 3;

/** Expands fan-out jobs a chunk per step, round-robin over tenants. One per process. */
export class FanoutWorker {
  private readonly queues = new Map<string, Running[]>();
  private ring: string[] = [];
  private rr = 0;
  private running = false;
  private stopped = false;
  private readonly pending = new Map<string, { n: number; atMs: number }>();
  private chunk: number;
  private readonly adaptive: boolean;
  private readonly now: () => number;
  private idleWaiters: (() => void)[] = [];
  private leaseTimer: ReturnType<typeof setInterval> | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly leaseMs: number;

  constructor(private readonly d: FanoutDeps) {
    this.chunk = d.chunk ?? FANOUT_CHUNK;
    this.adaptive = d.chunk === undefined;
    this.now = d.now ?? Date.now;
    this.leaseMs = d.leaseMs ?? FANOUT_LEASE_MS;
  }

  /** Queues a committed job; resolves with its recipient count when its last chunk has committed. */
  enqueue(row: FanoutJobRow, frame?: Frame): Promise<number> {
    return new Promise((resolve, reject) => {
      this.push({ row, frame, done: resolve, fail: reject });
    });
  }

  /**
   * Resumes the jobs a previous process left unfinished (their recipients still get everything), then
   * keeps this process's leases renewed and (shared database) claims jobs whose lease has passed.
   */
  async resume(): Promise<number> {
    let n = 0;
    if (this.d.exclusive) {
      const rows = await this.d.store.fanout.all();
      for (const row of rows) this.push({ row });
      n = rows.length;
    } else {
      n = await this.claimExpired();
    }
    if (!this.leaseTimer && !this.stopped) {
      this.leaseTimer = setInterval(() => void this.leases(), Math.max(10, Math.floor(this.leaseMs / 3)));
      this.leaseTimer.unref?.();
    }
    return n;
  }

  /** Claims unfinished jobs whose lease has passed (their process died) and queues them. */
  private async claimExpired(): Promise<number> {
    let n = 0;
    for (;;) {
      const now = this.now();
      const rows = await this.d.store.transaction((tx) => tx.fanout.claim(new Date(now).toISOString(), new Date(now + this.leaseMs).toISOString(), CLAIM_BATCH));
      for (const row of rows) this.push({ row });
      n += rows.length;
      if (rows.length < CLAIM_BATCH) return n;
    }
  }

  /** Renews the leases of the jobs queued here; claims the expired jobs of other processes. */
  private async leases(): Promise<void> {
    if (this.stopped) return;
    try {
      const ids: string[] = [];
      for (const q of this.queues.values()) for (const j of q) ids.push(j.row.job_id);
      const until = new Date(this.now() + this.leaseMs).toISOString();
      // Lazy: a renewal lost in a crash only lets the lease pass sooner.
      if (ids.length > 0) await this.d.store.transaction((tx) => tx.fanout.renew(ids, until), { lazy: true });
      if (!this.d.exclusive) {
        const n = await this.claimExpired();
        if (n > 0) this.d.log.info({ jobs: n }, "fan-out: resuming jobs whose process stopped");
      }
    } catch (err) {
      this.d.log.warn({ err: String(err) }, "fan-out: renewing leases failed");
    }
  }

  /** Jobs queued or running. */
  size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Resolves when no job is left (tests, shutdown). */
  idle(): Promise<void> {
    return this.size() === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops taking steps; unfinished jobs stay in fanout_jobs and resume at the next start. */
  stop(): void {
    this.stopped = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = null;
  }

  /**
   * Graceful shutdown: stops after the step in progress and gives up the leases of the jobs still
   * queued here, so another process (or the next start) resumes them at once.
   */
  async shutdown(): Promise<void> {
    this.stop();
    await this.loopDone;
    const ids: string[] = [];
    for (const q of this.queues.values()) for (const j of q) ids.push(j.row.job_id);
    if (ids.length === 0) return;
    try {
      await this.d.store.transaction((tx) => tx.fanout.renew(ids, null));
    } catch (err) {
      this.d.log.warn({ err: String(err) }, "fan-out: releasing leases failed (they expire by themselves)");
    }
  }

  private push(job: Running): void {
    const t = job.row.tenant_id;
    let q = this.queues.get(t);
    if (!q) {
      q = [];
      this.queues.set(t, q);
      this.ring.push(t);
    }
    q.push(job);
    if (!this.running && !this.stopped) {
      this.running = true;
      this.loopDone = new Promise((resolve) => setImmediate(() => void this.loop().finally(resolve)));
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.ring.length > 0) {
      this.rr %= this.ring.length;
      const tenantId = this.ring[this.rr]!;
      const q = this.queues.get(tenantId)!;
      const job = q[0]!;
      let finished = false;
      try {
        finished = await this.step(job);
      } catch (err) {
        // The job stays in fanout_jobs (its chunk rolled back): it resumes at the next start.
        this.d.log.error({ tenant_id: tenantId, job_id: job.row.job_id, err: String(err) }, "fan-out chunk failed");
        job.fail?.(err);
        finished = true;
      }
      if (finished) q.shift();
      if (q.length === 0) {
        this.queues.delete(tenantId);
        this.ring.splice(this.rr, 1);
      } else {
        this.rr++;
      }
      // Other requests, and other tenants' background steps, run between two chunks.
      if (this.ring.length > 0) await this.d.steps.turn(this.ring[this.rr % this.ring.length]!);
    }
    this.running = false;
    if (this.size() === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** One chunk in one transaction; true when the job is finished. */
  private async step(job: Running): Promise<boolean> {
    const row = job.row;
    const tenant = await this.d.tenants.get(row.tenant_id);
    const r = await this.d.store.transaction(
      async (tx) => {
        const t0 = performance.now();
        const res = await this.expand(tx, row, tenant);
        const ms = performance.now() - t0;
        this.adapt(ms, res.n);
        this.d.steps.charge(ms);
        tx.afterCommit(() => {
          row.stage = res.stage;
          row.cursor = res.cursor;
          row.recipients = res.recipients;
          if (job.frame) for (const u of res.fresh) this.d.bus.toUser(row.tenant_id, u, job.frame);
          if (res.queued) this.d.worker.wake();
        });
        return res;
      },
      // Redone from the durable job row after a crash: no fsync of its own.
      { lazy: true },
    );
    if (r.stage < DONE) return false;
    job.done?.(r.recipients);
    return true;
  }

  /** Sizes the next chunk so a step's work stays near STEP_TARGET_MS on this machine. */
  private adapt(ms: number, n: number): void {
    if (!this.adaptive || n < this.chunk / 2) return;
    const next = ms > 0 ? Math.round(this.chunk * (STEP_TARGET_MS / ms)) : MAX_CHUNK;
    // Move halfway: one slow step (a checkpoint, another process) must not collapse the size.
    this.chunk = Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, Math.round((this.chunk + next) / 2)));
  }

  /** Reads the next page of recipients and writes what they get. Runs inside the transaction; DB only. */
  private async expand(tx: Tx, row: FanoutJobRow, tenant: Tenant): Promise<ChunkResult> {
    let stage = row.stage;
    let cursor = row.cursor;
    let batch: string[] = [];
    // Empty stages are skipped within the same step.
    while (batch.length === 0 && stage < DONE) {
      if (stage === 0) {
        const ids = row.user_ids ?? [];
        const start = Number(cursor || 0);
        batch = ids.slice(start, start + this.chunk);
        [stage, cursor] = start + this.chunk >= ids.length ? [1, ""] : [0, String(start + this.chunk)];
      } else if (stage === 1) {
        const page = row.room_id ? await tx.fanout.roomMembers(row.tenant_id, row.room_id, cursor, row.as_of, this.chunk) : [];
        batch = page.filter((u) => u !== row.exclude_user);
        [stage, cursor] = page.length < this.chunk ? [2, ""] : [1, page[page.length - 1]!];
      } else {
        const page = row.topic !== null && row.kind === "notification" ? await tx.fanout.topicSubscribers(row.tenant_id, row.topic, cursor, row.as_of, this.chunk) : [];
        batch = page.map((p) => p.user_id);
        [stage, cursor] = page.length < this.chunk ? [DONE, ""] : [2, page[page.length - 1]!.id];
      }
    }
    // A notification's recipients are the union, each once: only new ones count, get a frame or a webhook.
    const fresh = row.kind === "notification" ? await tx.notifications.addRecipients(row.tenant_id, row.ref_id, batch) : batch;
    const recipients = row.recipients + (row.kind === "notification" ? fresh.length : 0);
    let queued = false;
    if (row.payload_id && tenant.config.webhook_url) {
      const offline = fresh.filter((u) => !this.d.online.isOnline(row.tenant_id, u));
      if (offline.length > 0) queued = await this.queueDeliveries(tx, row, tenant, offline);
    }
    if (stage >= DONE) await tx.fanout.delete(row.job_id);
    else await tx.fanout.advance(row.job_id, stage, cursor, recipients);
    return { stage, cursor, recipients, fresh: row.kind === "notification" ? fresh : [], queued, n: batch.length };
  }

  /**
   * Deliveries that reference the stored payload. Past the tenant's `max_pending_deliveries` they
   * are written as dead letters with a last_error saying so: never dropped silently.
   */
  private async queueDeliveries(tx: Tx, row: FanoutJobRow, tenant: Tenant, recipients: string[]): Promise<boolean> {
    const nowMs = this.now();
    const createdAt = new Date(nowMs).toISOString();
    const max = tenant.config.max_pending_deliveries;
    let p = this.pending.get(tenant.id);
    if (!p || nowMs - p.atMs > QUOTA_REFRESH_MS) {
      p = { n: await tx.deliveries.pendingCount(tenant.id), atMs: nowMs };
      this.pending.set(tenant.id, p);
    }
    const kind = row.kind === "message" ? "message.new" : "notification.new";
    const refs: DeliveryRef[] = [];
    let queued = false;
    for (const u of recipients) {
      const over = p.n >= max;
      refs.push({
        delivery_id: Bun.randomUUIDv7(),
        tenant_id: tenant.id,
        kind,
        payload_id: row.payload_id!,
        recipient_id: u,
        status: over ? "dead" : "pending",
        next_attempt_at: createdAt,
        last_error: over ? `outbox quota exceeded: the tenant already has ${max} pending deliveries (max_pending_deliveries)` : null,
        target_url: tenant.config.webhook_url,
        created_at: createdAt,
        finished_at: over ? createdAt : null,
      });
      if (!over) {
        p.n++;
        queued = true;
      }
    }
    await tx.deliveries.insertRefs(refs);
    return queued;
  }
}
