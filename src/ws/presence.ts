// Presence: online at a user's first socket, offline after a grace period once the last closes.
// Frames go only to users who share a room with the subject.

/** One user's presence as GET /presence reports it. */
export interface PresenceView {
  user_id: string;
  status: "online" | "offline";
  last_seen: string | null;
}

interface Entry {
  online: boolean;
  lastSeenMs: number | null;
  offlineTimer: ReturnType<typeof setTimeout> | null;
}

export interface PresenceDeps {
  graceMs: number;
  /** Users who share a room with `userId` (the audience of its presence frames). */
  roommates(tenantId: string, userId: string): string[];
  /** Sends one frame to each user's sockets. */
  toUsers(tenantId: string, userIds: string[], frame: Record<string, unknown> & { type: string }): void;
  now?: () => number;
}

/** Tracks presence per tenant+user in memory (last_seen is lost on restart: reported as null). */
export class PresenceTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly d: PresenceDeps) {
    this.now = d.now ?? (() => Date.now());
  }

  private key(tenantId: string, userId: string): string {
    return `${tenantId}\u0000${userId}`;
  }

  /** The user's first socket opened (or one opened during the grace period: no new frame). */
  connected(tenantId: string, userId: string): void {
    const k = this.key(tenantId, userId);
    const e = this.entries.get(k);
    if (e?.offlineTimer) {
      clearTimeout(e.offlineTimer);
      e.offlineTimer = null;
      return;
    }
    if (e?.online) return;
    const entry: Entry = { online: true, lastSeenMs: this.now(), offlineTimer: null };
    this.entries.set(k, entry);
    this.publish(tenantId, userId, "online", entry.lastSeenMs!);
  }

  /** The user's last socket closed: offline after the grace period unless one reopens. */
  disconnected(tenantId: string, userId: string): void {
    const k = this.key(tenantId, userId);
    const e = this.entries.get(k);
    if (this.stopped || !e || !e.online) return;
    e.lastSeenMs = this.now();
    if (e.offlineTimer) clearTimeout(e.offlineTimer);
    e.offlineTimer = setTimeout(() => {
      e.offlineTimer = null;
      e.online = false;
      this.publish(tenantId, userId, "offline", e.lastSeenMs!);
    }, this.d.graceMs);
    e.offlineTimer.unref?.();
  }

  /** Status and last_seen (now while online). */
  view(tenantId: string, userId: string): PresenceView {
    const e = this.entries.get(this.key(tenantId, userId));
    if (e?.online) return { user_id: userId, status: "online", last_seen: new Date(this.now()).toISOString() };
    return { user_id: userId, status: "offline", last_seen: e?.lastSeenMs ? new Date(e.lastSeenMs).toISOString() : null };
  }

  /** Cancels timers (shutdown). */
  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) if (e.offlineTimer) clearTimeout(e.offlineTimer);
  }

  private publish(tenantId: string, userId: string, status: "online" | "offline", atMs: number): void {
    const audience = this.d.roommates(tenantId, userId);
    if (audience.length === 0) return;
    this.d.toUsers(tenantId, audience, { type: "presence.update", user_id: userId, status, last_seen: new Date(atMs).toISOString() });
  }
}
