// The contract of rooms and memberships. Every method is scoped by tenant_id: a room id of another
// tenant behaves exactly like an unknown one.
import type { Role, RoomType } from "../chat/types";
import type { Instant, JsonValue } from "./store";

/** A room row. `metadata` is the JSON value given (null when none). */
export interface RoomRow {
  tenant_id: string;
  room_id: string;
  type: RoomType;
  name: string | null;
  metadata: JsonValue;
  /** The escaped, sorted user pair of a dm (chat/rooms.ts dmKey); null for other types. */
  dm_key: string | null;
  /** The highest seq of the room (0 before the first message). */
  last_seq: number;
  /** created_at of the last message, else the room's created_at. */
  last_activity_at: Instant;
  created_by: string;
  created_at: Instant;
  updated_at: Instant;
}

/** A member row. `join_order` increases per room (1, 2, ...): the longest-standing member is the lowest. */
export interface MemberRow {
  user_id: string;
  role: Role;
  joined_at: Instant;
  join_order: number;
  /** The user's read position: the highest seq acknowledged (0 = none). Only ever moves forward. */
  last_ack: number;
}

/** A room of a user's listing, with the sort key as of the listing's snapshot. */
export interface UserRoomRow extends RoomRow {
  my_last_ack: number;
  sort_key: Instant;
}

/**
 * The moment a room listing describes. `id` is a UUIDv7 taken then: ids of rooms and messages are
 * generated inside the write transaction by the same generator (Bun.randomUUIDv7 appends a monotonic
 * counter within a millisecond), so `id` splits "committed before" from "after" exactly, even within
 * one millisecond. `at` is only a fast path: a room whose last activity is older than `at` cannot
 * have changed since (messages are stamped inside the transaction too).
 */
export interface ListingSnapshot {
  at: Instant;
  id: string;
}

/** A room of the connect replay: unread backlog bounds. */
export interface UnackedRoom {
  room_id: string;
  last_seq: number;
  last_ack: number;
}

/** Room and membership reads. */
export interface RoomReads {
  get(tenantId: string, roomId: string): Promise<RoomRow | null>;
  byDmKey(tenantId: string, dmKey: string): Promise<RoomRow | null>;
  member(tenantId: string, roomId: string, userId: string): Promise<MemberRow | null>;
  /** Members by join_order ascending. */
  members(tenantId: string, roomId: string): Promise<MemberRow[]>;
  /**
   * A page of the user's rooms as of `snapshot`: rooms created before snapshot.id, sorted by the
   * activity they had then (sort_key = created_at of their last message with message_id <
   * snapshot.id, else the room's created_at) descending, then room_id descending; strictly after
   * `after` (the last row of the previous page) when given; at most `limit` rows.
   */
  userRooms(tenantId: string, userId: string, snapshot: ListingSnapshot, after: { key: Instant; roomId: string } | null, limit: number): Promise<UserRoomRow[]>;
  /** Room ids the user belongs to (socket subscriptions), in no particular order. */
  userRoomIds(tenantId: string, userId: string): Promise<string[]>;
  /** The user's rooms with their member counts (presence audience), in no particular order. */
  userRoomSizes(tenantId: string, userId: string): Promise<{ room_id: string; member_count: number }[]>;
  /** The user's rooms with last_seq > last_ack, most recent activity first, then room_id descending (connect replay). */
  unackedRooms(tenantId: string, userId: string): Promise<UnackedRoom[]>;
  /** True when the two users share at least one room. */
  shareRoom(tenantId: string, a: string, b: string): Promise<boolean>;
  /** How many of `userIds` (distinct) are members of the room: one statement for a mention list. */
  countMembers(tenantId: string, roomId: string, userIds: string[]): Promise<number>;
  /** The room's change position (rooms.last_change); null when no such room. */
  lastChange(tenantId: string, roomId: string): Promise<number | null>;
  /** The room's last_seq and the member's last_ack now; null when the user is not a member. */
  replayPosition(tenantId: string, roomId: string, userId: string): Promise<{ last_seq: number; last_ack: number } | null>;
  /** Every room of the user with its replay position: unread rooms first, most recent activity first (connect). */
  userRoomPositions(tenantId: string, userId: string): Promise<UnackedRoom[]>;
  /** The room's member count (kept in the same transaction as each membership change). */
  memberCount(tenantId: string, roomId: string): Promise<number>;
}

/**
 * Rooms and memberships inside a transaction.
 * Unique: (tenant_id, room_id); (tenant_id, dm_key) for dms; (tenant_id, room_id, user_id) per member.
 * member_count is kept by the store in the same transaction as each membership change.
 */
export interface RoomStore extends RoomReads {
  /** Inserts a room (no members). A second dm of the same pair throws UniqueViolationError("room_dm_key"). */
  insertRoom(row: RoomRow): Promise<void>;
  /** Replaces name and metadata; false when no such room. */
  update(tenantId: string, roomId: string, name: string | null, metadata: JsonValue, updatedAt: Instant): Promise<boolean>;
  /**
   * Increments last_seq, sets last_activity_at = at, returns the new seq. Takes the room's row lock
   * until the transaction ends (PostgreSQL: UPDATE ... RETURNING), so concurrent sends to one room
   * serialize here and seqs are gapless: a rolled-back transaction gives its seq back.
   * Throws when the room does not exist.
   */
  nextSeq(tenantId: string, roomId: string, at: Instant): Promise<number>;
  /**
   * Reserves `n` change positions of the room (rooms.last_change += n) and returns the last one; the
   * positions are last-n+1..last. Takes the room's row lock like nextSeq, so positions commit in order
   * and a changes-feed read never skips one still uncommitted. Callers take it before locking a
   * message row (one lock order: room, then message).
   */
  nextChange(tenantId: string, roomId: string, n: number): Promise<number>;
  /** Adds a member with the next join_order and last_ack 0; false (no change) when already a member. */
  addMember(tenantId: string, roomId: string, userId: string, role: Role, joinedAt: Instant): Promise<boolean>;
  /** False when the user was not a member. */
  removeMember(tenantId: string, roomId: string, userId: string): Promise<boolean>;
  /** False when the user is not a member. */
  setRole(tenantId: string, roomId: string, userId: string, role: Role): Promise<boolean>;
  /** last_ack = max(last_ack, seq); returns the resulting value, or null when not a member. */
  advanceAck(tenantId: string, roomId: string, userId: string, seq: number): Promise<number | null>;
}
