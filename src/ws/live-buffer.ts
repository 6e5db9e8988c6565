// Live frames held back from sockets whose connect replay is still running. A socket subscribes to a
// room's topic only once that room is replayed (`release`), and to its user topic when the whole
// replay is done (`flush`): until then, what the gateway publishes for its tenant is recorded here
// (with membership changes, in order) and sent afterwards, so no live frame of a room overtakes that
// room's replay and none published meanwhile is lost.
import type { Frame } from "../bus/bus";
import { sendText } from "./send";
import { roomTopic } from "./topics";
import type { Socket } from "./registry";

type Entry = { kind: "frame"; topic: string; json: string; frame: Frame | null } | { kind: "membership"; roomId: string; joined: boolean };

/** One socket's held frames. */
export interface PendingSocket {
  readonly ws: Socket;
  entries: Entry[];
  /** Topics already subscribed during the replay: their frames are no longer held. */
  readonly released: Set<string>;
  closed: boolean;
}

/** What the replay covered, so held frames it already delivered are not sent twice. */
export interface ReplayCoverage {
  /** Per room: the highest seq the replay sent (or reported in a sync.gap). */
  upToSeq: Map<string, number>;
  /** Notifications the replay sent. */
  notificationIds: Set<string>;
}

/** The pending sockets of this process, by tenant. */
export class LiveBuffer {
  private readonly byTenant = new Map<string, Set<PendingSocket>>();

  /** Starts holding frames for `ws` (call in `open`, before anything is read for the replay). */
  begin(ws: Socket): PendingSocket {
    const p: PendingSocket = { ws, entries: [], released: new Set(), closed: false };
    let set = this.byTenant.get(ws.data.tenantId);
    if (!set) this.byTenant.set(ws.data.tenantId, (set = new Set()));
    set.add(p);
    return p;
  }

  /** Stops holding (replay done, or the socket closed). */
  end(p: PendingSocket): void {
    const set = this.byTenant.get(p.ws.data.tenantId);
    if (!set) return;
    set.delete(p);
    if (set.size === 0) this.byTenant.delete(p.ws.data.tenantId);
  }

  /** True while a socket of the tenant is replaying (only then must a delivered frame be parsed). */
  holds(tenantId: string): boolean {
    return this.byTenant.has(tenantId);
  }

  /** Records a publish for the tenant's pending sockets (filtered by topic when they flush). */
  frame(tenantId: string, topic: string, json: string, frame: Frame | null): void {
    const set = this.byTenant.get(tenantId);
    if (!set) return;
    for (const p of set) {
      // A socket is never told about its own user's presence (as before: presence went out before subscribing).
      // Nor about its own typing (typing goes to the other members).
      if (frame && (frame.type === "presence.update" || frame.type === "typing") && frame.user_id === p.ws.data.userId) continue;
      if (p.released.has(topic)) continue;
      p.entries.push({ kind: "frame", topic, json, frame });
    }
  }

  /** Records a membership change of one user for that user's pending sockets. */
  membership(tenantId: string, userId: string, roomId: string, joined: boolean): void {
    const set = this.byTenant.get(tenantId);
    if (!set) return;
    for (const p of set) if (p.ws.data.userId === userId) p.entries.push({ kind: "membership", roomId, joined });
  }

  /**
   * One room is replayed up to `upToSeq`: sends its held frames past that (in publish order) and
   * subscribes its topic, in one synchronous step. Its membership entries stay for `flush`.
   */
  static release(p: PendingSocket, topic: string, upToSeq: number): void {
    const rest: Entry[] = [];
    for (const e of p.entries) {
      if (e.kind !== "frame" || e.topic !== topic) {
        rest.push(e);
        continue;
      }
      const f = e.frame;
      if (f && f.type === "message" && typeof f.seq === "number" && f.seq <= upToSeq) continue;
      sendText(p.ws, e.json);
    }
    p.entries = rest;
    p.released.add(topic);
    p.ws.subscribe(topic);
  }

  /**
   * Sends the held frames the socket's topics cover, in publish order, skipping what the replay
   * already sent, and returns the topics to subscribe to. Synchronous: nothing can be published
   * between this and the subscribe that follows it.
   */
  static flush(p: PendingSocket, topics: Set<string>, covered: ReplayCoverage): Set<string> {
    const { tenantId } = p.ws.data;
    for (const e of p.entries) {
      if (e.kind === "membership") {
        const t = roomTopic(tenantId, e.roomId);
        // Released topics follow membership changes directly (the gateway applies them).
        if (p.released.has(t)) continue;
        if (e.joined) topics.add(t);
        else topics.delete(t);
        continue;
      }
      if (!topics.has(e.topic) || p.released.has(e.topic)) continue;
      const f = e.frame;
      if (f && f.type === "message" && typeof f.seq === "number" && f.seq <= (covered.upToSeq.get(f.room_id as string) ?? 0)) continue;
      if (f && f.type === "notification" && covered.notificationIds.has(f.notification_id as string)) continue;
      sendText(p.ws, e.json);
    }
    p.entries.length = 0;
    return topics;
  }
}
