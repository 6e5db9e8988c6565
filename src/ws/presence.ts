// Presence: online at a user's first socket, offline after a grace period once the last closes.
// Frames go only to users who share a room with the subject: one publish per room topic of the
// subject (rooms over PRESENCE_ROOM_LIMIT members are skipped), never one per roommate, so a
// connect costs O(rooms) publishes rather than O(roommates). A user sharing several rooms with the
// subject may get the same update once per shared room (same status and last_seen).

import type { Broker } from "../bus/bus";
import type { StepScheduler } from "../fairness/step-scheduler";
import type { Logger } from "../log";
import type { RoomReads } from "../storage/room-store";
import { roomTopic } from "./topics";

// Presence publishes per step before yielding (a user in thousands of rooms).
const PUBLISHES_PER_STEP = 200;

/**
 * Publishes a presence frame to the subject's rooms small enough to carry presence (through the
 * broker): one publish per room, a step of rooms at a time, taking turns with other tenants'
 * background work (`steps`) so a user in thousands of rooms never holds the server.
 */
export function presenceToRooms(d: { roomStore: RoomReads; broker: Broker; config: { presenceRoomLimit: number }; log: Logger; steps?: StepScheduler }) {
  return async (t: string, u: string, frame: Record<string, unknown> & { type: string }): Promise<void> => {
    const json = JSON.stringify(frame);
    // member_count comes with the room list (kept by the store): no member set is loaded here.
    let rooms: { room_id: string; member_count: number }[];
    try {
      rooms = await d.roomStore.userRoomSizes(t, u);
    } catch (err) {
      d.log.warn({ tenant_id: t, err: String(err) }, "presence: reading the user's rooms failed");
      return;
    }
    let n = 0;
    let t0 = performance.now();
    for (const r of rooms) {
      if (r.member_count > d.config.presenceRoomLimit) continue;
      d.broker.publishFrame(roomTopic(t, r.room_id), json);
      if (++n % PUBLISHES_PER_STEP === 0 && d.steps) {
        d.steps.charge(performance.now() - t0);
        await d.steps.turn(t);
        t0 = performance.now();
      }
    }
    d.steps?.charge(performance.now() - t0);
  };
}

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
  /** Publishes the frame to the user's rooms that are small enough to carry presence. */
  toUserRooms(tenantId: string, userId: string, frame: Record<string, unknown> & { type: string }): void | Promise<void>;
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
  connected(tenantId: string, userId: string): void | Promise<void> {
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
    return this.publish(tenantId, userId, "online", entry.lastSeenMs!);
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
      void this.publish(tenantId, userId, "offline", e.lastSeenMs!);
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

  private publish(tenantId: string, userId: string, status: "online" | "offline", atMs: number): void | Promise<void> {
    return this.d.toUserRooms(tenantId, userId, { type: "presence.update", user_id: userId, status, last_seen: new Date(atMs).toISOString() });
  }
}
