// The local socket hub on Bun's native server: handshake, lifecycle, liveness, slow consumers and
// shutdown, and the inbound side of the bus: what the broker brings in (from this node or any other)
// is delivered to this node's sockets. Nothing is published to local sockets directly: the domain,
// presence and typing publish through the broker, so every node sees one order. Frame handling is in
// handlers.ts, the connect replay in replay.ts, the cluster-wide presence in cluster-presence.ts.
import type { Server, WebSocketHandler } from "bun";
import type { Broker, BusInbound, ControlEvent, Frame, JoinContext, OnlineDirectory } from "../bus/bus";
import { RoomSequencer } from "../bus/sequencer";
import { toMessage } from "../chat/mappers";
import type { MessageReads } from "../storage/message-store";
import type { ClusterPresence } from "./cluster-presence";
import type { Config } from "../config";
import { AppError, WS_CLOSE } from "../errors";
import type { RequestContext } from "../http/context";
import { errorResponse } from "../http/errors";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { RoomReads } from "../storage/room-store";
import { isValidUserId } from "../http/auth";
import { rateLimitHeaders, rateLimited, type RateLimiter } from "../tenancy/rate-limiter";
import type { TenantService } from "../tenancy/tenants";
import { dispatchFrame, type FrameServices } from "./handlers";
import { LiveBuffer, type PendingSocket } from "./live-buffer";
import { presenceToRooms, PresenceTracker, type PresenceView } from "./presence";
import { ConnectionRegistry, type Socket, type SocketData } from "./registry";
import { replayOnConnect, type NotificationsPort } from "./replay";
import type { WsTokenService } from "./tokens";
import { roomTopic, userTopic } from "./topics";
import { TypingTracker } from "./typing";

export interface GatewayDeps {
  config: Readonly<Config>;
  log: Logger;
  metrics: Metrics;
  tenants: TenantService;
  /** The tenant buckets shared with HTTP: a handshake and every frame cost one token. */
  buckets: RateLimiter;
  roomStore: RoomReads;
  tokens: WsTokenService;
  services: Omit<FrameServices, "typing">;
  notifications?: NotificationsPort;
  broker: Broker;
  /** This node's sockets (main.ts shares it with the OnlineDirectory). */
  registry: ConnectionRegistry;
  /** Cluster mode: presence and the socket cap over all nodes, and the reads the per-room sequencer needs. */
  cluster?: { presence: ClusterPresence; messages: MessageReads; gapMs?: number };
  /** Another node changed something this node caches. */
  onControl?: (ev: ControlEvent) => void;
}

const MAX_FRAME_BYTES = 64 * 1024;
// The slow-consumer sweep runs when a publish reports backpressure or a drop (at most every
// SWEEP_MIN_GAP_MS), and every SWEEP_INTERVAL_MS as a safety net: polling every socket often costs
// CPU per idle connection.
const SWEEP_INTERVAL_MS = 5000;
const SWEEP_MIN_GAP_MS = 250;
// Cluster mode: sockets' leases in Redis (cluster-presence.ts) are refreshed this often.
const LEASE_REFRESH_MS = 5_000;

/** One gateway per process: the broker's inbound handler and the domain's OnlineDirectory. */
export class Gateway implements BusInbound, OnlineDirectory {
  readonly registry: ConnectionRegistry;
  readonly presence: PresenceTracker;
  readonly typing: TypingTracker;
  /** Live frames held for sockets whose connect replay is running. */
  private readonly held = new LiveBuffer();
  private readonly pending = new WeakMap<Socket, PendingSocket>();
  private server: Server<any> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private leases: ReturnType<typeof setInterval> | null = null;
  private sweepScheduled = false;
  private lastSweepMs = 0;
  private closing = false;
  private connCounter = 0;
  private busDown = false;
  /** Sockets of this node per topic: the broker subscription lives while one is left. */
  private readonly topicRefs = new Map<string, number>();
  private readonly sequencer: RoomSequencer | null = null;
  readonly cluster: ClusterPresence | null = null;

