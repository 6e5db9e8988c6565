// Rooms and memberships on PostgreSQL. Every statement is scoped by tenant_id.
// Lock order: a transaction that changes a room's membership locks the room row first, like a send
// (nextSeq) does, so the two never deadlock, and join_order/member_count are computed under the lock.
import type { Role } from "../../chat/types";
import type { ListingSnapshot, MemberRow, RoomRow, RoomStore, UnackedRoom, UserRoomRow } from "../room-store";
import { instant, jsonParam, roomKey, type Conn } from "./conn";

/** A room row as the domain sees it. */
export function roomRow(r: any): RoomRow {
  return {
    tenant_id: r.tenant_id,
    room_id: r.room_id,
    type: r.type,
    name: r.name,
    metadata: r.metadata ?? null,
    dm_key: r.dm_key,
    last_seq: r.last_seq,
    last_activity_at: instant(r.last_activity_at),
    created_by: r.created_by,
    created_at: instant(r.created_at),
    updated_at: instant(r.updated_at),
  };
}

function memberRow(r: any): MemberRow {
  return { user_id: r.user_id, role: r.role, joined_at: instant(r.joined_at), join_order: r.join_order, last_ack: r.last_ack };
}

/** RoomStore on Bun.SQL. */
export class PgRoomStore implements RoomStore {
  constructor(private readonly c: Conn) {}

