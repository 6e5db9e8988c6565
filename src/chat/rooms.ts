// Rooms and membership: creation (dm/group/channel), listing, updates, joins, leaves, roles.
import { AppError, conflict, forbidden, invalid, notFound } from "../errors";
import type { MessageStore } from "../storage/message-store";
import type { MemberRow, RoomRow, RoomStore } from "../storage/room-store";
import type { Writer } from "../storage/writer";
import type { Bus } from "./bus";
import type { CachedRoom, RoomCache } from "./room-cache";
import { toMessage, toRoom } from "./mappers";
import type { Actor, Member, Role, Room, RoomSummary, RoomType } from "./types";
import { checkName, checkUserId, jsonText } from "./validate";

export interface RoomServiceDeps {
  rooms: RoomStore;
  messages: MessageStore;
  writer: Writer;
  bus: Bus;
  cache: RoomCache;
  /** MAX_ROOM_MEMBERS: creating a room with more, or adding past it, is a 409. */
  maxMembers?: number;
  now?: () => Date;
}

export interface CreateRoomInput {
  type: RoomType;
  name?: string | null;
  metadata?: unknown;
  members?: string[];
}

const MAX_MEMBERS_PER_CALL = 1000;

/** Escapes one id so that joining two with ":" can never collide (`a:b`+`c` vs `a`+`b:c`). */
export function dmKey(a: string, b: string): string {
  const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
  const [x, y] = a < b ? [a, b] : [b, a];
  return `${esc(x)}:${esc(y)}`;
}

function toMember(m: MemberRow): Member {
  return { user_id: m.user_id, role: m.role, joined_at: m.joined_at, last_ack: m.last_ack };
}

/** s/i: the listing's snapshot (time, UUIDv7); k/r: sort key and room id of the last room returned. */
interface Cursor {
  s: string;
  i: string;
  k: string;
  r: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if (typeof c.s === "string" && typeof c.i === "string" && typeof c.k === "string" && typeof c.r === "string") return c;
  } catch {
    // fall through
  }
  throw invalid("cursor is not valid", [{ path: "/query/cursor", message: "unknown cursor" }]);
}

/** Room and membership operations; REST and WebSocket call these. Events publish after commit. */
export class RoomService {
  private readonly now: () => Date;

