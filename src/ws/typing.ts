// Typing indicators: never stored; a start without a stop expires after TYPING_TIMEOUT.

export interface TypingDeps {
  timeoutMs: number;
  /** Publishes to the room's members other than the typist. */
  toOthers(tenantId: string, roomId: string, typist: string, frame: Record<string, unknown> & { type: string }): void;
}

/** Tracks who is typing where; emits start once and stop on stop, expiry or disconnect. */
export class TypingTracker {
  private readonly active = new Map<string, { tenantId: string; roomId: string; userId: string; timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly d: TypingDeps) {}

  private key(tenantId: string, roomId: string, userId: string): string {
    return `${tenantId}\u0000${roomId}\u0000${userId}`;
  }

  start(tenantId: string, roomId: string, userId: string): void {
    const k = this.key(tenantId, roomId, userId);
    const cur = this.active.get(k);
    if (cur) clearTimeout(cur.timer);
    const timer = setTimeout(() => this.stop(tenantId, roomId, userId), this.d.timeoutMs);
    timer.unref?.();
    this.active.set(k, { tenantId, roomId, userId, timer });
    // A refresh of an ongoing start only extends the timer: others already show the indicator.
    if (!cur) this.d.toOthers(tenantId, roomId, userId, { type: "typing", room_id: roomId, user_id: userId, action: "start" });
  }

  stop(tenantId: string, roomId: string, userId: string): void {
    const k = this.key(tenantId, roomId, userId);
    const cur = this.active.get(k);
    if (!cur) return;
    clearTimeout(cur.timer);
    this.active.delete(k);
    this.d.toOthers(tenantId, roomId, userId, { type: "typing", room_id: roomId, user_id: userId, action: "stop" });
  }

  /** The user's last socket closed: stop every indicator they had. */
  userGone(tenantId: string, userId: string): void {
    for (const e of [...this.active.values()]) if (e.tenantId === tenantId && e.userId === userId) this.stop(e.tenantId, e.roomId, e.userId);
  }

  stopAll(): void {
    for (const e of this.active.values()) clearTimeout(e.timer);
    this.active.clear();
  }
}
