// WAL checkpoints on a worker thread. bun:sqlite is synchronous: a checkpoint run by the main
// connection (SQLite's autocheckpoint runs inside whichever COMMIT crosses the threshold) copies the
// WAL back into the database and fsyncs it on the event loop, which held every tenant's requests for
// 100+ ms whenever one tenant wrote a lot. Here a second connection on its own thread runs PASSIVE
// checkpoints (they never wait for readers or writers), and the main connection's autocheckpoint
// is raised to a backstop that only fires if this thread falls far behind.
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";

// The worker's code, as a module: its own connection, one PASSIVE checkpoint per request.
const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
let db = null;
self.onmessage = (e) => {
  const m = e.data;
  try {
    if (m.type === "open") {
      db = new Database(m.path);
      db.exec("PRAGMA busy_timeout = 5000");
      self.postMessage({ type: "opened" });
    } else if (m.type === "checkpoint") {
      const r = db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
      self.postMessage({ type: "done", result: r });
    } else if (m.type === "close") {
      db?.close();
      db = null;
      self.postMessage({ type: "closed" });
    }
  } catch (err) {
    self.postMessage({ type: "error", message: String(err) });
  }
};
`;

/** The main connection's own autocheckpoint (db.ts) when no worker runs. */
const MAIN_AUTOCHECKPOINT_PAGES = 4000;

/** The main connection's autocheckpoint while the worker runs (pages of 4 KiB: 64 MiB of WAL). */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 16_384;

export interface CheckpointerOptions {
  /** The database file (not ":memory:"). */
  path: string;
  /** The main connection: its autocheckpoint becomes the backstop while the worker runs. */
  db: Database;
  /** How often the WAL size is looked at. */
  pollMs?: number;
  /** WAL size from which a checkpoint is requested. */
  thresholdBytes?: number;
  onError?: (message: string) => void;
}

/** Requests a PASSIVE checkpoint on the worker whenever the WAL passes the threshold. */
export class BackgroundCheckpointer {
  private worker: Worker | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;
  private closing: (() => void) | null = null;
  /** Checkpoints completed (tests, metrics). */
  completed = 0;

  constructor(private readonly o: CheckpointerOptions) {}

  /** Starts the worker; false when it cannot run here (the main connection keeps its autocheckpoint). */
  start(): boolean {
    try {
      const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
      this.worker = new Worker(url);
    } catch (err) {
      this.o.onError?.(String(err));
      return false;
    }
    this.worker.onmessage = (e: MessageEvent) => {
      const m = e.data as { type: string; message?: string };
      if (m.type === "done") {
        this.busy = false;
        this.completed++;
      } else if (m.type === "error") {
        this.busy = false;
        this.o.onError?.(m.message ?? "checkpoint failed");
      } else if (m.type === "closed") {
        this.closing?.();
      }
    };
    // A worker that cannot run (e.g. fails to load) hands checkpoints back to the main connection.
    this.worker.onerror = (e: ErrorEvent) => {
      this.o.onError?.(e.message || "checkpoint worker failed");
      this.fallBack();
    };
    this.worker.postMessage({ type: "open", path: this.o.path });
    this.o.db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
    const threshold = this.o.thresholdBytes ?? 4 * 1024 * 1024;
    this.timer = setInterval(() => {
      if (this.busy) return;
      let size = 0;
      try {
        size = statSync(`${this.o.path}-wal`).size;
      } catch {
        return;
      }
      if (size >= threshold) this.request();
    }, this.o.pollMs ?? 200);
    this.timer.unref?.();
    return true;
  }

  /** Stops using the worker: the main connection checkpoints itself again (SQLite's autocheckpoint). */
  private fallBack(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.worker?.terminate();
    this.worker = null;
    this.busy = false;
    try {
      this.o.db.exec(`PRAGMA wal_autocheckpoint = ${MAIN_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the database is closing
    }
  }

  /** Asks for one checkpoint now (unless one is running). */
  request(): void {
    if (!this.worker || this.busy) return;
    this.busy = true;
    this.worker.postMessage({ type: "checkpoint" });
  }

  /** Stops polling, closes the worker's connection and ends the thread. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    const closed = new Promise<void>((r) => (this.closing = r));
    w.postMessage({ type: "close" });
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise((r) => (t = setTimeout(r, 2000)))]);
    clearTimeout(t);
    w.terminate();
  }
}
