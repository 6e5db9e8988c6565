// Group commit: writes submitted in the same event-loop turn share one SQLite transaction.
// Each item runs inside its own SAVEPOINT, so a failing item fails alone; after COMMIT the
// items' onCommit callbacks run and their promises resolve, in submission order.
import type { Database } from "bun:sqlite";

interface Job {
  work: () => unknown;
  onCommit?: (result: any) => void;
  resolve: (v: any) => void;
  reject: (e: unknown) => void;
  result?: unknown;
  error?: unknown;
  failed: boolean;
}

/** What one flush did, for tests and metrics. */
export interface FlushStats {
  batches: number;
  items: number;
  largestBatch: number;
}

/** Runs write work in batched transactions. The only way domain services write. */
export interface Writer {
  /**
   * Queues `work` to run inside the next batch transaction. `onCommit(result)` runs synchronously
   * after COMMIT, in submission order, before the promise resolves (publish events there).
   */
  submit<T>(work: () => T, onCommit?: (result: T) => void): Promise<T>;
  /** Runs queued work now (used at shutdown). */
  flush(): void;
  readonly stats: FlushStats;
}

/** Writer on bun:sqlite; batches by setImmediate (one event-loop turn). */
export class GroupCommitWriter implements Writer {
  private queue: Job[] = [];
  private scheduled = false;
  readonly stats: FlushStats = { batches: 0, items: 0, largestBatch: 0 };

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 2000,
  ) {}

  submit<T>(work: () => T, onCommit?: (result: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, onCommit, resolve, reject, failed: false });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
      this.queue = this.queue.length <= this.maxBatch ? [] : this.queue.slice(this.maxBatch);
      this.runBatch(batch);
    }
  }

  private runBatch(batch: Job[]): void {
    try {
      this.db.exec("BEGIN IMMEDIATE");
    } catch (err) {
      for (const j of batch) j.reject(err);
      return;
    }
    for (const j of batch) {
      this.db.exec("SAVEPOINT item");
      try {
        j.result = j.work();
        this.db.exec("RELEASE item");
      } catch (err) {
        j.failed = true;
        j.error = err;
        try {
          this.db.exec("ROLLBACK TO item");
          this.db.exec("RELEASE item");
        } catch {
          // The transaction itself is gone (e.g. disk full): COMMIT below fails and rejects all.
        }
      }
    }
    try {
      this.db.exec("COMMIT");
    } catch (err) {
      try {
        this.db.exec("ROLLBACK");
      } catch {
        // already rolled back by SQLite
      }
      for (const j of batch) j.reject(j.failed ? j.error : err);
      return;
    }
    this.stats.batches++;
    this.stats.items += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    for (const j of batch) {
      if (j.failed) {
        j.reject(j.error);
        continue;
      }
      try {
        j.onCommit?.(j.result);
      } catch {
        // A publish failure must not turn a committed write into an error.
      }
      j.resolve(j.result);
    }
  }
}
