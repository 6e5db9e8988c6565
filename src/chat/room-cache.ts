// In-memory view of rooms and their member sets, kept in step with commits by the domain services.
import type { Role } from "./types";
import type { RoomRow, RoomStore } from "../storage/sqlite/room-store";

/** A cached room: its row (updated after each commit) and members by user id. */
export interface CachedRoom {
  row: RoomRow;
  members: Map<string, Role>;
}

/** Bounded cache of rooms; misses load from the store. Only the domain services mutate it, after commit. */
export class RoomCache {
  private readonly map = new Map<string, CachedRoom>();

  constructor(
    private readonly store: RoomStore,
    private readonly maxRooms = 20_000,
  ) {}

  private key(tenantId: string, roomId: string): string {
    return `${tenantId}\u0000${roomId}`;
  }

  /** The room of this tenant, or null (another tenant's room is null too). */
  get(tenantId: string, roomId: string): CachedRoom | null {
    const k = this.key(tenantId, roomId);
    const hit = this.map.get(k);
    if (hit) return hit;
    const row = this.store.get(tenantId, roomId);
    if (!row) return null;
    const members = new Map<string, Role>();
    for (const m of this.store.members(tenantId, roomId)) members.set(m.user_id, m.role);
    const entry = { row, members };
    if (this.map.size >= this.maxRooms) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(k, entry);
    return entry;
  }

  /**
   * Applies a committed change to the cached entry, if there is one. Commit callbacks use this rather
   * than an entry captured before the write: that one may have been evicted and reloaded meanwhile.
   */
  update(tenantId: string, roomId: string, apply: (room: CachedRoom) => void): void {
    const hit = this.map.get(this.key(tenantId, roomId));
    if (hit) apply(hit);
  }

  /** Drops a room so the next read reloads it (after a change the cache cannot mirror). */
  invalidate(tenantId: string, roomId: string): void {
    this.map.delete(this.key(tenantId, roomId));
  }

  /** Drops everything (e.g. after a failed batch commit). */
  clear(): void {
    this.map.clear();
  }
}
