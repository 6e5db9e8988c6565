// Group commit: writes submitted in the same event-loop turn share one SQLite transaction.
// A failing item fails alone (the batch is replayed with a SAVEPOINT per item); after COMMIT the
// items' onCommit callbacks run and their promises resolve, in submission order.
import type { Database, Statement } from "bun:sqlite";

interface Job {
  work: () => unknown;
  /** May commit without its own fsync (see Writer.submit's `lazy`). */
  lazy: boolean;
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

/** Options of one submitted write. */
export interface SubmitOptions {
  /**
   * Background work that is safe to redo after a crash (a fan-out chunk whose job row is durable, a
   * webhook attempt's result): committed in a transaction of its own without waiting for the disk
   * (synchronous=NORMAL); the next ordinary commit's fsync makes it durable. A lost lazy commit is
   * redone, never half-applied (WAL commits are atomic). Spares the event loop one fsync per chunk.
   */
  lazy?: boolean;
}

/** Runs write work in batched transactions. The only way domain services write. */
export interface Writer {
  /**
   * Queues `work` to run inside the next batch transaction. `onCommit(result)` runs synchronously
   * after COMMIT, in submission order, before the promise resolves (publish events there).
   * `work` may run twice (the batch is replayed when another item fails): it must only touch the
   * database, never in-memory state; that belongs in `onCommit`.
   */
  submit<T>(work: () => T, onCommit?: (result: T) => void, opts?: SubmitOptions): Promise<T>;
  /** Runs queued work now (used at shutdown). */
  flush(): void;
  readonly stats: FlushStats;
}

/** Writer on bun:sqlite; batches by setImmediate (one event-loop turn). */
export class GroupCommitWriter implements Writer {
  private queue: Job[] = [];
  private lazyQueue: Job[] = [];
  private lazyScheduled = false;
  private scheduled = false;
  readonly stats: FlushStats = { batches: 0, items: 0, largestBatch: 0 };

  // Prepared once: db.exec would parse these statements again for every batch and item.
  private readonly stmts: Record<"begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackTo", Statement>;
  /** The connection's `synchronous` when it fsyncs every commit (FULL=2, EXTRA=3), else null: lazy jobs then need nothing special. */
  private readonly durableSync: number | null;

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 2000,
  ) {
    this.stmts = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT item"),
      release: db.prepare("RELEASE item"),
      rollbackTo: db.prepare("ROLLBACK TO item"),
    };
    const sync = (db.query("PRAGMA synchronous").get() as { synchronous: number } | null)?.synchronous ?? 1;
    this.durableSync = sync >= 2 ? sync : null;
  }

  submit<T>(work: () => T, onCommit?: (result: T) => void, opts?: SubmitOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, onCommit, resolve, reject, failed: false, lazy: opts?.lazy === true && this.durableSync !== null });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.scheduledFlush());
      }
    });
  }

  /** One item inside its own savepoint: on failure only its writes are undone. */
  private runIsolated(j: Job): void {
    this.stmts.savepoint.run();
    try {
      j.result = j.work();
      this.stmts.release.run();
    } catch (err) {
      j.failed = true;
      j.error = err;
      try {
        this.stmts.rollbackTo.run();
        this.stmts.release.run();
      } catch {
        // The transaction itself is gone (e.g. disk full): COMMIT fails and rejects all.
      }
    }
  }

  flush(): void {
    this.flushDurable();
    this.flushLazy();
  }

  /**
   * The scheduled pass: durable work now; lazy (background) work in the next turn, so the
   * responses waiting on the durable commit go out before background work runs.
   */
  private scheduledFlush(): void {
    this.flushDurable();
    if (this.lazyQueue.length > 0 && !this.lazyScheduled) {
      this.lazyScheduled = true;
      setImmediate(() => this.flushLazy());
    }
  }

  private flushDurable(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      let queue = this.queue;
      this.queue = [];
      if (queue.some((j) => j.lazy)) {
        for (const j of queue) if (j.lazy) this.lazyQueue.push(j);
        queue = queue.filter((j) => !j.lazy);
      }
      while (queue.length > 0) {
        this.runBatch(queue.length <= this.maxBatch ? queue : queue.slice(0, this.maxBatch));
        queue = queue.length <= this.maxBatch ? [] : queue.slice(this.maxBatch);
      }
    }
  }

  private flushLazy(): void {
    this.lazyScheduled = false;
    const jobs = this.lazyQueue;
    if (jobs.length === 0) return;
    this.lazyQueue = [];
    this.runLazy(jobs);
  }

  /** Lazy jobs in their own transaction(s), committed without an fsync (synchronous=NORMAL for it). */
  private runLazy(jobs: Job[]): void {
    this.db.exec("PRAGMA synchronous = NORMAL");
    try {
      for (let i = 0; i < jobs.length; i += this.maxBatch) this.runBatch(jobs.slice(i, i + this.maxBatch));
    } finally {
      this.db.exec(`PRAGMA synchronous = ${this.durableSync}`);
    }
  }

  private runBatch(batch: Job[]): void {
    try {
      this.stmts.begin.run();
    } catch (err) {
      for (const j of batch) j.reject(err);
      return;
    }
    // Fast path: items rarely fail (inputs are validated before submit), so the batch first runs
    // without per-item savepoints. If any item throws, the whole transaction is rolled back and the
    // batch is replayed with a SAVEPOINT per item, so that only the failing items fail.
    let clean = true;
    for (const j of batch) {
      try {
        j.result = j.work();
      } catch {
        clean = false;
        break;
      }
    }
    if (!clean) {
      try {
        this.stmts.rollback.run();
        this.stmts.begin.run();
      } catch (err) {
        for (const j of batch) j.reject(err);
        return;
      }
      for (const j of batch) this.runIsolated(j);
    }
    try {
      this.stmts.commit.run();
    } catch (err) {
      try {
        this.stmts.rollback.run();
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
