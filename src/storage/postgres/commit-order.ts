// After-commit ordering across transactions of this process that locked the same row.
// PostgreSQL releases a row lock at COMMIT, but the two transactions' completions reach JavaScript
// on different connections: without this, the callbacks (publishing `message` frames) of the second
// could run before those of the first. Each transaction waits for the one that held the row before it.

/** Chains transactions per locked key, in the order their lock statements returned. */
export class CommitOrder {
  private readonly tails = new Map<string, Promise<void>>();

  /** Registers `done` (settles when the transaction's callbacks ran) as the last holder of `key`; returns the previous holder's. */
  enter(key: string, done: Promise<void>): Promise<void> | undefined {
    const prev = this.tails.get(key);
    this.tails.set(key, done);
    return prev;
  }

  /** Forgets `key` when `done` is still its last holder. */
  leave(key: string, done: Promise<void>): void {
    if (this.tails.get(key) === done) this.tails.delete(key);
  }

  /** Keys with a transaction in flight (tests). */
  get size(): number {
    return this.tails.size;
  }
}
