// Rooms and membership: creation (dm/group/channel), listing, updates, joins, leaves, roles.
import { AppError, conflict, forbidden, invalid, notFound } from "../errors";
import { UniqueViolationError } from "../storage/errors";
import type { MemberRow, RoomRow } from "../storage/room-store";
import type { Store } from "../storage/store";
import type { Bus } from "../bus/bus";
import type { CachedRoom, RoomCache } from "./room-cache";
import type { AttachmentUrls } from "../blobs/url-signer";
import { toMessage, toRoom } from "./mappers";
import type { Actor, Member, Role, Room, RoomSummary, RoomType } from "./types";
import { checkJson, checkName, checkUserId } from "./validate";

export interface RoomServiceDeps {
  store: Store;
  bus: Bus;
  cache: RoomCache;
  /** Signs the attachment urls of `last_message`. */
  urls?: AttachmentUrls;
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

  /** The cached room, or null when it is not cached (no read): for paths that must not wait. */
  cached(tenantId: string, roomId: string): CachedRoom | null {
    return this.d.cache.peek(tenantId, roomId);
  }

  /** The room's member ids (empty when there is no such room), loading the room when not cached. */
  async loadMembers(tenantId: string, roomId: string): Promise<string[]> {
    const room = await this.d.cache.get(tenantId, roomId);
    return room ? [...room.members.keys()] : [];
  }

  /** The room if it exists in the actor's tenant (else 404). Synchronous on a cache hit (the hot path). */
  find(actor: Actor, roomId: string): CachedRoom | Promise<CachedRoom> {
    const hit = this.d.cache.peek(actor.tenant.id, roomId);
    if (hit) return hit;
    return this.d.cache.get(actor.tenant.id, roomId).then((room) => {
      if (!room) throw notFound("room not found");
      return room;
    });
  }

  /** The room if the actor may read it: member, or any tenant user for a channel. */
  readable(actor: Actor, roomId: string): CachedRoom | Promise<CachedRoom> {
    const check = (room: CachedRoom) => {
      if (room.row.type !== "channel" && !room.members.has(actor.userId)) throw forbidden("not a member of this room");
      return room;
    };
    const r = this.find(actor, roomId);
    return r instanceof Promise ? r.then(check) : check(r);
  }