  constructor(private readonly d: GatewayDeps) {
    this.websocket = this.handler();
    this.registry = d.registry;
    const c = d.cluster;
    if (c) {
      this.sequencer = new RoomSequencer(
        {
          lastSeq: async (topic) => {
            const [, t, r] = topic.split(":") as [string, string, string];
            return (await d.roomStore.get(t, r))?.last_seq ?? 0;
          },
          range: async (topic, from, to) => {
            const [, t, r] = topic.split(":") as [string, string, string];
            const rows = await c.messages.after(t, r, from - 1, to + 1, to - from + 1);
            return rows.map((m) => ({ seq: m.seq, json: JSON.stringify({ type: "message", ...toMessage(m) }) }));
          },
        },
        (topic, json) => this.deliver(topic, json),
        c.gapMs ?? 250,
        (err) => d.log.warn({ err: String(err) }, "bus: reading missing seqs failed"),
      );
      this.cluster = c.presence;
    }
    this.presence = new PresenceTracker({
      graceMs: d.config.presenceGraceMs,
      toUserRooms: presenceToRooms(d),
    });
    this.typing = new TypingTracker({
      timeoutMs: d.config.typingTimeoutMs,
      toOthers: (t, roomId, typist, frame) => {
        const json = JSON.stringify(frame);
        const send = (members: Iterable<string>) => {
          for (const u of members) if (u !== typist) d.broker.publishFrame(userTopic(t, u), json);
        };
        // The typist just passed the membership check, so the room is normally cached.
        const cached = d.services.rooms.cached(t, roomId);
        if (cached) return send(cached.members.keys());
        d.services.rooms.loadMembers(t, roomId).then(send, (err) => d.log.warn({ tenant_id: t, err: String(err) }, "typing: loading the room failed"));
      },
    });
  }

  /** Binds the running server (publish needs it) and starts the heartbeat and the slow-consumer sweep. */
  attach(server: Server<any>): void {
    this.server = server;
    this.heartbeat = setInterval(() => this.beat(), this.d.config.wsHeartbeatMs);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.heartbeat.unref?.();
    if (this.cluster) {
      const cluster = this.cluster;
      this.leases = setInterval(() => {
        if (!this.busDown) cluster.refresh(this.registry.all()).catch((err) => this.d.log.warn({ err: String(err) }, "presence: lease refresh failed"));
      }, LEASE_REFRESH_MS);
      this.leases.unref?.();
    }
    this.sweeper.unref?.();
  }

  // ---- bus inbound -------------------------------------------------------------------------------

  frame(topic: string, json: string, seq?: number): void {
    if (seq !== undefined && this.sequencer) this.sequencer.accept(topic, seq, json);
    else this.deliver(topic, json);
  }

  membership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void {
    const topic = roomTopic(tenantId, roomId);
    // Cluster: a room this node does not receive yet is subscribed now; what is published meanwhile
    // (the member.joined frame, messages after the join) would pass it by, so the join's own frame
    // goes to the new member's sockets directly and the sequencer starts at the join's seq (later
    // messages that went by are read back from the store).
    const cold = joined && this.sequencer !== null && !this.topicRefs.has(topic);
    const start = cold ? join?.lastSeq : undefined;
    // Sockets still replaying subscribe when their replay is done; they get the change then, in order.
    this.held.membership(tenantId, userId, roomId, joined);
    for (const ws of this.registry.sockets(tenantId, userId)) {
      if (this.pending.has(ws)) {
        if (joined) void this.ref(ws, topic, start).catch(() => {});
        continue;
      }
      if (joined) {
        ws.subscribe(topic);
        if (cold && join?.frame) ws.send(JSON.stringify(join.frame));
        void this.ref(ws, topic, start).catch(() => {});
      } else {
        ws.unsubscribe(topic);
        this.unref(ws, topic);
      }
    }
  }

  control(ev: ControlEvent): void {
    if (ev.kind === "presence") this.cluster?.heard(ev.tenantId, ev.userId, ev.online);
    this.d.onControl?.(ev);
  }

  down(reason: string): void {
    this.busDown = true;
    this.sequencer?.clear();
    this.cluster?.reset();
    // Every socket would silently miss live frames: closed with 1012, clients reconnect and replay.
    for (const ws of [...this.registry.all()]) ws.close(WS_CLOSE.serviceRestart, `bus unavailable (${reason}): reconnect`);
  }

  up(): void {
    this.busDown = false;
  }

  isOnline(tenantId: string, userId: string): boolean {
    return this.registry.isOnline(tenantId, userId) || (this.cluster?.isOnline(tenantId, userId) ?? false);
  }

  /** Presence as GET /presence reports it (cluster-wide in cluster mode). */
  presenceView(tenantId: string, userId: string): PresenceView | Promise<PresenceView> {
    return this.cluster ? this.cluster.view(tenantId, userId) : this.presence.view(tenantId, userId);
  }

