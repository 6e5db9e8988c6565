// Admission of transactions to the pool: at most `size` run at once, the others wait in order; one
// that waits longer than `timeoutMs` fails with StorageUnavailableError (503, "pool exhausted")
// instead of queueing without bound behind a stuck database.
import { StorageUnavailableError } from "../errors";

/** A FIFO semaphore with an acquisition timeout. */
export class PoolGate {
  private active = 0;
  private readonly waiting: { resolve: () => void; timer: ReturnType<typeof setTimeout> }[] = [];

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves when a slot is free; rejects with StorageUnavailableError("pool_exhausted") after timeoutMs. */
  acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new StorageUnavailableError("pool_exhausted"));
        }, this.timeoutMs),
      };
      this.waiting.push(entry);
    });
  }

  /** Frees a slot, handing it to the longest waiter. */
  release(): void {
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(); // the slot passes on: active stays the same
    } else {
      this.active--;
    }
  }

  /** Transactions running and waiting (metrics, tests). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
