// Durable commits without holding the event loop: with SQLITE_SYNCHRONOUS=full the write connection
// runs with synchronous=NORMAL (COMMIT writes the WAL frames, no fsync) and this class makes them
// durable with fdatasync of the WAL file on Bun's I/O thread pool. While one fdatasync is in flight
// the event loop parses requests and the writer commits the next batches; one fdatasync then covers
// every batch committed before it started (group commit across batches).
//
// The promises of a batch resolve, and its after-commit callbacks (the publishes) run, only after an
// fdatasync that began after its COMMIT succeeded: an acknowledged or published write is on disk, as
// with synchronous=FULL. Readers wait too (`barrier()`): a read never returns rows that are not yet
// durable, so a power cut cannot take back something a client has seen.
import { closeSync, fsyncSync, openSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { StorageUnavailableError } from "../errors";

export interface WalSyncOptions {
  /** The database file; its WAL is `<path>-wal`. */
  path: string;
  /** Replaces fdatasync of the WAL (tests inject a failing disk with it). */
  sync?: () => Promise<void>;
  onError?: (err: unknown) => void;
}

interface Waiter {
  epoch: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Makes committed WAL frames durable, one fdatasync at a time, in commit order. */
export class WalSync {
  /** Commits handed over so far, and how many of them are known durable. */
  private committed = 0;
  private durable = 0;
  private pending: { epoch: number; done: (err?: unknown) => void }[] = [];
  private inFlight: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private fh: Promise<FileHandle> | null = null;
  /** After a failed fdatasync nothing is trusted again (the kernel may have dropped the dirty pages). */
  private broken: unknown = null;
  private closed = false;
  readonly stats = { syncs: 0, commits: 0 };

  constructor(private readonly o: WalSyncOptions) {}

  /** A batch was committed: `done` runs once it is durable (or with the error when it cannot be). */
  committedBatch(done: (err?: unknown) => void): void {
    this.stats.commits++;
    const epoch = ++this.committed;
    this.pending.push({ epoch, done });
    if (!this.inFlight) this.start();
  }

  /** The fdatasync in flight (settled, never rejected), or null. */
  current(): Promise<void> | null {
    return this.inFlight;
  }

  /** Null when everything committed so far is durable; else a promise that resolves when it is. */
  barrier(): Promise<void> | null {
    if (this.durable >= this.committed) return null;
    if (this.broken) return Promise.reject(this.unavailable());
    const epoch = this.committed;
    return new Promise<void>((resolve, reject) => this.waiters.push({ epoch, resolve, reject }));
  }

  /** Waits for what is in flight and closes the WAL handle. */
  async close(): Promise<void> {
    await this.barrier()?.catch(() => undefined);
    this.closed = true;
    const fh = this.fh;
    this.fh = null;
    if (fh) await (await fh.catch(() => null))?.close();
  }

  private unavailable(): StorageUnavailableError {
    return new StorageUnavailableError("SQLITE_IOERR_FSYNC", this.broken);
  }

  private start(): void {
    const group = this.pending;
    this.pending = [];
    const epoch = this.committed;
    const run = this.broken ? Promise.reject(this.broken) : this.syncOnce();
    this.inFlight = run.then(
      () => {
        this.stats.syncs++;
        this.durable = epoch;
        for (const g of group) g.done();
        this.wake();
      },
      (err) => {
        if (!this.broken) {
          this.broken = err ?? new Error("fdatasync failed");
          this.o.onError?.(err);
        }
        const e = this.unavailable();
        for (const g of group) g.done(e);
        for (const w of this.waiters) w.reject(e);
        this.waiters = [];
      },
    ).finally(() => {
      this.inFlight = null;
      if (this.pending.length > 0) this.start();
    });
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) (w.epoch <= this.durable ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private async syncOnce(): Promise<void> {
    if (this.o.sync) return this.o.sync();
    if (this.closed) throw new Error("WAL sync after close");
    // Opened at the first commit (the WAL exists from then on; SQLite deletes it only when the last
    // connection closes). Its directory entry is made durable once, as a new file needs.
    this.fh ??= open(`${this.o.path}-wal`, "r+").then((fh) => {
      syncDirectory(dirname(this.o.path));
      return fh;
    });
    await (await this.fh).datasync();
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
