// Typing state of a pane: who else is typing where (from `typing` frames), and the pane user's own
// start/stop frames driven by the composer.

// A `start` whose `stop` got lost is dropped after the server's TYPING_TIMEOUT (8 s) plus slack.
const FALLBACK_MS = 10_000;
// Re-announce a continuing `start` before the server's timeout; send `stop` after a pause.
const RESTART_MS = 5000;
const IDLE_MS = 3000;

/** Other members typing, per room. */
export class TypingBoard {
  private readonly rooms = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  constructor(private readonly changed: () => void) {}

  start(roomId: string, userId: string): void {
    const users = this.rooms.get(roomId) ?? new Map<string, ReturnType<typeof setTimeout>>();
    clearTimeout(users.get(userId));
    users.set(userId, setTimeout(() => this.stop(roomId, userId), FALLBACK_MS));
    this.rooms.set(roomId, users);
    this.changed();
  }

  stop(roomId: string, userId: string): void {
    const users = this.rooms.get(roomId);
    if (!users?.has(userId)) return;
    clearTimeout(users.get(userId));
    users.delete(userId);
    this.changed();
  }

  users(roomId: string | null): string[] {
    return roomId === null ? [] : [...(this.rooms.get(roomId)?.keys() ?? [])];
  }

  dispose(): void {
    for (const users of this.rooms.values()) for (const t of users.values()) clearTimeout(t);
    this.rooms.clear();
  }
}

/** The pane user's own typing: `start` on the first keystroke (again every few seconds), `stop` after a pause or on send. */
export class OwnTyping {
  private current: { roomId: string; startedMs: number; idle: ReturnType<typeof setTimeout> | undefined } | null = null;

  constructor(private readonly send: { start(roomId: string): void; stop(roomId: string): void }) {}

  /** The composer of `roomId` changed; `empty` when it holds only whitespace. */
  input(roomId: string, empty: boolean): void {
    if (empty) return this.stop();
    const now = Date.now();
    if (this.current?.roomId !== roomId) {
      this.stop();
      this.current = { roomId, startedMs: now, idle: undefined };
      this.send.start(roomId);
    } else if (now - this.current.startedMs > RESTART_MS) {
      this.current.startedMs = now;
      this.send.start(roomId);
    }
    clearTimeout(this.current.idle);
    this.current.idle = setTimeout(() => this.stop(), IDLE_MS);
  }

  stop(): void {
    const c = this.current;
    if (!c) return;
    this.current = null;
    clearTimeout(c.idle);
    this.send.stop(c.roomId);
  }
}
