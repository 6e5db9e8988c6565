// A pane's knowledge of its user's rooms: GET /rooms merged with live frames (unread counts without
// double counting), members (DM names, receipts) and presence of the people in them.
import type { Message, RoomSummary } from "@chatapi/client";
import { mergeSummary, type RoomEntry } from "./rooms.ts";

export type Presence = "online" | "offline";

export interface RoomDirectoryDeps {
  me: string;
  /** A REST call as the pane's user. */
  rest<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Members' last_ack of a room just loaded (receipts of the open room). */
  onMembers(roomId: string, acks: Map<string, number>): void;
  /** Member ids seen (offered as more panes). */
  onUsersSeen(userIds: string[]): void;
  /** Something shown changed (rooms, unread counts, names, presence). */
  changed(): void;
}

/** Rooms, members and presence of one user. */
export class RoomDirectory {
  readonly rooms = new Map<string, RoomEntry>();
  readonly presence = new Map<string, Presence>();

  constructor(private readonly d: RoomDirectoryDeps) {}

  /** Reloads the room list (REST is authoritative up to each room's last_seq), then members and presence. */
  async refresh(): Promise<void> {
    const r = await this.d.rest<{ rooms: RoomSummary[] }>("GET", "/rooms?limit=200");
    const seen = new Set<string>();
    for (const s of r.rooms) {
      seen.add(s.room_id);
      this.rooms.set(s.room_id, mergeSummary(this.rooms.get(s.room_id), s));
    }
    for (const id of [...this.rooms.keys()]) if (!seen.has(id)) this.rooms.delete(id);
    this.d.changed();
    await this.loadAllMembers();
  }

  /**
   * A live message: updates the room's last message and, when `countUnread`, its unread count.
   * Returns false for a room not in the list yet (the caller refreshes).
   */
  noteMessage(m: Message, countUnread: boolean): boolean {
    const e = this.rooms.get(m.room_id);
    if (!e) return false;
    if (m.seq > e.lastSeq) {
      e.lastSeq = m.seq;
      e.lastMessage = m;
      e.activityAt = m.created_at;
      if (countUnread && m.sender_id !== this.d.me && m.deleted_at === null) {
        e.unread++;
        e.countedLive.add(m.seq);
      }
    }
    this.d.changed();
    return true;
  }

  /** An edit or delete; returns true when the unread count may now be off (the caller refreshes). */
  noteChange(m: Message): boolean {
    const e = this.rooms.get(m.room_id);
    if (!e) return false;
    if (e.lastMessage?.message_id === m.message_id) e.lastMessage = m;
    let stale = false;
    if (m.deleted_at !== null && e.countedLive.delete(m.seq)) e.unread = Math.max(0, e.unread - 1);
    else if (m.deleted_at !== null && e.unread > 0) stale = true;
    this.d.changed();
    return stale;
  }

  /** The user has read `roomId` (up to `seq` when given: only if that covers the newest message). */
  markRead(roomId: string, seq = Number.POSITIVE_INFINITY): void {
    const e = this.rooms.get(roomId);
    if (!e || e.unread === 0 || seq < e.lastSeq) return;
    e.unread = 0;
    e.countedLive.clear();
    this.d.changed();
  }

  /** The server's unread count after an ack. */
  setUnread(roomId: string, unread: number): void {
    const e = this.rooms.get(roomId);
    if (!e || e.unread === unread) return;
    e.unread = unread;
    e.countedLive.clear();
    this.d.changed();
  }

  rename(roomId: string, name: string | null): void {
    const e = this.rooms.get(roomId);
    if (e) e.name = name;
    this.d.changed();
  }

  /** Forgets a room's members (someone joined or left); loaded again on demand. */
  invalidateMembers(roomId: string): void {
    const e = this.rooms.get(roomId);
    if (e) e.members = null;
  }

  setPresence(userId: string, status: Presence): void {
    this.presence.set(userId, status);
    this.d.changed();
  }

  /** GET /rooms/{id}/members: member ids, their last_ack (to onMembers), presence of new faces. */
  async loadMembers(roomId: string): Promise<void> {
    const r = await this.d.rest<{ members: { user_id: string; last_ack: number }[] }>("GET", `/rooms/${encodeURIComponent(roomId)}/members`);
    const ids = r.members.map((m) => m.user_id);
    const e = this.rooms.get(roomId);
    if (e) e.members = ids;
    this.d.onUsersSeen(ids);
    this.d.onMembers(roomId, new Map(r.members.map((m) => [m.user_id, m.last_ack])));
    const unknown = ids.filter((u) => u !== this.d.me && !this.presence.has(u));
    if (unknown.length) await this.loadPresence(unknown);
    this.d.changed();
  }

  // Members of every listed room, a few requests at a time, then everyone's presence.
  private async loadAllMembers(): Promise<void> {
    const todo = [...this.rooms.values()].filter((e) => e.members === null).map((e) => e.room_id);
    const worker = async () => {
      for (let id = todo.shift(); id !== undefined; id = todo.shift()) await this.loadMembers(id).catch(() => {});
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await this.loadPresence();
  }

  private async loadPresence(ids?: string[]): Promise<void> {
    const all = ids ?? [...new Set([...this.rooms.values()].flatMap((e) => e.members ?? []))].filter((u) => u !== this.d.me);
    if (all.length === 0) return;
    // GET /presence answers for users sharing a room with the caller; 200 ids per request at most.
    const r = await this.d.rest<{ presence: { user_id: string; status: Presence }[] }>("GET", `/presence?user_ids=${encodeURIComponent(all.slice(0, 200).join(","))}`);
    for (const p of r.presence) this.presence.set(p.user_id, p.status);
    this.d.changed();
  }
}
