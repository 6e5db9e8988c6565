// Liveness of one socket: a deadline for the `connected` frame, then pings when idle and a verdict
// when the peer stays silent. Browsers cannot see WebSocket-level pings, so this uses `ping` frames.

/** What the watcher calls: send a `ping` frame; give up on the socket. */
export interface LivenessHooks {
  ping: () => void;
  dead: (reason: "connect timeout" | "heartbeat timeout") => void;
}

/** Timer state of the current socket; `stop()` before switching sockets. */
export class Liveness {
  private stopTimer: (() => void) | undefined;
  private lastReceivedAt = 0;

  constructor(private readonly hooks: LivenessHooks) {}

  /** Arms the deadline for `connected` (0 disables). */
  awaitOpen(timeoutMs: number): void {
    this.stop();
    if (!(timeoutMs > 0)) return;
    const timer = setTimeout(() => this.hooks.dead("connect timeout"), timeoutMs);
    this.stopTimer = () => clearTimeout(timer);
  }

  /** Records that a frame arrived. */
  touch(): void {
    this.lastReceivedAt = Date.now();
  }

  /** After `connected`: ping after `intervalMs` of silence, give up after twice that (0 disables). */
  watch(intervalMs: number): void {
    this.stop();
    if (!(intervalMs > 0)) return;
    this.touch();
    const timer = setInterval(() => {
      const idleMs = Date.now() - this.lastReceivedAt;
      if (idleMs >= 2 * intervalMs) this.hooks.dead("heartbeat timeout");
      else if (idleMs >= intervalMs) this.hooks.ping();
    }, intervalMs / 2);
    this.stopTimer = () => clearInterval(timer);
  }

  /** Cancels every timer. */
  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }
}