  async insertRoom(r: RoomRow): Promise<void> {
    await this.c.q`INSERT INTO rooms (tenant_id, room_id, type, name, metadata, dm_key, last_seq, last_activity_at, created_by, created_at, updated_at)
      VALUES (${r.tenant_id}, ${r.room_id}, ${r.type}, ${r.name}, ${jsonParam(r.metadata)}::text::json, ${r.dm_key}, ${r.last_seq},
        ${r.last_activity_at}::timestamptz, ${r.created_by}, ${r.created_at}::timestamptz, ${r.updated_at}::timestamptz)`;
    this.c.locked(roomKey(r.tenant_id, r.room_id));
  }
  async get(tenantId: string, roomId: string): Promise<RoomRow | null> {
    // In a transaction the row is locked (a patch re-reads it, then writes it: see Conn.inTx), taking
    // the room lock that sends and membership changes take first too.
    if (this.c.inTx) {
      const [r] = await this.c.q`SELECT * FROM rooms WHERE tenant_id = ${tenantId} AND room_id = ${roomId} FOR NO KEY UPDATE`;
      if (r) this.c.locked(roomKey(tenantId, roomId));
      return r ? roomRow(r) : null;
    }
    const [r] = await this.c.q`SELECT * FROM rooms WHERE tenant_id = ${tenantId} AND room_id = ${roomId}`;
    return r ? roomRow(r) : null;
  }
  async byDmKey(tenantId: string, dmKey: string): Promise<RoomRow | null> {
    const [r] = await this.c.q`SELECT * FROM rooms WHERE tenant_id = ${tenantId} AND dm_key = ${dmKey}`;
    return r ? roomRow(r) : null;
  }
  async update(tenantId: string, roomId: string, name: string | null, metadata: unknown, updatedAt: string): Promise<boolean> {
    const r = await this.c.q`UPDATE rooms SET name = ${name}, metadata = ${jsonParam(metadata)}::text::json, updated_at = ${updatedAt}::timestamptz
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId}`;
    if (r.count > 0) this.c.locked(roomKey(tenantId, roomId));
    return r.count > 0;
  }
  async nextSeq(tenantId: string, roomId: string, at: string): Promise<number> {
    // The row lock taken here is held to the end of the transaction: the next sender of this room
    // blocks on it, then reads the committed last_seq (READ COMMITTED re-checks the updated row).
    const [r] = await this.c.q`UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = ${at}::timestamptz
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} RETURNING last_seq`;
    if (!r) throw new Error("room vanished during send");
    this.c.locked(roomKey(tenantId, roomId));
    return r.last_seq;
  }
  /** Locks the room row (FOR NO KEY UPDATE) before a membership change; false when there is no such room. */
  private async lockRoom(tenantId: string, roomId: string): Promise<boolean> {
    const rows = await this.c.q`SELECT 1 FROM rooms WHERE tenant_id = ${tenantId} AND room_id = ${roomId} FOR NO KEY UPDATE`;
    if (rows.length === 0) return false;
    this.c.locked(roomKey(tenantId, roomId));
    return true;
  }
  async addMember(tenantId: string, roomId: string, userId: string, role: Role, joinedAt: string): Promise<boolean> {
    if (!(await this.lockRoom(tenantId, roomId))) throw new Error("addMember: no such room");
    const r = await this.c.q`WITH ins AS (
        INSERT INTO room_members (tenant_id, room_id, user_id, role, joined_at, join_order, last_ack)
        SELECT ${tenantId}, ${roomId}, ${userId}, ${role}, ${joinedAt}::timestamptz,
          COALESCE((SELECT max(join_order) FROM room_members WHERE tenant_id = ${tenantId} AND room_id = ${roomId}), 0) + 1, 0
        ON CONFLICT DO NOTHING RETURNING 1)
      UPDATE rooms SET member_count = member_count + 1
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND EXISTS (SELECT 1 FROM ins) RETURNING 1`;
    return r.length > 0;
  }
  async removeMember(tenantId: string, roomId: string, userId: string): Promise<boolean> {
    if (!(await this.lockRoom(tenantId, roomId))) return false;
    const r = await this.c.q`WITH del AS (
        DELETE FROM room_members WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND user_id = ${userId} RETURNING 1)
      UPDATE rooms SET member_count = member_count - 1
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND EXISTS (SELECT 1 FROM del) RETURNING 1`;
    return r.length > 0;
  }
  async setRole(tenantId: string, roomId: string, userId: string, role: Role): Promise<boolean> {
    if (!(await this.lockRoom(tenantId, roomId))) return false;
    const r = await this.c.q`UPDATE room_members SET role = ${role} WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND user_id = ${userId}`;
    return r.count > 0;
  }
  async advanceAck(tenantId: string, roomId: string, userId: string, seq: number): Promise<number | null> {
    const [r] = await this.c.q`UPDATE room_members SET last_ack = GREATEST(last_ack, ${seq}::int)
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND user_id = ${userId} RETURNING last_ack`;
    return r ? r.last_ack : null;
  }
  async member(tenantId: string, roomId: string, userId: string): Promise<MemberRow | null> {
    const [r] = await this.c.q`SELECT user_id, role, joined_at, join_order, last_ack FROM room_members
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND user_id = ${userId}`;
    return r ? memberRow(r) : null;
  }
  async members(tenantId: string, roomId: string): Promise<MemberRow[]> {
    const rows = await this.c.q`SELECT user_id, role, joined_at, join_order, last_ack FROM room_members
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} ORDER BY join_order`;
    return rows.map(memberRow);
  }
  async userRooms(tenantId: string, userId: string, snapshot: ListingSnapshot, after: { key: string; roomId: string } | null, limit: number): Promise<UserRoomRow[]> {
    // sort_key: the activity a room had at the snapshot. A room untouched since the snapshot's time
    // keeps last_activity_at (fast path); others look up their last message committed before it.
    const rows = await this.c.q`SELECT * FROM (
        SELECT r.*, m.last_ack AS my_last_ack,
          CASE WHEN r.last_activity_at < ${snapshot.at}::timestamptz THEN r.last_activity_at
               ELSE COALESCE((SELECT x.created_at FROM messages x
                              WHERE x.tenant_id = r.tenant_id AND x.room_id = r.room_id AND x.message_id < ${snapshot.id}
                              ORDER BY x.seq DESC LIMIT 1), r.created_at) END AS sort_key
        FROM room_members m JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
        WHERE m.tenant_id = ${tenantId} AND m.user_id = ${userId} AND r.room_id < ${snapshot.id}
      ) s
      WHERE ${after?.key ?? null}::timestamptz IS NULL OR sort_key < ${after?.key ?? null}::timestamptz
        OR (sort_key = ${after?.key ?? null}::timestamptz AND room_id < ${after?.roomId ?? null}::text)
      ORDER BY sort_key DESC, room_id DESC LIMIT ${limit}`;
    return rows.map((r: any) => ({ ...roomRow(r), my_last_ack: r.my_last_ack, sort_key: instant(r.sort_key) }));
  }
  async userRoomIds(tenantId: string, userId: string): Promise<string[]> {
    const rows = await this.c.q`SELECT room_id FROM room_members WHERE tenant_id = ${tenantId} AND user_id = ${userId}`;
    return rows.map((r: any) => r.room_id);
  }
  async userRoomSizes(tenantId: string, userId: string): Promise<{ room_id: string; member_count: number }[]> {
    const rows = await this.c.q`SELECT r.room_id, r.member_count FROM room_members m
      JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
      WHERE m.tenant_id = ${tenantId} AND m.user_id = ${userId}`;
    return rows.map((r: any) => ({ room_id: r.room_id, member_count: r.member_count }));
  }
  async unackedRooms(tenantId: string, userId: string): Promise<UnackedRoom[]> {
    const rows = await this.c.q`SELECT r.room_id, r.last_seq, m.last_ack FROM room_members m
      JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
      WHERE m.tenant_id = ${tenantId} AND m.user_id = ${userId} AND r.last_seq > m.last_ack
      ORDER BY r.last_activity_at DESC, r.room_id DESC`;
    return rows.map((r: any) => ({ room_id: r.room_id, last_seq: r.last_seq, last_ack: r.last_ack }));
  }
  async replayPosition(tenantId: string, roomId: string, userId: string): Promise<{ last_seq: number; last_ack: number } | null> {
    const [r] = await this.c.q`SELECT r.last_seq, m.last_ack FROM room_members m
      JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
      WHERE m.tenant_id = ${tenantId} AND m.room_id = ${roomId} AND m.user_id = ${userId}`;
    return r ? { last_seq: r.last_seq, last_ack: r.last_ack } : null;
  }
  async userRoomPositions(tenantId: string, userId: string): Promise<UnackedRoom[]> {
    const rows = await this.c.q`SELECT r.room_id, r.last_seq, m.last_ack FROM room_members m
      JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
      WHERE m.tenant_id = ${tenantId} AND m.user_id = ${userId}
      ORDER BY (r.last_seq > m.last_ack) DESC, r.last_activity_at DESC, r.room_id DESC`;
    return rows.map((r: any) => ({ room_id: r.room_id, last_seq: r.last_seq, last_ack: r.last_ack }));
  }
  async memberCount(tenantId: string, roomId: string): Promise<number> {
    const [r] = await this.c.q`SELECT member_count FROM rooms WHERE tenant_id = ${tenantId} AND room_id = ${roomId}`;
    return r ? r.member_count : 0;
  }
  async shareRoom(tenantId: string, a: string, b: string): Promise<boolean> {
    const rows = await this.c.q`SELECT 1 FROM room_members x
      JOIN room_members y ON y.tenant_id = x.tenant_id AND y.room_id = x.room_id AND y.user_id = ${b}
      WHERE x.tenant_id = ${tenantId} AND x.user_id = ${a} LIMIT 1`;
    return rows.length > 0;
  }
  async nextChange(tenantId: string, roomId: string, n: number): Promise<number> {
    // Same row lock as nextSeq: change positions of one room commit in the order they were taken.
    const [r] = await this.c.q`UPDATE rooms SET last_change = last_change + ${n}
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} RETURNING last_change`;
    if (!r) throw new Error("room vanished during a change");
    this.c.locked(roomKey(tenantId, roomId));
    return Number(r.last_change);
  }
  async lastChange(tenantId: string, roomId: string): Promise<number | null> {
    const [r] = await this.c.q`SELECT last_change FROM rooms WHERE tenant_id = ${tenantId} AND room_id = ${roomId}`;
    return r ? Number(r.last_change) : null;
  }
  async countMembers(tenantId: string, roomId: string, userIds: string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const [r] = await this.c.q`SELECT count(*)::int AS n FROM room_members WHERE tenant_id = ${tenantId} AND room_id = ${roomId}
      AND user_id IN (SELECT json_array_elements_text(${JSON.stringify(userIds)}::text::json))`;
    return r.n;
  }
}
