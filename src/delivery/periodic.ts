// A background task run every N ms on an unref'd timer; passes never overlap; stop waits for the running one.
import type { Logger } from "../log";

/** Runs `pass` every `intervalMs` (first run after `firstDelayMs`); errors are logged, never thrown. */
export class Periodic {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly pass: () => unknown,
    private readonly log: Logger,
  ) {}

  start(firstDelayMs = this.intervalMs): void {
    if (this.stopped || this.timer || this.running) return;
    this.schedule(firstDelayMs);
  }

  /** Runs one pass now (awaits a running one first). */
  async runNow(): Promise<void> {
    if (this.running) await this.running;
    const p = (async () => {
      try {
        await this.pass();
      } catch (err) {
        this.log.error({ task: this.name, err: String(err) }, "background task failed");
      }
    })();
    this.running = p;
    try {
      await p;
    } finally {
      if (this.running === p) this.running = null;
    }
  }

  /** No new pass starts; resolves when the running one (if any) ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runNow().then(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref?.();
  }
}
