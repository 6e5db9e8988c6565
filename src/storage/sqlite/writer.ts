// Group commit on bun:sqlite: transactions started in the same event-loop turn run one after another
// inside ONE SQLite transaction and share one COMMIT (one fsync). Each keeps its own fate for the
// errors its function throws (the batch is replayed with a SAVEPOINT per item when one fails), and
// their after-commit callbacks run after COMMIT in submission order.
import type { Database, Statement } from "bun:sqlite";
import { StorageUnavailableError } from "../errors";
import { classify } from "./errors";
import type { Gate } from "./facade";
import type { WalSync } from "./wal-sync";

/** The open/closed state and after-commit callbacks of one transaction handle. */
export class TxGate implements Gate {
  private live = true;
  readonly callbacks: (() => void)[] = [];
  constructor(private readonly db: Database) {}
  /** False once the function settled, and as soon as SQLite rolled the transaction back by itself. */
  get open(): boolean {
    return this.live && this.db.inTransaction;
  }
  close(): void {
    this.live = false;
  }
}

interface Job<H> {
  fn?: (tx: H) => Promise<unknown>;
  /** May commit without its own fsync (a batch of lazy jobs runs with synchronous=NORMAL). */
  lazy: boolean;
  exclusive?: () => unknown;
  resolve: (v: any) => void;
  reject: (e: unknown) => void;
  gate?: TxGate;
  result?: unknown;
  error?: unknown;
  failed: boolean;
}

/** What the writer did, for tests and metrics. */
export interface WriterStats {
  batches: number;
  items: number;
  largestBatch: number;
}

export interface WriterOptions<H> {
  /** Builds the handle `fn` receives (the store's Tx facade) around a gate. */
  makeHandle: (gate: TxGate) => H;
  /** Called with an error thrown by an after-commit callback (the commit stands). */
  onCallbackError: (err: unknown) => void;
  maxBatch?: number;
  /**
   * Durability off the event loop: the connection commits without fsync (synchronous=NORMAL) and a
   * batch settles only once this made its WAL frames durable. Absent: COMMIT itself is durable.
   */
  walSync?: WalSync;
}

/** The single write path of a SQLite store. */
export class GroupCommitWriter<H> {
  private queue: Job<H>[] = [];
  /** Lazy (background) work: committed in the turn after the durable work, so waiting responses go first. */
  private lazyQueue: Job<H>[] = [];
  private lazyScheduled = false;
  private scheduled = false;
  private running: Promise<void> | null = null;
  private readonly maxBatch: number;
  readonly stats: WriterStats = { batches: 0, items: 0, largestBatch: 0 };
  // Prepared once: db.exec would parse these statements again for every batch and item.
  private readonly s: Record<"begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackTo", Statement>;
  /** The connection's `synchronous` when it fsyncs every commit (FULL=2, EXTRA=3), else null: lazy jobs then need nothing special. */
  private readonly durableSync: number | null;

