// Background work in steps, fair between tenants. Work whose size grows with a room or a user (the
// connect replay, presence, notification and webhook fan-out) awaits `turn(tenantId)` between steps.
// One waiting step is released per event-loop iteration, round-robin over tenants: requests (I/O)
// are served between any two steps, and many concurrent tasks of one tenant take one turn per round
// rather than running back to back (twenty replays yielding with setImmediate would otherwise all
// run their next step in the same iteration, before any request of another tenant).

/** Releases waiting steps one per event-loop iteration, round-robin between tenants. */
export class StepScheduler {
  private readonly queues = new Map<string, (() => void)[]>();
  private ring: string[] = [];
  private rr = 0;
  private scheduled = false;

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
    setImmediate(() => this.release());
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