  /** The room if the actor is a member (send, ack, typing). */
  memberOf(actor: Actor, roomId: string): CachedRoom | Promise<CachedRoom> {
    const check = (room: CachedRoom) => {
      if (!room.members.has(actor.userId)) throw forbidden("not a member of this room");
      return room;
    };
    const r = this.find(actor, roomId);
    return r instanceof Promise ? r.then(check) : check(r);
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
    const metadata = checkJson(input.metadata, "/metadata");
    let key: string | null = null;
    if (input.type === "dm") {
      if (all.length !== 2) throw invalid("a dm has exactly 2 distinct users: the caller and one other member", [{ path: "/members", message: "expected exactly one other user" }]);
      key = dmKey(all[0]!, all[1]!);
    } else if (input.type === "group" && all.length < 2) {
      throw invalid("a group needs at least 2 distinct users", [{ path: "/members", message: "expected at least one other user" }]);
    }
    const at = this.now().toISOString();
    const create = () => this.d.store.transaction(async (tx) => {
        if (key) {
          const existing = await tx.rooms.byDmKey(tenantId, key);
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
        await tx.rooms.insertRoom(row);
        for (const u of all) {
          const role: Role = input.type !== "dm" && u === actor.userId ? "owner" : "member";
          await tx.rooms.addMember(tenantId, row.room_id, u, role, at);
        }
        tx.afterCommit(() => {
          for (const u of all) this.d.bus.membership(tenantId, row.room_id, u, true, { lastSeq: 0 });
        });
        return { row, created: true };
      });
    let result: { row: RoomRow; created: boolean };
    try {
      result = await create();
    } catch (err) {
      // Two creations of one dm raced past byDmKey: the constraint picked the winner; return it.
      if (!(err instanceof UniqueViolationError && err.constraint === "room_dm_key" && key)) throw err;
      const existing = await this.d.store.rooms.byDmKey(tenantId, key);
      if (!existing) throw err;
      result = { row: existing, created: false };
    }
    return { room: toRoom(result.row), created: result.created };
  }

  /** After a send commits: the cached room's last_seq and activity follow (acks validate against it). */
  messageCommitted(tenantId: string, roomId: string, seq: number, at: string): void {
    // Not announced: other nodes' entries age out (a send is too frequent to invalidate them all).
    this.d.cache.update(tenantId, roomId, (c) => void (c.row = { ...c.row, last_seq: seq, last_activity_at: at }), false);
  }

  async get(actor: Actor, roomId: string): Promise<Room> {
    const room = await this.readable(actor, roomId);
    // last_seq moves with every send on any node (other nodes do not announce sends): read it fresh.
    return toRoom((await this.d.store.rooms.get(actor.tenant.id, roomId)) ?? room.row);
  }

  /** The actor's rooms, most recent activity first; the cursor pins a snapshot so pages stay stable. */
  async list(actor: Actor, opts: { limit?: number; cursor?: string }): Promise<{ rooms: RoomSummary[]; next_cursor: string | null }> {
    const limit = opts.limit ?? 50;
    const tenantId = actor.tenant.id;
    const c = opts.cursor ? decodeCursor(opts.cursor) : null;
    // A millisecond timestamp alone cannot tell a write of the snapshot's millisecond that committed
    // before page 1 from one after it; the UUIDv7 can (see ListingSnapshot).
    const snapshot = c ? { at: c.s, id: c.i } : { at: this.now().toISOString(), id: Bun.randomUUIDv7() };
    const rows = await this.d.store.rooms.userRooms(tenantId, actor.userId, snapshot, c ? { key: c.k, roomId: c.r } : null, limit + 1);
    const page = rows.slice(0, limit);
    const messages = this.d.store.messages;
    // One statement for the page's unread mentions (an index range count per room, never the unread messages).
    const unread = page.filter((r) => r.last_seq > r.my_last_ack).map((r) => ({ room_id: r.room_id, after_seq: r.my_last_ack }));
    const mentions = await messages.unreadMentionsIn(tenantId, actor.userId, unread);
    const rooms = await Promise.all(
      page.map(async (r): Promise<RoomSummary> => {
        const last = r.last_seq > 0 ? await messages.bySeq(tenantId, r.room_id, r.last_seq) : null;
        return {
          ...toRoom(r),
          last_ack: r.my_last_ack,
          unread_count: r.last_seq > r.my_last_ack ? await messages.unreadCount(tenantId, r.room_id, r.my_last_ack, actor.userId) : 0,
          unread_mentions: mentions.get(r.room_id) ?? 0,
          last_message: last ? toMessage(last, this.d.urls) : null,
        };
      }),
    );
    const tail = page[page.length - 1];
    const next_cursor = rows.length > limit && tail ? encodeCursor({ s: snapshot.at, i: snapshot.id, k: tail.sort_key, r: tail.room_id }) : null;
    return { rooms, next_cursor };
  }

  /** Name and metadata; owner/admin only; emits room.updated. */
  async patch(actor: Actor, roomId: string, input: { name?: string | null; metadata?: unknown }): Promise<Room> {
    const room = await this.memberOf(actor, roomId);
    const role = room.members.get(actor.userId);
    if (role !== "owner" && role !== "admin") throw forbidden("only the owner or an admin may update the room");
    const name = input.name === undefined ? undefined : input.name === null ? null : checkName(input.name, "/name");
    const metadata = input.metadata === undefined ? undefined : checkJson(input.metadata, "/metadata");
    const at = this.now().toISOString();
    const tenantId = actor.tenant.id;
    return this.d.store.transaction(async (tx) => {
      // Re-read inside the transaction: a concurrent patch of the other field must not be undone.
      const current = await tx.rooms.get(tenantId, roomId);
      if (!current) throw notFound("room not found");
      const row: RoomRow = { ...current, name: name === undefined ? current.name : name, metadata: metadata === undefined ? current.metadata : metadata, updated_at: at };
      await tx.rooms.update(tenantId, roomId, row.name, row.metadata, at);
      tx.afterCommit(() => {
        this.d.cache.update(tenantId, roomId, (c) => void (c.row = { ...c.row, name: row.name, metadata: row.metadata, updated_at: at }));
        // Flat frame: the room's own `type` would collide with the frame type, so it travels as `room_type`.
        const { type: roomType, ...fields } = toRoom(row);
        this.d.bus.toRoom(tenantId, roomId, { ...fields, type: "room.updated", room_type: roomType });
      });
      return toRoom(row);
    });
  }

  async members(actor: Actor, roomId: string): Promise<Member[]> {
    await this.readable(actor, roomId);
    return (await this.d.store.rooms.members(actor.tenant.id, roomId)).map(toMember);
  }

  /** Adds members (owner/admin of a group; self-join of a channel); re-adding is a no-op. Returns all members. */
  async addMembers(actor: Actor, roomId: string, input: { user_ids: string[]; role?: "member" | "admin" }): Promise<Member[]> {
    // Non-members of a group or DM get 403 before anything else (a DM's 409 would reveal its type).
    const room = await this.readable(actor, roomId);
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
    return this.d.store.transaction(async (tx) => {
      const before = await tx.rooms.memberCount(tenantId, roomId);
      const added: string[] = [];
      for (const u of ids) if (await tx.rooms.addMember(tenantId, roomId, u, role, at)) added.push(u);
      // Inside the transaction: concurrent adds cannot pass the cap together.
      if (before + added.length > maxMembers) throw conflict(`a room holds at most ${maxMembers} members (MAX_ROOM_MEMBERS)`);
      // A room whose last member left has no owner: the first to join it becomes the owner.
      const owner = before === 0 && added.length > 0 ? added[0]! : null;
      if (owner) await tx.rooms.setRole(tenantId, roomId, owner, "owner");
      const newOnes = added.map((u) => ({ u, role: u === owner ? ("owner" as const) : role }));
      // The room row is locked by addMember: messages committed after this join have a higher seq.
      const lastSeq = newOnes.length ? ((await tx.rooms.get(tenantId, roomId))?.last_seq ?? 0) : 0;
      tx.afterCommit(() => {
        for (const { u, role: r } of newOnes) {
          this.d.cache.update(tenantId, roomId, (c) => void c.members.set(u, r));
          const joinedFrame = { type: "member.joined", room_id: roomId, user_id: u, role: r };
          this.d.bus.membership(tenantId, roomId, u, true, { lastSeq, frame: joinedFrame });
          this.d.bus.toRoom(tenantId, roomId, joinedFrame);
        }
      });
      return (await tx.rooms.members(tenantId, roomId)).map(toMember);
    });
  }

  /** Leave (self) or remove (owner/admin); the last owner leaving hands ownership on. */
  async removeMember(actor: Actor, roomId: string, userId: string): Promise<void> {
    const room = await this.readable(actor, roomId);
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
    await this.d.store.transaction(async (tx) => {
      await tx.rooms.removeMember(tenantId, roomId, userId);
      let next: string | null = null;
      if (targetRole === "owner") {
        const rest = await tx.rooms.members(tenantId, roomId);
        const heir = rest.some((m) => m.role === "owner") ? undefined : (rest.find((m) => m.role === "admin") ?? rest[0]);
        if (heir) {
          await tx.rooms.setRole(tenantId, roomId, heir.user_id, "owner");
          next = heir.user_id;
        }
      }
      tx.afterCommit(() => {
        // The leaver hears member.left on the room topic before its sockets unsubscribe.
        this.d.bus.toRoom(tenantId, roomId, { type: "member.left", room_id: roomId, user_id: userId, role: targetRole });
        this.d.cache.update(tenantId, roomId, (c) => void c.members.delete(userId));
        this.d.bus.membership(tenantId, roomId, userId, false);
        if (next) this.d.cache.update(tenantId, roomId, (c) => void c.members.set(next, "owner"));
      });
    });
  }

  /** Changes a member's role (owner only; the owner's own role is changed by leaving). */
  async setRole(actor: Actor, roomId: string, userId: string, role: "member" | "admin"): Promise<Member> {
    const room = await this.readable(actor, roomId);
    const tenantId = actor.tenant.id;
    const myRole = room.members.get(actor.userId);
    if (!myRole) throw forbidden("not a member of this room");
    if (room.row.type === "dm") throw conflict("dm membership never changes");
    if (myRole !== "owner") throw forbidden("only the owner may change roles");
    const target = room.members.get(userId);
    if (!target) throw notFound("not a member of this room");
    if (target === "owner") throw conflict("the owner's role changes only when the owner leaves");
    return this.d.store.transaction(async (tx) => {
      await tx.rooms.setRole(tenantId, roomId, userId, role);
      const m = await tx.rooms.member(tenantId, roomId, userId);
      if (!m) throw new AppError("not_found", "not a member of this room");
      tx.afterCommit(() => this.d.cache.update(tenantId, roomId, (c) => void c.members.set(userId, role)));
      return toMember(m);
    });
  }
}
