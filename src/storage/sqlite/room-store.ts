// Rooms and memberships on bun:sqlite. Every statement is scoped by tenant_id.
import type { Database, Statement } from "bun:sqlite";
import type { Role } from "../../chat/types";
import type { ListingSnapshot, MemberRow, RoomRow, RoomStore, UnackedRoom, UserRoomRow } from "../room-store";
import type { Sync } from "./facade";
import { fromJsonColumn, toJsonColumn } from "./json";

/** Method names of RoomStore. */
export const ROOM_METHODS = [
  "get", "byDmKey", "member", "members", "userRooms", "userRoomIds", "userRoomSizes", "unackedRooms", "shareRoom", "lastChange", "countMembers", "replayPosition", "userRoomPositions", "memberCount",
  "insertRoom", "update", "nextSeq", "nextChange", "addMember", "removeMember", "setRole", "advanceAck",
] as const;

function room<T extends RoomRow>(r: (Omit<T, "metadata"> & { metadata: string | null }) | null): T | null {
  if (!r) return null;
  (r as { metadata: unknown }).metadata = fromJsonColumn(r.metadata);
  return r as unknown as T;
}

/** RoomStore on bun:sqlite; statements prepared once. */
export class SqliteRoomStore implements Sync<RoomStore> {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const cols = "tenant_id, room_id, type, name, metadata, dm_key, last_seq, last_activity_at, created_by, created_at, updated_at";
    const rcols = cols.split(", ").map((c) => `r.${c}`).join(", ");
    this.q = {
      insertRoom: db.query(
        `INSERT INTO rooms (tenant_id, room_id, type, name, metadata, dm_key, last_seq, last_activity_at, created_by, created_at, updated_at)
         VALUES ($tenant_id, $room_id, $type, $name, $metadata, $dm_key, $last_seq, $last_activity_at, $created_by, $created_at, $updated_at)`,
      ),
      get: db.query(`SELECT ${cols} FROM rooms WHERE tenant_id = ? AND room_id = ?`),
      byDmKey: db.query(`SELECT ${cols} FROM rooms WHERE tenant_id = ? AND dm_key = ?`),
      nextChange: db.query("UPDATE rooms SET last_change = last_change + ? WHERE tenant_id = ? AND room_id = ? RETURNING last_change"),
      countMembers: db.query(
        "SELECT count(*) AS n FROM room_members WHERE tenant_id = ? AND room_id = ? AND user_id IN (SELECT value FROM json_each(?))",
      ),
      lastChange: db.query("SELECT last_change FROM rooms WHERE tenant_id = ? AND room_id = ?"),
      update: db.query("UPDATE rooms SET name = ?, metadata = ?, updated_at = ? WHERE tenant_id = ? AND room_id = ?"),
      nextSeq: db.query("UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = ? WHERE tenant_id = ? AND room_id = ? RETURNING last_seq"),
      addMember: db.query(
        `INSERT INTO room_members (tenant_id, room_id, user_id, role, joined_at, join_order, last_ack)
         SELECT ?1, ?2, ?3, ?4, ?5, COALESCE((SELECT max(join_order) FROM room_members WHERE tenant_id = ?1 AND room_id = ?2), 0) + 1, 0
         ON CONFLICT DO NOTHING`,
      ),
      member: db.query("SELECT user_id, role, joined_at, join_order, last_ack FROM room_members WHERE tenant_id = ? AND room_id = ? AND user_id = ?"),
      members: db.query("SELECT user_id, role, joined_at, join_order, last_ack FROM room_members WHERE tenant_id = ? AND room_id = ? ORDER BY join_order"),
      removeMember: db.query("DELETE FROM room_members WHERE tenant_id = ? AND room_id = ? AND user_id = ?"),
      setRole: db.query("UPDATE room_members SET role = ? WHERE tenant_id = ? AND room_id = ? AND user_id = ?"),
      advanceAck: db.query(
        "UPDATE room_members SET last_ack = max(last_ack, ?) WHERE tenant_id = ? AND room_id = ? AND user_id = ? RETURNING last_ack",
      ),
      userRooms: db.query(
        `SELECT * FROM (
           SELECT ${rcols}, m.last_ack AS my_last_ack,
             CASE WHEN r.last_activity_at < $snap_at THEN r.last_activity_at
                  ELSE COALESCE((SELECT x.created_at FROM messages x
                                 WHERE x.tenant_id = r.tenant_id AND x.room_id = r.room_id AND x.message_id < $snap_id
                                 ORDER BY x.seq DESC LIMIT 1), r.created_at) END AS sort_key
           FROM room_members m INDEXED BY room_members_by_user
           CROSS JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
           WHERE m.tenant_id = $tenant AND m.user_id = $user AND r.room_id < $snap_id
         )
         WHERE $after_key IS NULL OR sort_key < $after_key OR (sort_key = $after_key AND room_id < $after_id)
         ORDER BY sort_key DESC, room_id DESC LIMIT $limit`,
      ),
      userRoomIds: db.query("SELECT room_id FROM room_members WHERE tenant_id = ? AND user_id = ?"),
      userRoomSizes: db.query(
        `SELECT r.room_id, r.member_count FROM room_members m INDEXED BY room_members_by_user
         CROSS JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
         WHERE m.tenant_id = ? AND m.user_id = ?`,
      ),
      // Join order and index pinned (CROSS JOIN, INDEXED BY): without statistics SQLite picked
      // plans that scan every membership of the tenant, which made each WebSocket connect O(tenant).
      unackedRooms: db.query(
        `SELECT r.room_id, r.last_seq, m.last_ack FROM room_members m INDEXED BY room_members_by_user
         CROSS JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
         WHERE m.tenant_id = ? AND m.user_id = ? AND r.last_seq > m.last_ack
         ORDER BY r.last_activity_at DESC, r.room_id DESC`,
      ),
      replayPosition: db.query(
        `SELECT r.last_seq, m.last_ack FROM room_members m CROSS JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
         WHERE m.tenant_id = ? AND m.room_id = ? AND m.user_id = ?`,
      ),
      userRoomPositions: db.query(
        `SELECT r.room_id, r.last_seq, m.last_ack FROM room_members m INDEXED BY room_members_by_user
         CROSS JOIN rooms r ON r.tenant_id = m.tenant_id AND r.room_id = m.room_id
         WHERE m.tenant_id = ? AND m.user_id = ?
         ORDER BY r.last_seq > m.last_ack DESC, r.last_activity_at DESC, r.room_id DESC`,
      ),
      memberCount: db.query("SELECT member_count FROM rooms WHERE tenant_id = ? AND room_id = ?"),
      shareRoom: db.query(
        `SELECT 1 FROM room_members a INDEXED BY room_members_by_user CROSS JOIN room_members b ON b.tenant_id = a.tenant_id AND b.room_id = a.room_id
         WHERE a.tenant_id = ? AND a.user_id = ? AND b.user_id = ? LIMIT 1`,
      ),
    };
  }

  insertRoom(row: RoomRow): void {
    this.q.insertRoom!.run({ ...row, metadata: toJsonColumn(row.metadata) });
  }
  get(tenantId: string, roomId: string): RoomRow | null {
    return room(this.q.get!.get(tenantId, roomId));
  }
  byDmKey(tenantId: string, dmKey: string): RoomRow | null {
    return room(this.q.byDmKey!.get(tenantId, dmKey));
  }
  update(tenantId: string, roomId: string, name: string | null, metadata: unknown, updatedAt: string): boolean {
    return this.q.update!.run(name, toJsonColumn(metadata), updatedAt, tenantId, roomId).changes > 0;
  }
  nextSeq(tenantId: string, roomId: string, at: string): number {
    const r = this.q.nextSeq!.get(at, tenantId, roomId) as { last_seq: number } | null;
    if (!r) throw new Error("room vanished during send");
    return r.last_seq;
  }
  addMember(tenantId: string, roomId: string, userId: string, role: Role, joinedAt: string): boolean {
    return this.q.addMember!.run(tenantId, roomId, userId, role, joinedAt).changes > 0;
  }
  member(tenantId: string, roomId: string, userId: string): MemberRow | null {
    return this.q.member!.get(tenantId, roomId, userId);
  }
  members(tenantId: string, roomId: string): MemberRow[] {
    return this.q.members!.all(tenantId, roomId);
  }
  removeMember(tenantId: string, roomId: string, userId: string): boolean {
    return this.q.removeMember!.run(tenantId, roomId, userId).changes > 0;
  }
  setRole(tenantId: string, roomId: string, userId: string, role: Role): boolean {
    return this.q.setRole!.run(role, tenantId, roomId, userId).changes > 0;
  }
  advanceAck(tenantId: string, roomId: string, userId: string, seq: number): number | null {
    const r = this.q.advanceAck!.get(seq, tenantId, roomId, userId) as { last_ack: number } | null;
    return r ? r.last_ack : null;
  }
  userRooms(tenantId: string, userId: string, snapshot: ListingSnapshot, after: { key: string; roomId: string } | null, limit: number): UserRoomRow[] {
    const rows = this.q.userRooms!.all({ tenant: tenantId, user: userId, snap_at: snapshot.at, snap_id: snapshot.id, after_key: after?.key ?? null, after_id: after?.roomId ?? null, limit });
    return rows.map((r: any) => room<UserRoomRow>(r)!);
  }
  userRoomIds(tenantId: string, userId: string): string[] {
    return (this.q.userRoomIds!.all(tenantId, userId) as { room_id: string }[]).map((r) => r.room_id);
  }
  userRoomSizes(tenantId: string, userId: string): { room_id: string; member_count: number }[] {
    return this.q.userRoomSizes!.all(tenantId, userId);
  }
  unackedRooms(tenantId: string, userId: string): UnackedRoom[] {
    return this.q.unackedRooms!.all(tenantId, userId);
  }
  replayPosition(tenantId: string, roomId: string, userId: string): { last_seq: number; last_ack: number } | null {
    return this.q.replayPosition!.get(tenantId, roomId, userId);
  }
  userRoomPositions(tenantId: string, userId: string): UnackedRoom[] {
    return this.q.userRoomPositions!.all(tenantId, userId);
  }
  memberCount(tenantId: string, roomId: string): number {
    return (this.q.memberCount!.get(tenantId, roomId) as { member_count: number } | null)?.member_count ?? 0;
  }
  shareRoom(tenantId: string, a: string, b: string): boolean {
    return this.q.shareRoom!.get(tenantId, a, b) !== null;
  }
  nextChange(tenantId: string, roomId: string, n: number): number {
    const r = this.q.nextChange!.get(n, tenantId, roomId) as { last_change: number } | null;
    if (!r) throw new Error("room vanished during a change");
    return r.last_change;
  }
  lastChange(tenantId: string, roomId: string): number | null {
    const r = this.q.lastChange!.get(tenantId, roomId) as { last_change: number } | null;
    return r ? r.last_change : null;
  }
  countMembers(tenantId: string, roomId: string, userIds: string[]): number {
    if (userIds.length === 0) return 0;
    return (this.q.countMembers!.get(tenantId, roomId, JSON.stringify(userIds)) as { n: number }).n;
  }
}
