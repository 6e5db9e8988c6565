// Background work in steps, fair between tenants. Work whose size grows with a room or a user (the
// connect replay, presence, notification and webhook fan-out) awaits `turn(tenantId)` between steps.
// One waiting step is released per event-loop iteration, round-robin over tenants: requests (I/O)
// are served between any two steps, and many concurrent tasks of one tenant take one turn per round
// rather than running back to back (twenty replays yielding with setImmediate would otherwise all
// run their next step in the same iteration, before any request of another tenant).

/** Share of the event loop that background steps may use together; requests keep the rest. */
export const BACKGROUND_SHARE = 0.5;
// Budget of background time that may be spent at once (ms): a burst of short steps runs unthrottled.
const BUDGET_CAPACITY_MS = 20;

/**
 * Releases waiting steps one per event-loop iteration, round-robin between tenants, and within a
 * budget: steps report their cost with `charge`, and once they have used more than
 * BACKGROUND_SHARE of the elapsed time the next release waits, so background work never takes more
 * than its share of the thread however much of it one tenant queues.
 */
export class StepScheduler {
  private readonly queues = new Map<string, (() => void)[]>();
  private ring: string[] = [];
  private rr = 0;
  private scheduled = false;
  private budgetMs = BUDGET_CAPACITY_MS;
  private refilledAt = performance.now();

  constructor(private readonly share = BACKGROUND_SHARE) {}

  /** A released step reports the time it spent (its own measurement). */
  charge(ms: number): void {
    this.refill();
    this.budgetMs -= ms;
  }

  private refill(): void {
    const now = performance.now();
    this.budgetMs = Math.min(BUDGET_CAPACITY_MS, this.budgetMs + (now - this.refilledAt) * this.share);
    this.refilledAt = now;
  }

  /** Resolves when it is this tenant's turn to run its next step. */
  turn(tenantId: string): Promise<void> {
    return new Promise((resolve) => {
      let q = this.queues.get(tenantId);
      if (!q) {
        q = [];
        this.queues.set(tenantId, q);
        this.ring.push(tenantId);
      }
      q.push(resolve);
      this.schedule();
    });
  }

  /** Steps waiting for their turn. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.refill();
    // Over budget: wait until the share has paid it back (requests run meanwhile).
    if (this.budgetMs < 0) setTimeout(() => this.release(), Math.ceil(-this.budgetMs / this.share));
    else setImmediate(() => this.release());
  }

  private release(): void {
    this.scheduled = false;
    if (this.ring.length === 0) return;
    this.rr %= this.ring.length;
    const tenantId = this.ring[this.rr]!;
    const q = this.queues.get(tenantId)!;
    const next = q.shift()!;
    if (q.length === 0) {
      this.queues.delete(tenantId);
      this.ring.splice(this.rr, 1);
    } else {
      this.rr++;
    }
    // The step runs as a microtask right after this callback; the next release waits for the next
    // iteration (immediates queued while immediates run are deferred), so I/O is polled in between.
    next();
    if (this.ring.length > 0) this.schedule();
  }
}
