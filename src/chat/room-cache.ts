// In-memory view of rooms and their member sets, kept in step with commits by the domain services.
import type { RoomReads, RoomRow } from "../storage/room-store";
import type { Role } from "./types";

/** A cached room: its row (updated after each commit) and members by user id. */
export interface CachedRoom {
  row: RoomRow;
  members: Map<string, Role>;
}

interface Load {
  promise: Promise<CachedRoom | null>;
  /** A commit touched this room while the load was reading: its result must not be cached. */
  stale: boolean;
}

/** Bounded cache of rooms; misses load from the store. Only the domain services mutate it, after commit. */
export class RoomCache {
  private readonly map = new Map<string, CachedRoom>();
  private readonly loads = new Map<string, Load>();
  private readonly loadedAt = new Map<string, number>();

  /**
   * `announce`: tells the other nodes a room changed (cluster mode), so they drop their copy.
   * `maxAgeMs`: entries older than this reload (cluster mode: other nodes' sends move last_seq).
   */
  constructor(
    private readonly store: RoomReads,
    private readonly maxRooms = 20_000,
    private readonly o: { announce?: (tenantId: string, roomId: string) => void; maxAgeMs?: number } = {},
  ) {}

  private key(tenantId: string, roomId: string): string {
    return `${tenantId}\u0000${roomId}`;
  }

  /** The cached room, or null when not loaded (no read). */
  peek(tenantId: string, roomId: string): CachedRoom | null {
    return this.map.get(this.key(tenantId, roomId)) ?? null;
  }

  /**
   * The room of this tenant, or null (another tenant's room is null too). Concurrent misses of one
   * room share one load; a load that a commit overtook returns what it read but does not cache it.
   */
  get(tenantId: string, roomId: string): Promise<CachedRoom | null> {
    const k = this.key(tenantId, roomId);
    const hit = this.map.get(k);
    if (hit && (this.o.maxAgeMs === undefined || performance.now() - (this.loadedAt.get(k) ?? 0) < this.o.maxAgeMs)) return Promise.resolve(hit);
    const running = this.loads.get(k);
    if (running) return running.promise;
    const load: Load = { promise: null as never, stale: false };
    load.promise = this.load(tenantId, roomId).then(
      (entry) => {
        if (this.loads.get(k) === load) this.loads.delete(k);
        if (entry && !load.stale) this.put(k, entry);
        return entry;
      },
      (err) => {
        if (this.loads.get(k) === load) this.loads.delete(k);
        throw err;
      },
    );
    this.loads.set(k, load);
    return load.promise;
  }

  private async load(tenantId: string, roomId: string): Promise<CachedRoom | null> {
    const [row, members] = await Promise.all([this.store.get(tenantId, roomId), this.store.members(tenantId, roomId)]);
    if (!row) return null;
    const map = new Map<string, Role>();
    for (const m of members) map.set(m.user_id, m.role);
    return { row, members: map };
  }

  private put(k: string, entry: CachedRoom): void {
    if (this.map.size >= this.maxRooms) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) {
        this.map.delete(oldest);
        this.loadedAt.delete(oldest);
      }
    }
    this.map.set(k, entry);
    if (this.o.maxAgeMs !== undefined) this.loadedAt.set(k, performance.now());
  }

  /**
   * Applies a committed change to the cached entry, if there is one. Commit callbacks use this rather
   * than an entry captured before the write: that one may have been evicted and reloaded meanwhile.
   */
  update(tenantId: string, roomId: string, apply: (room: CachedRoom) => void, announce = true): void {
    const k = this.key(tenantId, roomId);
    if (announce) this.o.announce?.(tenantId, roomId);
    const load = this.loads.get(k);
    if (load) load.stale = true;
    const hit = this.map.get(k);
    if (hit) apply(hit);
  }

  /** Drops a room so the next read reloads it (after a change the cache cannot mirror). */
  invalidate(tenantId: string, roomId: string, announce = true): void {
    const k = this.key(tenantId, roomId);
    if (announce) this.o.announce?.(tenantId, roomId);
    const load = this.loads.get(k);
    if (load) load.stale = true;
    this.map.delete(k);
  }

  /** Drops everything (e.g. after a failed batch commit). */
  clear(): void {
    for (const l of this.loads.values()) l.stale = true;
    this.map.clear();
  }
}