  /** Takes one reference of `ws` on the broker topic; the first on this node subscribes (and positions the sequencer). */
  private async ref(ws: Socket, topic: string, startAfterSeq?: number): Promise<void> {
    const mine = (ws.data.busTopics ??= new Set());
    if (mine.has(topic)) return;
    mine.add(topic);
    const n = this.topicRefs.get(topic) ?? 0;
    this.topicRefs.set(topic, n + 1);
    if (n > 0) return;
    try {
      await this.d.broker.subscribe(topic);
      if (this.sequencer && topic.startsWith("r:")) await this.sequencer.track(topic, startAfterSeq);
    } catch (err) {
      this.unref(ws, topic);
      throw err;
    }
  }

  private unref(ws: Socket, topic: string): void {
    if (!ws.data.busTopics?.delete(topic)) return;
    const n = this.topicRefs.get(topic) ?? 0;
    if (n > 1) {
      this.topicRefs.set(topic, n - 1);
      return;
    }
    this.topicRefs.delete(topic);
    this.d.broker.unsubscribe(topic);
    this.sequencer?.forget(topic);
  }

  /** Delivers one frame that came through the broker to this node's sockets: one local publish. */
  private deliver(topic: string, json: string): void {
    const server = this.server;
    if (!server) return;
    const tenantId = topic.slice(2, topic.indexOf(":", 2));
    if (this.held.holds(tenantId)) this.held.frame(tenantId, topic, json, JSON.parse(json) as Frame);
    const status = server.publish(topic, json);
    this.d.metrics.wsFramesOut.inc();
    // -1 = buffered behind backpressure somewhere, 0 = dropped for at least one subscriber. Never
    // re-publish (others would get duplicates): a slow socket is closed with 1013 and recovers by replay.
    if (status <= 0) {
      if (status === 0 && server.subscriberCount(topic) > 0) this.d.metrics.droppedBroadcasts.inc();
      this.scheduleSweep();
    }
  }

  // ---- handshake ---------------------------------------------------------------------------------

  /** Authenticates before upgrade (origin 403, credentials 401, user 400, rate 429); undefined when upgraded. */
  async upgrade(req: Request, server: Server<any>, ctx: RequestContext): Promise<Response | undefined> {
    try {
      if (this.closing) throw new AppError("unavailable", "server is shutting down");
      if (this.busDown || !this.d.broker.connected()) throw new AppError("unavailable", "bus unavailable: try again shortly");
      const origin = req.headers.get("origin");
      if (origin !== null && !this.originAllowed(origin, req)) throw new AppError("forbidden", "origin not allowed");
      const url = new URL(req.url);
      const token = url.searchParams.get("token");
      let tenantId: string;
      let userId: string;
      if (token !== null) {
        // A token takes precedence: headers are ignored.
        const t = await this.d.tokens.redeem(token);
        tenantId = t.tenantId;
        userId = t.userId;
      } else {
        const key = req.headers.get("x-api-key");
        const tenant = key ? await this.d.tenants.authenticate(key) : null;
        if (!tenant) throw new AppError("unauthorized", key ? "invalid API key" : "missing X-API-Key header or ?token=");
        const uid = req.headers.get("x-user-id");
        if (uid === null || !isValidUserId(uid)) throw new AppError("invalid_request", "missing or invalid X-User-Id header", [{ path: "/headers/x-user-id", message: "invalid" }]);
        tenantId = tenant.id;
        userId = uid;
      }
      const tenant = await this.d.tenants.get(tenantId);
      if (this.closing) throw new AppError("unavailable", "server is shutting down");
      ctx.tenantId = tenantId;
      ctx.userId = userId;
      const r = await this.d.buckets.take(tenant.id, tenant.config.rate_limit, tenant.config.rate_limit_burst);
      if (!r.ok) throw rateLimited(r, "tenant");
      const data: SocketData = {
        tenantId,
        userId,
        key: ConnectionRegistry.key(tenantId, userId),
        connectionId: `c_${(++this.connCounter).toString(36)}${Math.random().toString(36).slice(2, 8)}`,
        requestId: ctx.requestId,
        alive: true,
        rejected: false,
      };
      if ((server as Server<SocketData>).upgrade(req, { data, headers: { "X-Request-Id": ctx.requestId, ...rateLimitHeaders(r) } })) return undefined;
      throw new AppError("invalid_request", "expected a WebSocket upgrade request");
    } catch (err) {
      if (err instanceof AppError) return errorResponse(err, ctx.requestId);
      this.d.log.error({ request_id: ctx.requestId, err: String(err) }, "ws upgrade failed");
      return errorResponse(new AppError("internal_error"), ctx.requestId);
    }
  }