  constructor(private readonly d: RoomServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  /** The room if it exists in the actor's tenant (else 404). */
  find(actor: Actor, roomId: string): CachedRoom {
    const room = this.d.cache.get(actor.tenant.id, roomId);
    if (!room) throw notFound("room not found");
    return room;
  }

  /** The room if the actor may read it: member, or any tenant user for a channel. */
  readable(actor: Actor, roomId: string): CachedRoom {
    const room = this.find(actor, roomId);
    if (room.row.type !== "channel" && !room.members.has(actor.userId)) throw forbidden("not a member of this room");
    return room;
  }

  /** The room if the actor is a member (send, ack, typing). */
  memberOf(actor: Actor, roomId: string): CachedRoom {
    const room = this.find(actor, roomId);
    if (!room.members.has(actor.userId)) throw forbidden("not a member of this room");
    return room;
  }

  /** Creates a room with its members in one transaction; an existing DM is returned with created=false. */
  async create(actor: Actor, input: CreateRoomInput): Promise<{ room: Room; created: boolean }> {
    const tenantId = actor.tenant.id;
    const others = (input.members ?? []).map((m, i) => checkUserId(m, `/members/${i}`));
    if (others.length > MAX_MEMBERS_PER_CALL) throw invalid(`at most ${MAX_MEMBERS_PER_CALL} members per request`);
    const all = [...new Set([actor.userId, ...others])];
    const maxMembers = this.d.maxMembers ?? 10_000;
    if (all.length > maxMembers) throw conflict(`a room holds at most ${maxMembers} members (MAX_ROOM_MEMBERS)`);
    const name = input.name === undefined || input.name === null ? null : checkName(input.name, "/name");
    const metadata = jsonText(input.metadata, "/metadata");
    let key: string | null = null;
    if (input.type === "dm") {
      if (all.length !== 2) throw invalid("a dm has exactly 2 distinct users: the caller and one other member", [{ path: "/members", message: "expected exactly one other user" }]);
      key = dmKey(all[0]!, all[1]!);
    } else if (input.type === "group" && all.length < 2) {
      throw invalid("a group needs at least 2 distinct users", [{ path: "/members", message: "expected at least one other user" }]);
    }
    const at = this.now().toISOString();
    const result = await this.d.writer.submit(
      () => {
        if (key) {
          const existing = this.d.rooms.byDmKey(tenantId, key);
          if (existing) return { row: existing, created: false };
        }
        const row: RoomRow = {
          tenant_id: tenantId,
          room_id: Bun.randomUUIDv7(),
          type: input.type,
          name,
          metadata,
          dm_key: key,
          last_seq: 0,
          last_activity_at: at,
          created_by: actor.userId,
          created_at: at,
          updated_at: at,
        };
        this.d.rooms.insertRoom(row);
        for (const u of all) {
          const role: Role = input.type !== "dm" && u === actor.userId ? "owner" : "member";
          this.d.rooms.addMember(tenantId, row.room_id, u, role, at);
        }
        return { row, created: true };
      },
      (r) => {
        if (!r.created) return;
        for (const u of all) this.d.bus.membership(tenantId, r.row.room_id, u, true);
      },
    );
    return { room: toRoom(result.row), created: result.created };
  }

  /** After a send commits: the cached room's last_seq and activity follow (acks validate against it). */
  messageCommitted(tenantId: string, roomId: string, seq: number, at: string): void {
    this.d.cache.update(tenantId, roomId, (c) => void (c.row = { ...c.row, last_seq: seq, last_activity_at: at }));
  }

  get(actor: Actor, roomId: string): Room {
    return toRoom(this.readable(actor, roomId).row);
  }

  /** The actor's rooms, most recent activity first; the cursor pins a snapshot so pages stay stable. */
  list(actor: Actor, opts: { limit?: number; cursor?: string }): { rooms: RoomSummary[]; next_cursor: string | null } {
    const limit = opts.limit ?? 50;
    const tenantId = actor.tenant.id;
    const c = opts.cursor ? decodeCursor(opts.cursor) : null;
    // A millisecond timestamp alone cannot tell a write of the snapshot's millisecond that committed
    // before page 1 from one after it; the UUIDv7 can (see ListingSnapshot).
    const snapshot = c ? { at: c.s, id: c.i } : { at: this.now().toISOString(), id: Bun.randomUUIDv7() };
    const rows = this.d.rooms.userRooms(tenantId, actor.userId, snapshot, c ? { key: c.k, roomId: c.r } : null, limit + 1);
    const page = rows.slice(0, limit);
    const rooms = page.map((r): RoomSummary => {
      const last = r.last_seq > 0 ? this.d.messages.bySeq(tenantId, r.room_id, r.last_seq) : null;
      return {
        ...toRoom(r),
        last_ack: r.my_last_ack,
        unread_count: r.last_seq > r.my_last_ack ? this.d.messages.unreadCount(tenantId, r.room_id, r.my_last_ack, actor.userId) : 0,
        last_message: last ? toMessage(last) : null,
      };
    });
    const tail = page[page.length - 1];
    const next_cursor = rows.length > limit && tail ? encodeCursor({ s: snapshot.at, i: snapshot.id, k: tail.sort_key, r: tail.room_id }) : null;
    return { rooms, next_cursor };
  }

  /** Name and metadata; owner/admin only; emits room.updated. */
  async patch(actor: Actor, roomId: string, input: { name?: string | null; metadata?: unknown }): Promise<Room> {
    const room = this.memberOf(actor, roomId);
    const role = room.members.get(actor.userId);
    if (role !== "owner" && role !== "admin") throw forbidden("only the owner or an admin may update the room");
    const name = input.name === undefined ? room.row.name : input.name === null ? null : checkName(input.name, "/name");
    const metadata = input.metadata === undefined ? room.row.metadata : jsonText(input.metadata, "/metadata");
    const at = this.now().toISOString();
    const tenantId = actor.tenant.id;
    await this.d.writer.submit(
      () => this.d.rooms.update(tenantId, roomId, name, metadata, at),
      () => {
        const row = { ...room.row, name, metadata, updated_at: at };
        this.d.cache.update(tenantId, roomId, (c) => void (c.row = { ...c.row, name, metadata, updated_at: at }));
        room.row = row;
        // Flat frame: the room's own `type` would collide with the frame type, so it travels as `room_type`.
        const { type: roomType, ...fields } = toRoom(room.row);
        this.d.bus.toRoom(tenantId, roomId, { ...fields, type: "room.updated", room_type: roomType });
      },
    );
    return toRoom(room.row);
  }

  members(actor: Actor, roomId: string): Member[] {
    this.readable(actor, roomId);
    return this.d.rooms.members(actor.tenant.id, roomId).map(toMember);
  }

  /** Adds members (owner/admin of a group; self-join of a channel); re-adding is a no-op. Returns all members. */
  async addMembers(actor: Actor, roomId: string, input: { user_ids: string[]; role?: "member" | "admin" }): Promise<Member[]> {
    // Non-members of a group or DM get 403 before anything else (a DM's 409 would reveal its type).
    const room = this.readable(actor, roomId);
    const tenantId = actor.tenant.id;
    if (room.row.type === "dm") throw conflict("dm membership never changes");
    const ids = [...new Set(input.user_ids.map((u, i) => checkUserId(u, `/user_ids/${i}`)))];
    if (ids.length === 0) throw invalid("user_ids must name at least one user", [{ path: "/user_ids", message: "empty" }]);
    if (ids.length > MAX_MEMBERS_PER_CALL) throw invalid(`at most ${MAX_MEMBERS_PER_CALL} user_ids per request`);
    const role = input.role ?? "member";
    const myRole = room.members.get(actor.userId);
    const selfJoin = room.row.type === "channel" && ids.length === 1 && ids[0] === actor.userId && role === "member";
    if (!selfJoin) {
      if (!myRole) throw forbidden("not a member of this room");
      if (myRole !== "owner" && myRole !== "admin") throw forbidden("only the owner or an admin may add members");
      if (role === "admin" && myRole !== "owner") throw forbidden("only the owner may grant admin");
    }
    const at = this.now().toISOString();
    const maxMembers = this.d.maxMembers ?? 10_000;
    await this.d.writer.submit(
      () => {
        const before = this.d.rooms.get(tenantId, roomId)?.member_count ?? 0;
        const added = ids.filter((u) => this.d.rooms.addMember(tenantId, roomId, u, role, at));
        // Inside the transaction: concurrent adds of one batch cannot pass the cap together.
        if (before + added.length > maxMembers) throw conflict(`a room holds at most ${maxMembers} members (MAX_ROOM_MEMBERS)`);
        // A room whose last member left has no owner: the first to join it becomes the owner.
        const owner = before === 0 && added.length > 0 ? added[0]! : null;
        if (owner) this.d.rooms.setRole(tenantId, roomId, owner, "owner");
        return added.map((u) => ({ u, role: u === owner ? ("owner" as const) : role }));
      },
      (newOnes) => {
        for (const { u, role: r } of newOnes) {
          this.d.cache.update(tenantId, roomId, (c) => void c.members.set(u, r));
          this.d.bus.membership(tenantId, roomId, u, true);
          this.d.bus.toRoom(tenantId, roomId, { type: "member.joined", room_id: roomId, user_id: u, role: r });
        }
      },
    );
    return this.d.rooms.members(tenantId, roomId).map(toMember);
  }

  /** Leave (self) or remove (owner/admin); the last owner leaving hands ownership on. */
  async removeMember(actor: Actor, roomId: string, userId: string): Promise<void> {
    const room = this.readable(actor, roomId);
    const tenantId = actor.tenant.id;
    if (room.row.type === "dm") throw conflict("dm membership never changes");
    const myRole = room.members.get(actor.userId);
    const targetRole = room.members.get(userId);
    if (userId !== actor.userId) {
      if (!myRole) throw forbidden("not a member of this room");
      if (myRole !== "owner" && myRole !== "admin") throw forbidden("only the owner or an admin may remove members");
      if (myRole === "admin" && targetRole && targetRole !== "member") throw forbidden("an admin may remove members only");
    }
    if (!targetRole) throw notFound("not a member of this room");
    await this.d.writer.submit(
      () => {
        this.d.rooms.removeMember(tenantId, roomId, userId);
        if (targetRole !== "owner") return null;
        const rest = this.d.rooms.members(tenantId, roomId);
        if (rest.some((m) => m.role === "owner")) return null;
        const next = rest.find((m) => m.role === "admin") ?? rest[0];
        if (!next) return null;
        this.d.rooms.setRole(tenantId, roomId, next.user_id, "owner");
        return next.user_id;
      },
      (next) => {
        // The leaver hears member.left on the room topic before its sockets unsubscribe.
        this.d.bus.toRoom(tenantId, roomId, { type: "member.left", room_id: roomId, user_id: userId, role: targetRole });
        this.d.cache.update(tenantId, roomId, (c) => void c.members.delete(userId));
        this.d.bus.membership(tenantId, roomId, userId, false);
        if (next) this.d.cache.update(tenantId, roomId, (c) => void c.members.set(next, "owner"));
      },
    );
  }

  /** Changes a member's role (owner only; the owner's own role is changed by leaving). */
  async setRole(actor: Actor, roomId: string, userId: string, role: "member" | "admin"): Promise<Member> {
    const room = this.readable(actor, roomId);
    const tenantId = actor.tenant.id;
    const myRole = room.members.get(actor.userId);
    if (!myRole) throw forbidden("not a member of this room");
    if (room.row.type === "dm") throw conflict("dm membership never changes");
    if (myRole !== "owner") throw forbidden("only the owner may change roles");
    const target = room.members.get(userId);
    if (!target) throw notFound("not a member of this room");
    if (target === "owner") throw conflict("the owner's role changes only when the owner leaves");
    await this.d.writer.submit(
      () => this.d.rooms.setRole(tenantId, roomId, userId, role),
      () => this.d.cache.update(tenantId, roomId, (c) => void c.members.set(userId, role)),
    );
    const m = this.d.rooms.member(tenantId, roomId, userId);
    if (!m) throw new AppError("not_found", "not a member of this room");
    return toMember(m);
  }
}
