// Live sockets by tenant+user: connection limits, "online", and membership changes on open sockets.
import type { ServerWebSocket } from "bun";

/** What each socket carries (set at upgrade). */
export interface SocketData {
  tenantId: string;
  userId: string;
  /** tenantId + NUL + userId */
  key: string;
  connectionId: string;
  requestId: string;
  /** Seen a pong or frame since the last heartbeat. */
  alive: boolean;
  /** Closed at open for exceeding the per-user limit: no presence, no replay. */
  rejected: boolean;
  /** The handling of this socket's last frame: the next one starts after it (frames are handled in arrival order). */
  inbox?: Promise<void>;
  /** Broker topics this socket holds a reference on (the gateway's per-node subscriptions). */
  busTopics?: Set<string>;
  /** Registered in the cluster's connection set (cluster mode): removed again on close. */
  leased?: boolean;
  /** The signed user token (JWT) that opened this socket: re-verified when the tenant's keys change. */
  jwt?: string;
  /** That token's `exp` (unix ms): the socket is closed with 4001 by exp + leeway. */
  jwtExpMs?: number;
  jwtTimer?: ReturnType<typeof setTimeout>;
  /** Set once `close` ran: background work for this socket (replay) stops. */
  closed?: boolean;
  /** Called by the `drain` handler (a replay waiting for the peer to read). */
  onDrain?: () => void;
}

export type Socket = ServerWebSocket<SocketData>;

/** The sockets of this process, by tenant+user. */
export class ConnectionRegistry {
  private readonly byUser = new Map<string, Set<Socket>>();
  private readonly byTenant = new Map<string, number>();
  private total = 0;

  static key(tenantId: string, userId: string): string {
    return `${tenantId}\u0000${userId}`;
  }

  /** Adds a socket; returns how many the user now has. */
  add(ws: Socket): number {
    let set = this.byUser.get(ws.data.key);
    if (!set) {
      set = new Set();
      this.byUser.set(ws.data.key, set);
    }
    set.add(ws);
    this.total++;
    this.byTenant.set(ws.data.tenantId, (this.byTenant.get(ws.data.tenantId) ?? 0) + 1);
    return set.size;
  }

  /** Removes a socket; returns how many the user still has. */
  remove(ws: Socket): number {
    const set = this.byUser.get(ws.data.key);
    if (!set || !set.delete(ws)) return set?.size ?? 0;
    this.total--;
    const n = (this.byTenant.get(ws.data.tenantId) ?? 1) - 1;
    if (n <= 0) this.byTenant.delete(ws.data.tenantId);
    else this.byTenant.set(ws.data.tenantId, n);
    if (set.size === 0) this.byUser.delete(ws.data.key);
    return set.size;
  }

  /** Open sockets of one tenant on this node. */
  tenantCount(tenantId: string): number {
    return this.byTenant.get(tenantId) ?? 0;
  }

  count(tenantId: string, userId: string): number {
    return this.byUser.get(ConnectionRegistry.key(tenantId, userId))?.size ?? 0;
  }

  isOnline(tenantId: string, userId: string): boolean {
    return this.byUser.has(ConnectionRegistry.key(tenantId, userId));
  }

  sockets(tenantId: string, userId: string): Iterable<Socket> {
    return this.byUser.get(ConnectionRegistry.key(tenantId, userId)) ?? [];
  }

  *all(): Iterable<Socket> {
    for (const set of this.byUser.values()) yield* set;
  }

  get size(): number {
    return this.total;
  }
}