  constructor(
    private readonly db: Database,
    private readonly o: WriterOptions<H>,
  ) {
    this.maxBatch = o.maxBatch ?? 2000;
    this.s = {
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

  /**
   * Queues `fn` for the next batch; resolves with its result after COMMIT and after its
   * after-commit callbacks ran. `fn` may run twice (batch replay): effects only through the handle.
   */
  submit<T>(fn: (tx: H) => Promise<T>, opts: { lazy?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job<H> = { fn: fn as (tx: H) => Promise<unknown>, lazy: opts.lazy === true && (this.durableSync !== null || this.o.walSync !== undefined), resolve, reject, failed: false };
      if (job.lazy) this.scheduleLazy(job);
      else {
        this.queue.push(job);
        this.schedule();
      }
    });
  }

  /** Runs `fn` alone on the write connection, outside any transaction (checkpoints, VACUUM INTO). */
  exclusive<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ exclusive: fn, lazy: false, resolve, reject, failed: false });
      this.schedule();
    });
  }

  /** Runs everything queued now, lazy work included; resolves when both queues are empty and what they committed is durable (shutdown). */
  async flush(): Promise<void> {
    await this.drain();
    this.queue.push(...this.lazyQueue.splice(0));
    await this.drain();
    await this.o.walSync?.barrier()?.catch(() => undefined);
  }

  private scheduleLazy(job: Job<H>): void {
    this.lazyQueue.push(job);
    if (this.lazyScheduled) return;
    this.lazyScheduled = true;
    // The turn after: durable work submitted meanwhile (and the responses waiting on it) goes first.
    setImmediate(() => {
      this.lazyScheduled = false;
      this.queue.push(...this.lazyQueue.splice(0));
      void this.drain();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // One event-loop turn of submits forms a batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private drain(): Promise<void> {
    if (this.running) return this.running;
    if (this.queue.length === 0) return Promise.resolve();
    // Assigned before the loop can finish: a loop that ends synchronously (exclusive jobs only)
    // must not clear `running` before it was set, or the writer would look busy forever.
    const p: Promise<void> = this.loop().finally(() => {
      if (this.running === p) this.running = null;
      // Work queued between the loop's last check and now would otherwise wait for the next submit.
      if (this.queue.length > 0) this.schedule();
    });
    this.running = p;
    return p;
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.exclusive) {
        // Backups and checkpoints see only what is durable.
        const durable = this.o.walSync?.barrier();
        if (durable) {
          try {
            await durable;
          } catch (err) {
            this.queue.shift();
            head.reject(classify(err));
            continue;
          }
        }
        this.queue.shift();
        try {
          head.resolve(head.exclusive());
        } catch (err) {
          head.reject(classify(err));
        }
        continue;
      }
      // One batch in flight at a time: while its fdatasync runs, the event loop parses requests and
      // the queue grows, so the next COMMIT carries them all (fewer, larger commits).
      const syncing = this.o.walSync?.current();
      if (syncing) await syncing;
      // A batch is a run of jobs of the same durability: lazy ones commit without their own fsync
      // (with a WalSync every batch is made durable off the event loop, lazy ones included).
      let n = 0;
      while (n < this.queue.length && n < this.maxBatch && !this.queue[n]!.exclusive && this.queue[n]!.lazy === head.lazy) n++;
      const batch = this.queue.splice(0, n);
      if (!head.lazy || this.durableSync === null) {
        await this.runBatch(batch);
        continue;
      }
      this.db.exec("PRAGMA synchronous = NORMAL");
      try {
        await this.runBatch(batch);
      } finally {
        this.db.exec(`PRAGMA synchronous = ${this.durableSync}`);
      }
    }
  }

  /** One function on a fresh handle; false when it threw. */
  private async runJob(j: Job<H>): Promise<boolean> {
    const gate = new TxGate(this.db);
    j.gate = gate;
    try {
      j.result = await j.fn!(this.o.makeHandle(gate));
      j.failed = false;
      j.error = undefined;
      return true;
    } catch (err) {
      j.failed = true;
      j.error = err;
      return false;
    } finally {
      gate.close();
    }
  }

  private failAll(batch: Job<H>[], err: unknown): void {
    const e = classify(err);
    for (const j of batch) j.reject(e);
  }

  /**
   * SQLite rolled the transaction back by itself: the batch shares the error that did it (503), except
   * items that had already failed on their own in the replay, which keep their own error.
   */
  private lost(batch: Job<H>[], cause: unknown): void {
    const c = classify(cause);
    // A non-storage error that ended the transaction (should not happen) still means the data is gone.
    const e = c instanceof StorageUnavailableError ? c : new StorageUnavailableError("SQLITE_ABORT", c);
    for (const j of batch) j.reject(j.failed && j.error !== cause ? classify(j.error) : e);
  }

  private async runBatch(batch: Job<H>[]): Promise<void> {
    try {
      this.s.begin.run();
    } catch (err) {
      this.failAll(batch, err);
      return;
    }
    // Fast path: items rarely fail (inputs are validated first), so the batch first runs without
    // savepoints. If an item throws, everything is rolled back and replayed with a SAVEPOINT per item.
    let failure: Job<H> | null = null;
    for (const j of batch) {
      if (!(await this.runJob(j))) {
        failure = j;
        break;
      }
      if (!this.db.inTransaction) return this.lost(batch, new StorageUnavailableError("SQLITE_ABORT"));
    }
    if (failure) {
      // Rolled back by SQLite itself (FULL, IOERR, BUSY...): replaying would run the items in
      // autocommit mode, each SAVEPOINT opening and RELEASE committing its own transaction.
      if (!this.db.inTransaction) {
        failure.failed = false;
        return this.lost(batch, failure.error);
      }
      try {
        this.s.rollback.run();
        this.s.begin.run();
      } catch (err) {
        if (this.db.inTransaction) this.tryRollback();
        this.failAll(batch, err);
        return;
      }
      for (const j of batch) j.failed = false;
      for (const j of batch) {
        if (!this.db.inTransaction) return this.lost(batch, new StorageUnavailableError("SQLITE_ABORT"));
        this.s.savepoint.run();
        if (await this.runJob(j)) {
          if (!this.db.inTransaction) return this.lost(batch, new StorageUnavailableError("SQLITE_ABORT"));
          this.s.release.run();
          continue;
        }
        if (!this.db.inTransaction) return this.lost(batch, j.error);
        try {
          this.s.rollbackTo.run();
          this.s.release.run();
        } catch (err) {
          this.tryRollback();
          return this.lost(batch, err);
        }
      }
    }
    try {
      this.s.commit.run();
    } catch (err) {
      this.tryRollback();
      const e = classify(err);
      for (const j of batch) j.reject(j.failed ? classify(j.error) : e);
      return;
    }
    this.stats.batches++;
    this.stats.items += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    // The next batch may start now; this one settles when its frames are on disk.
    if (this.o.walSync) this.o.walSync.committedBatch((err) => (err ? this.undurable(batch, err) : this.settle(batch)));
    else this.settle(batch);
  }

  /** The WAL could not be made durable: nobody is told their write succeeded (503). */
  private undurable(batch: Job<H>[], err: unknown): void {
    const e = classify(err);
    for (const j of batch) j.reject(j.failed ? classify(j.error) : e);
  }

  /** After a durable COMMIT: each item's callbacks in submission order, then its promise. */
  private settle(batch: Job<H>[]): void {
    for (const j of batch) {
      if (j.failed) {
        j.reject(classify(j.error));
        continue;
      }
      for (const cb of j.gate!.callbacks) {
        try {
          cb();
        } catch (err) {
          // The data is committed: a failing publish must not turn it into an error, nor go unseen.
          this.o.onCallbackError(err);
        }
      }
      j.resolve(j.result);
    }
  }

  private tryRollback(): void {
    if (!this.db.inTransaction) return;
    try {
      this.s.rollback.run();
    } catch {
      // already rolled back by SQLite
    }
  }
}