  /**
   * ALLOWED_ORIGINS lists the allowed Origins (`*` = any); unset refuses every Origin. One addition:
   * while the console is enabled, the server's own origin (Origin host == Host) is allowed, since the
   * console page is served from it; a cross-site page cannot forge the Host its browser sends.
   */
  private originAllowed(origin: string, req: Request): boolean {
    const o = origin.replace(/\/+$/, "");
    const allowed = this.d.config.allowedOrigins;
    if (allowed && (allowed.includes("*") || allowed.includes(o))) return true;
    if (!this.d.config.consoleEnabled) return false;
    const host = req.headers.get("host");
    try {
      return host !== null && new URL(o).host === host;
    } catch {
      return false;
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  readonly websocket: WebSocketHandler<SocketData>;

  private handler(): WebSocketHandler<SocketData> {
    return {
    maxPayloadLength: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    // Bun drops frames only past this hard limit (about 2x WS_BACKPRESSURE_BYTES). The sweep (every
    // 500 ms, and at once after a dropped publish) closes a socket over WS_BACKPRESSURE_BYTES with 1013;
    // whatever that socket missed comes back by replay and sync on reconnect.
    backpressureLimit: this.d.config.wsBackpressureBytes * 2 + MAX_FRAME_BYTES,
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
    sendPings: false,
    publishToSelf: true,
    open: (ws) => this.onOpen(ws),
    message: (ws, raw) => this.onMessage(ws, raw),
    close: (ws) => this.onClose(ws),
    pong: (ws) => {
      ws.data.alive = true;
    },
    };
  }

  private onOpen(ws: Socket): void {
    const { tenantId, userId } = ws.data;
    const count = this.registry.add(ws);
    if (count > this.d.config.wsMaxConnectionsPerUser) return this.reject(ws);
    this.d.metrics.activeConnections.inc();
    // Held from now on: everything delivered for this tenant until the replay is done.
    const pending = this.held.begin(ws);
    this.pending.set(ws, pending);
    try {
      ws.send(JSON.stringify({ type: "connected", user_id: userId, connection_id: ws.data.connectionId, heartbeat_s: Math.round(this.d.config.wsHeartbeatMs / 1000) }));
    } catch (err) {
      this.openFailed(ws, pending, err);
      return;
    }
    void this.replay(ws, pending, count);
  }

  private reject(ws: Socket): void {
    ws.data.rejected = true;
    this.registry.remove(ws);
    ws.close(WS_CLOSE.policy, `more than ${this.d.config.wsMaxConnectionsPerUser} connections for this user`);
  }

  /**
   * Presence, then the broker subscriptions (confirmed before anything is read, so nothing committed
   * later can be missed), the connect replay, the held live frames, and the local subscriptions. The
   * last two steps are synchronous: no live frame of a room overtakes that room's replay, none is lost.
   */
  private async replay(ws: Socket, pending: PendingSocket, count: number): Promise<void> {
    const { tenantId, userId } = ws.data;
    try {
      let presenceSent: Promise<void> = Promise.resolve();
      if (this.cluster) {
        // The cap counts sockets on every node; the socket is not told about its own presence.
        if (!(await this.cluster.open(ws, this.d.config.wsMaxConnectionsPerUser))) {
          this.held.end(pending);
          this.pending.delete(ws);
          this.d.metrics.activeConnections.dec();
          if (ws.readyState === 1) this.reject(ws);
          else ws.data.rejected = true;
          return;
        }
        ws.data.leased = true;
      } else if (count === 1) {
        // Presence goes out before this socket joins its room topics: it is not told about itself.
        presenceSent = this.presence.connected(tenantId, userId);
      }
      const roomIds = await this.d.roomStore.userRoomIds(tenantId, userId);
      const wanted = [userTopic(tenantId, userId), ...roomIds.map((r) => roomTopic(tenantId, r))];
      await Promise.all(wanted.map((t) => this.ref(ws, t)));
      const { replayed, covered } = await replayOnConnect(ws, {
        roomStore: this.d.roomStore,
        messages: this.d.services.messages,
        notifications: this.d.notifications,
        maxPerRoom: this.d.config.syncMaxPerRoom,
        maxTotal: this.d.config.syncMaxTotal,
        maxBufferedBytes: this.d.config.wsBackpressureBytes,
      });
      this.d.metrics.replayedMessages.inc(replayed);
      await presenceSent;
      this.held.end(pending);
      this.pending.delete(ws);
      if (pending.closed || ws.readyState !== 1) return;
      const topics = LiveBuffer.flush(pending, new Set(wanted), covered);
      for (const topic of topics) ws.subscribe(topic);
      // Rooms left during the replay: their broker references go too.
      for (const t of [...(ws.data.busTopics ?? [])]) if (!topics.has(t)) this.unref(ws, t);
      // No close here for a buffered replay: the client had no chance to read yet, and a backlog
      // would then fail the same way at every reconnect. The sweep judges it like any socket.
    } catch (err) {
      this.openFailed(ws, pending, err);
    }
  }

  private openFailed(ws: Socket, pending: PendingSocket, err: unknown): void {
    this.held.end(pending);
    this.pending.delete(ws);
    const { tenantId, userId } = ws.data;
    if (err instanceof AppError && err.code === "unavailable") {
      this.d.log.error({ request_id: ws.data.requestId, tenant_id: tenantId, user_id: userId }, "ws open: database unavailable");
      if (ws.readyState === 1) ws.close(WS_CLOSE.tryAgainLater, "database unavailable");
      return;
    }
    if (this.busDown || !this.d.broker.connected()) {
      if (ws.readyState === 1) ws.close(WS_CLOSE.serviceRestart, "bus unavailable: reconnect");
      return;
    }
    this.d.log.error({ request_id: ws.data.requestId, tenant_id: tenantId, user_id: userId, err: String(err) }, "ws open failed");
    if (ws.readyState === 1) ws.close(WS_CLOSE.internal, "internal error");
  }

  private onClose(ws: Socket): void {
    if (ws.data.rejected) return;
    const pending = this.pending.get(ws);
    if (pending) {
      pending.closed = true;
      this.held.end(pending);
      this.pending.delete(ws);
    }
    for (const t of [...(ws.data.busTopics ?? [])]) this.unref(ws, t);
    const remaining = this.registry.remove(ws);
    this.d.metrics.activeConnections.dec();
    if (ws.data.leased) this.cluster?.close(ws);
    if (remaining === 0) {
      if (!this.cluster) this.presence.disconnected(ws.data.tenantId, ws.data.userId);
      this.typing.userGone(ws.data.tenantId, ws.data.userId);
    }
  }

  private onMessage(ws: Socket, raw: string | Buffer): void {
    ws.data.alive = true;
    this.d.metrics.wsFramesIn.inc();
    const services = {
      ...this.d.services,
      typing: this.typing,
      tenants: this.d.tenants,
      buckets: this.d.buckets,
      log: this.d.log,
      notifications: this.d.notifications,
    };
    // One frame at a time per socket, in arrival order: two quick sends of one socket get their seqs
    // in the order they were sent, whatever the store (on PostgreSQL two concurrent transactions
    // could take the room lock in either order). dispatchFrame never rejects.
    const prev = ws.data.inbox;
    const next: Promise<void> = prev ? prev.then(() => dispatchFrame(ws, raw, services)) : dispatchFrame(ws, raw, services);
    ws.data.inbox = next;
    void next.then(() => {
      if (ws.data.inbox === next) ws.data.inbox = undefined;
    });
  }

  // ---- liveness, slow consumers, shutdown --------------------------------------------------------

  private beat(): void {
    for (const ws of this.registry.all()) {
      if (!ws.data.alive) {
        ws.terminate();
        continue;
      }
      ws.data.alive = false;
      ws.ping();
    }
  }

  private scheduleSweep(): void {
    if (this.sweepScheduled) return;
    this.sweepScheduled = true;
    const wait = Math.max(0, this.lastSweepMs + SWEEP_MIN_GAP_MS - performance.now());
    setTimeout(() => {
      this.sweepScheduled = false;
      this.sweep();
    }, wait).unref?.();
  }

  /** Closes every socket holding more than WS_BACKPRESSURE_BYTES unsent (1013: reconnect and replay). */
  sweep(): void {
    this.lastSweepMs = performance.now();
    const limit = this.d.config.wsBackpressureBytes;
    for (const ws of this.registry.all()) {
      if (ws.getBufferedAmount() > limit) {
        this.d.log.info({ tenant_id: ws.data.tenantId, user_id: ws.data.userId, buffered: ws.getBufferedAmount() }, "closing slow consumer");
        ws.close(WS_CLOSE.tryAgainLater, "slow consumer: reconnect to replay");
      }
    }
  }

  /** Every socket gets `server.shutdown` then close 1001; new upgrades are refused. */
  shutdown(): void {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.leases) clearInterval(this.leases);
    this.presence.stop();
    this.cluster?.stop();
    this.typing.stopAll();
    for (const ws of [...this.registry.all()]) {
      ws.send(JSON.stringify({ type: "server.shutdown", reconnect_after_ms: 1000 + Math.floor(Math.random() * 2000) }));
      ws.close(WS_CLOSE.goingAway, "server shutting down");
    }
  }
}
