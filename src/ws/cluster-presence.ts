// Presence and the per-user socket cap over all nodes (cluster mode). Each socket is a lease in Redis
// (redis-state.ts) refreshed every heartbeat; the first socket since offline announces `online`, the
// last one closing starts the grace period on its node, after which one script decides `offline` once.
// Every node keeps a mirror of who is online (for webhook decisions, which must not wait on Redis
// inside a transaction), fed by the presence control events and by its own sockets.
import type { Broker } from "../bus/bus";
import type { RedisState } from "../bus/redis-state";
import type { Logger } from "../log";
import type { PresenceView } from "./presence";
import type { Socket } from "./registry";

export interface ClusterPresenceDeps {
  state: RedisState;
  broker: Broker;
  nodeId: string;
  graceMs: number;
  leaseMs: number;
  log: Logger;
  /** Publishes a presence.update to the user's small rooms (through the broker). */
  toUserRooms(tenantId: string, userId: string, frame: Record<string, unknown> & { type: string }): Promise<void>;
}

const key = (t: string, u: string) => `${t}\u0000${u}`;

/** Socket leases last this long unless their node refreshes them (the gateway does every 5 s). */
export const LEASE_MS = 15_000;

/** Cluster-wide presence for one node. */
export class ClusterPresence {
  private readonly mirror = new Set<string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(private readonly d: ClusterPresenceDeps) {}

  private member(ws: Socket): string {
    return `${this.d.nodeId}|${ws.data.connectionId}`;
  }

  /**
   * Registers the socket: "ok", or which cap refused it ("user": the user already has `max` sockets on
   * all nodes together; "tenant": the tenant has `tenantMax`).
   */
  async open(ws: Socket, max: number, tenantMax?: number): Promise<"ok" | "user" | "tenant"> {
    const { tenantId: t, userId: u } = ws.data;
    const r = await this.d.state.connect(t, u, this.member(ws), max, this.d.leaseMs, tenantMax);
    if (!r.ok) return r.refused ?? "user";
    const k = key(t, u);
    const timer = this.timers.get(k);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(k);
    }
    this.mirror.add(k);
    if (r.announce) {
      this.d.broker.publishControl({ kind: "presence", tenantId: t, userId: u, online: true });
      await this.d.toUserRooms(t, u, { type: "presence.update", user_id: u, status: "online", last_seen: new Date().toISOString() });
    }
    return "ok";
  }

  /** The tenant's sockets on all nodes (the handshake's cap check; the open checks again atomically). */
  tenantCount(tenantId: string): Promise<number> {
    return this.d.state.tenantCount(tenantId);
  }

  /** The socket closed: its lease goes; the user's last socket anywhere starts the grace period. */
  close(ws: Socket): void {
    const { tenantId: t, userId: u } = ws.data;
    // last_seen is when the user's last socket closed, not when the grace ran out.
    const closedAt = Date.now();
    this.d.state.disconnect(t, u, this.member(ws), closedAt).then(
      (left) => {
        if (left > 0 || this.stopped) return;
        const k = key(t, u);
        const prev = this.timers.get(k);
        if (prev) clearTimeout(prev);
        const timer = setTimeout(() => {
          this.timers.delete(k);
          void this.d.state.goOffline(t, u).then(
            (went) => {
              if (!went) return;
              this.mirror.delete(k);
              this.d.broker.publishControl({ kind: "presence", tenantId: t, userId: u, online: false });
              return this.d.toUserRooms(t, u, { type: "presence.update", user_id: u, status: "offline", last_seen: new Date(closedAt).toISOString() });
            },
            (err) => this.d.log.warn({ err: String(err) }, "presence: offline check failed"),
          );
        }, this.d.graceMs);
        timer.unref?.();
        this.timers.set(k, timer);
      },
      // Redis is away: the lease expires by itself.
      () => {},
    );
  }

  /** Another node announced a change. */
  heard(tenantId: string, userId: string, online: boolean): void {
    if (online) this.mirror.add(key(tenantId, userId));
    else this.mirror.delete(key(tenantId, userId));
  }

  /** Online on some node as last announced (no Redis round trip). */
  isOnline(tenantId: string, userId: string): boolean {
    return this.mirror.has(key(tenantId, userId));
  }

  /**
   * Users whose sockets all lived on a node that died: their leases expired without a close, so
   * nobody started a grace period. One node per interval (a lock) marks them offline and announces it.
   */
  async reap(): Promise<void> {
    if (!(await this.d.state.lock("presence-reap", this.d.nodeId, 4000).catch(() => false))) return;
    for (const { tenantId: t, userId: u } of await this.d.state.reap(1000)) {
      this.mirror.delete(key(t, u));
      void this.d.broker.publishControl({ kind: "presence", tenantId: t, userId: u, online: false });
      void this.d.toUserRooms(t, u, { type: "presence.update", user_id: u, status: "offline", last_seen: new Date().toISOString() });
    }
  }

  /** Extends this node's socket leases (every heartbeat). */
  refresh(sockets: Iterable<Socket>): Promise<void> {
    const members = [...sockets].map((ws) => ({ t: ws.data.tenantId, u: ws.data.userId, member: this.member(ws) }));
    return members.length ? this.d.state.refresh(members, this.d.leaseMs) : Promise.resolve();
  }

  /** What GET /presence reports: online if any node holds a live socket; last_seen survives restarts. */
  async view(tenantId: string, userId: string): Promise<PresenceView> {
    const p = await this.d.state.presence(tenantId, userId);
    if (p.online) return { user_id: userId, status: "online", last_seen: new Date().toISOString() };
    return { user_id: userId, status: "offline", last_seen: p.lastSeenMs ? new Date(p.lastSeenMs).toISOString() : null };
  }

  /** The bus is (back) up: learn who is online on the other nodes (webhook decisions need it). */
  async load(): Promise<void> {
    for (const { tenantId, userId } of await this.d.state.onlineUsers()) this.mirror.add(key(tenantId, userId));
  }

  /** The bus went down: every node closes its sockets, so nobody is online any more. */
  reset(): void {
    this.mirror.clear();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
  }
}
