// The local socket hub on Bun's native server: lifecycle, connect replay ordering, liveness, slow
// consumers and shutdown. Nothing is published to local sockets directly: the domain, presence and
// typing publish through the broker, and this node's bus adapter (bus-adapter.ts) hands what arrives
// back here (publishLocal), so every node sees one order. The handshake is in handshake.ts, frame
// handling in handlers.ts, the connect replay in replay.ts, cluster presence in cluster-presence.ts.
import type { AttachmentUrls } from "../blobs/url-signer";
import type { Server, WebSocketHandler } from "bun";
import type { Broker, ControlEvent, Frame, OnlineDirectory } from "../bus/bus";
import { BusAdapter, type LocalHub } from "./bus-adapter";
import type { MessageReads } from "../storage/message-store";
import type { ClusterPresence } from "./cluster-presence";
import type { Config } from "../config";
import { AppError, WS_CLOSE } from "../errors";
import type { RequestContext } from "../http/context";
import { errorResponse } from "../http/errors";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { RoomReads } from "../storage/room-store";
import { bearerToken, isValidUserId } from "../http/auth";
import { looksLikeJwt, type JwtCaller, type JwtVerifier } from "../tenancy/jwt";
import { rateLimitHeaders, rateLimited, type RateLimiter } from "../tenancy/rate-limiter";
import type { TenantService } from "../tenancy/tenants";
import { StepScheduler } from "../fairness/step-scheduler";
import { defaultMaxConnections } from "./fd-limit";
import { dispatchFrame, type FrameServices } from "./handlers";
import { JwtSockets } from "./jwt-sockets";
import { LiveBuffer, type PendingSocket } from "./live-buffer";
import { presenceToRooms, PresenceTracker, type PresenceView } from "./presence";
import { ConnectionRegistry, type Socket, type SocketData } from "./registry";
import { replayOnConnect, type NotificationsPort } from "./replay";
import { sendText } from "./send";
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
  /** Verifier of signed user tokens (`?token=<jwt>`, `Authorization: Bearer`); absent: JWTs are refused. */
  jwt?: JwtVerifier;
  services: Omit<FrameServices, "typing">;
  notifications?: NotificationsPort;
  broker: Broker;
  /** This node's sockets (main.ts shares it with the OnlineDirectory). */
  registry: ConnectionRegistry;
  /** Cluster mode: presence and the socket cap over all nodes, and the reads the per-room sequencer needs. */
  cluster?: { presence: ClusterPresence; messages: MessageReads; gapMs?: number; urls?: AttachmentUrls };
  /** Another node changed something this node caches. */
  onControl?: (ev: ControlEvent) => void;
  /** Turns of background steps between tenants (replay, presence). */
  steps?: StepScheduler;
}

const MAX_FRAME_BYTES = 64 * 1024;

/** The 429 of a tenant at its connection cap: connections free up as sockets close, so retry soon. */
function tenantCapError(max: number): AppError {
  const err = new AppError("rate_limit_exceeded", `the tenant holds its maximum of ${max} connections (max_connections)`, undefined, { retry_after_ms: 5000 });
  err.headers = { "Retry-After": "5" };
  return err;
}
// A typing frame as BrokerBus serialises it: only those are parsed on delivery (to leave out the typist).
const TYPING_PREFIX = '{"type":"typing",';
// The slow-consumer sweep runs when a publish reports backpressure or a drop (at most every
// SWEEP_MIN_GAP_MS), and every SWEEP_INTERVAL_MS as a safety net: polling every socket often costs
// CPU per idle connection.
const SWEEP_INTERVAL_MS = 5000;
const SWEEP_MIN_GAP_MS = 250;
// Cluster mode: sockets' leases in Redis (cluster-presence.ts) are refreshed this often.
const LEASE_REFRESH_MS = 5_000;

/** One gateway per process: the local socket hub (its bus adapter feeds it) and the domain's OnlineDirectory. */
export class Gateway implements LocalHub, OnlineDirectory {
  readonly registry: ConnectionRegistry;
  readonly presence: PresenceTracker;
  readonly typing: TypingTracker;
  /** Live frames held for sockets whose connect replay is running. */
  private readonly held = new LiveBuffer();
  private readonly pending = new WeakMap<Socket, PendingSocket>();
  private readonly jwtSockets: JwtSockets;
  private server: Server<any> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private leases: ReturnType<typeof setInterval> | null = null;
  private sweepScheduled = false;
  private lastSweepMs = 0;
  private closing = false;
  private connCounter = 0;
  readonly cluster: ClusterPresence | null;
  /** The broker's inbound handler for this node (main.ts hands it to broker.listen). */
  readonly bus: BusAdapter;
  /** WS_MAX_CONNECTIONS, resolved (per node). */
  readonly maxConnections: number;
  private readonly steps: StepScheduler;

  constructor(private readonly d: GatewayDeps) {
    this.maxConnections = d.config.wsMaxConnections ?? defaultMaxConnections();
    this.steps = d.steps ?? new StepScheduler();
    this.websocket = this.handler();
    this.registry = d.registry;
    this.cluster = d.cluster?.presence ?? null;
    this.bus = new BusAdapter({ broker: d.broker, log: d.log, roomStore: d.roomStore, cluster: d.cluster, onControl: d.onControl }, this);
    this.jwtSockets = new JwtSockets(d.jwt, d.log);
    this.presence = new PresenceTracker({
      graceMs: d.config.presenceGraceMs,
      toUserRooms: presenceToRooms({ ...d, steps: this.steps }),
    });
    this.typing = new TypingTracker({
      timeoutMs: d.config.typingTimeoutMs,
      // One publish to the room's topic, whatever its size; every node leaves the typist's own sockets
      // out when it delivers it (publishLocal).
      toOthers: (t, roomId, _typist, frame) => d.broker.publishFrame(roomTopic(t, roomId), JSON.stringify(frame)),
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
        if (!this.bus.available()) return;
        cluster.refresh(this.registry.all()).catch((err) => this.d.log.warn({ err: String(err) }, "presence: lease refresh failed"));
        cluster.reap().catch((err) => this.d.log.warn({ err: String(err) }, "presence: reaping expired sockets failed"));
      }, LEASE_REFRESH_MS);
      this.leases.unref?.();
    }
    this.sweeper.unref?.();
  }

  // ---- the hub side of the bus adapter ----------------------------------------------------------

  isReplaying(ws: Socket, topic: string): boolean {
    // A room already replayed follows membership changes directly (its topic is subscribed).
    const p = this.pending.get(ws);
    return p !== undefined && !p.released.has(topic);
  }

  holdMembership(tenantId: string, userId: string, roomId: string, joined: boolean): void {
    this.held.membership(tenantId, userId, roomId, joined);
  }

  /** Delivers one frame that came through the broker to this node's sockets: one local publish. */
  publishLocal(topic: string, json: string): void {
    const server = this.server;
    if (!server) return;
    const tenantId = topic.slice(2, topic.indexOf(":", 2));
    const typing = json.startsWith(TYPING_PREFIX);
    const frame = this.held.holds(tenantId) || typing ? (JSON.parse(json) as Frame) : null;
    if (frame && this.held.holds(tenantId)) this.held.frame(tenantId, topic, json, frame);
    const status = typing && typeof frame?.user_id === "string" ? this.publishExcept(topic, tenantId, frame.user_id, json) : server.publish(topic, json);
    this.d.metrics.wsFramesOut.inc();
    // -1 = buffered behind backpressure somewhere, 0 = dropped for at least one subscriber. Never
    // re-publish (others would get duplicates): a slow socket is closed with 1013 and recovers by replay.
    if (status <= 0) {
      if (status === 0 && server.subscriberCount(topic) > 0) this.d.metrics.droppedBroadcasts.inc();
      this.scheduleSweep();
    }
  }

  /**
   * One publish to the topic that the user's own sockets do not receive (typing goes to the other
   * members, not the typist): they leave the topic for the publish and rejoin in the same turn, so no
   * other frame can fall in between.
   */
  private publishExcept(topic: string, tenantId: string, userId: string, json: string): number {
    const own: Socket[] = [];
    for (const ws of this.registry.sockets(tenantId, userId)) {
      if (ws.isSubscribed(topic)) {
        ws.unsubscribe(topic);
        own.push(ws);
      }
    }
    try {
      return this.server!.publish(topic, json);
    } finally {
      for (const ws of own) ws.subscribe(topic);
    }
  }

  isOnline(tenantId: string, userId: string): boolean {
    return this.registry.isOnline(tenantId, userId) || (this.cluster?.isOnline(tenantId, userId) ?? false);
  }

  /** Presence as GET /presence reports it (cluster-wide in cluster mode). */
  presenceView(tenantId: string, userId: string): PresenceView | Promise<PresenceView> {
    return this.cluster ? this.cluster.view(tenantId, userId) : this.presence.view(tenantId, userId);
  }

  // ---- handshake ---------------------------------------------------------------------------------

  /**
   * Authenticates before upgrade (origin 403, credentials 401, user 400, rate 429); resolves undefined
   * when upgraded. `?token=` first (a JWT by its shape, else a single-use token), then `Authorization:
   * Bearer <jwt>`, then X-API-Key + X-User-Id.
   */
  async upgrade(req: Request, server: Server<any>, ctx: RequestContext, url: URL = new URL(req.url, "http://localhost")): Promise<Response | undefined> {
    try {
      if (this.closing) throw new AppError("unavailable", "server is shutting down");
      // No bus, no live frames: a socket must not silently miss them (503 until it is back).
      if (!this.bus.available()) throw new AppError("unavailable", "bus unavailable: try again shortly");
      const origin = req.headers.get("origin");
      if (origin !== null && !this.originAllowed(origin, req)) throw new AppError("forbidden", "origin not allowed");
      const token = url.searchParams.get("token");
      const jwt = token !== null ? (looksLikeJwt(token) ? token : null) : bearerToken(req);
      if (jwt !== null) {
        if (!this.d.jwt) throw new AppError("unauthorized", "signed user tokens are not accepted here");
        const c: JwtCaller = await this.d.jwt.verify(jwt);
        return await this.accept(req, server, ctx, c.tenant.id, c.userId, { token: jwt, expMs: c.expMs });
      }
      if (token !== null) {
        // A token takes precedence: headers are ignored. Checked now, redeemed only just before the
        // upgrade: a handshake refused by a later check leaves it usable.
        const t = await this.d.tokens.check(token);
        return await this.accept(req, server, ctx, t.tenantId, t.userId, undefined, token);
      }
      const key = req.headers.get("x-api-key");
      const tenant = key ? await this.d.tenants.authenticate(key) : null;
      if (!tenant) throw new AppError("unauthorized", key ? "invalid API key" : "missing X-API-Key header or ?token=");
      const uid = req.headers.get("x-user-id");
      if (uid === null || !isValidUserId(uid)) throw new AppError("invalid_request", "missing or invalid X-User-Id header", [{ path: "/headers/x-user-id", message: "invalid" }]);
      return await this.accept(req, server, ctx, tenant.id, uid);
    } catch (err) {
      return this.refuse(err, ctx);
    }
  }

  // Checks the connection caps, charges the handshake to the tenant bucket, redeems a single-use
  // token (last: a refused handshake leaves it usable) and upgrades.
  private async accept(req: Request, server: Server<any>, ctx: RequestContext, tenantId: string, userId: string, jwt?: { token: string; expMs: number }, wsToken?: string): Promise<Response | undefined> {
    try {
      const tenant = await this.d.tenants.get(tenantId);
      ctx.tenantId = tenantId;
      ctx.userId = userId;
      if (this.registry.size >= this.maxConnections) throw new AppError("unavailable", `this node holds its maximum of ${this.maxConnections} connections; retry later or on another node`);
      const max = tenant.config.max_connections;
      // Cluster mode: the tenant's sockets on every node (the open re-checks it atomically).
      const tenantCount = this.cluster ? await this.cluster.tenantCount(tenantId) : this.registry.tenantCount(tenantId);
      if (tenantCount >= max) throw tenantCapError(max);
      const r = await this.d.buckets.take(tenant.id, tenant.config.rate_limit, tenant.config.rate_limit_burst);
      if (!r.ok) throw rateLimited(r, "tenant");
      if (wsToken !== undefined) await this.d.tokens.redeem(wsToken);
      // Checked after the awaits: shutdown may have begun meanwhile.
      if (this.closing) throw new AppError("unavailable", "server is shutting down");
      const data: SocketData = {
        tenantId,
        userId,
        key: ConnectionRegistry.key(tenantId, userId),
        connectionId: `c_${(++this.connCounter).toString(36)}${Math.random().toString(36).slice(2, 8)}`,
        requestId: ctx.requestId,
        alive: true,
        rejected: false,
      };
      if (jwt) {
        data.jwt = jwt.token;
        data.jwtExpMs = jwt.expMs;
      }
      if ((server as Server<SocketData>).upgrade(req, { data, headers: { "X-Request-Id": ctx.requestId, ...rateLimitHeaders(r) } })) return undefined;
      throw new AppError("invalid_request", "expected a WebSocket upgrade request");
    } catch (err) {
      return this.refuse(err, ctx);
    }
  }

  private refuse(err: unknown, ctx: RequestContext): Response {
    if (err instanceof AppError) return errorResponse(err, ctx.requestId);
    this.d.log.error({ request_id: ctx.requestId, err: String(err) }, "ws upgrade failed");
    return errorResponse(new AppError("internal_error"), ctx.requestId);
  }

  /** The tenant's JWT keys changed: its JWT sockets whose token no longer verifies are closed with 4001. */
  revalidateJwtSockets(tenantId: string): void {
    this.jwtSockets.revalidate(tenantId, this.registry.all());
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
    drain: (ws) => ws.data.onDrain?.(),
    };
  }

  private onOpen(ws: Socket): void {
    const { tenantId } = ws.data;
    const count = this.registry.add(ws);
    if (count > this.d.config.wsMaxConnectionsPerUser) return this.reject(ws);
    // Handshakes that passed the caps in the same turn: the caps hold at open too.
    if (this.registry.size > this.maxConnections) return this.reject(ws, WS_CLOSE.tryAgainLater, "node connection limit reached");
    const max = this.d.tenants.cached(tenantId)?.config.max_connections;
    if (!this.cluster && max !== undefined && this.registry.tenantCount(tenantId) > max) return this.reject(ws, WS_CLOSE.tryAgainLater, "tenant connection limit reached");
    this.d.metrics.activeConnections.inc();
    this.jwtSockets.opened(ws);
    // Held from now on: everything published for this tenant until the replay is done.
    const pending = this.held.begin(ws);
    this.pending.set(ws, pending);
    // Cluster mode: the caps count the sockets of every node (in Redis). Until they have answered, the
    // socket gets no frame and its own frames wait: one over a cap is closed before any frame, with
    // nothing it sent acted upon, as on one node.
    const admission = this.cluster?.open(ws, this.d.config.wsMaxConnectionsPerUser, max) ?? null;
    if (admission) ws.data.inbox = admission.then(() => undefined, () => undefined);
    else sendText(ws, this.connectedFrame(ws));
    void this.replay(ws, pending, count, admission);
  }

  private connectedFrame(ws: Socket): string {
    return JSON.stringify({ type: "connected", user_id: ws.data.userId, connection_id: ws.data.connectionId, heartbeat_s: Math.round(this.d.config.wsHeartbeatMs / 1000) });
  }

  private reject(ws: Socket, code: number = WS_CLOSE.policy, reason = `more than ${this.d.config.wsMaxConnectionsPerUser} connections for this user`): void {
    ws.data.rejected = true;
    this.registry.remove(ws);
    ws.close(code, reason);
  }

  /**
   * Presence, then the broker subscriptions (confirmed before anything is read, so nothing committed
   * later can be missed), then the connect replay in steps (replay.ts): each room's held live frames
   * and its local subscription follow that room's replay; the user topic and rooms joined meanwhile
   * follow the whole replay. Each of those steps is synchronous: no live frame of a room overtakes
   * its replay, none is lost.
   */
  private async replay(ws: Socket, pending: PendingSocket, count: number, admission: Promise<"ok" | "user" | "tenant"> | null): Promise<void> {
    const { tenantId, userId } = ws.data;
    try {
      if (this.cluster && admission) {
        // The caps count sockets on every node; the socket is not told about its own presence.
        const admitted = await admission;
        // Closed meanwhile: onClose already cleaned up; only a lease just taken must go again.
        if (pending.closed) {
          if (admitted === "ok") this.cluster.close(ws);
          return;
        }
        if (admitted !== "ok") {
          this.held.end(pending);
          this.pending.delete(ws);
          this.d.metrics.activeConnections.dec();
          return admitted === "user" ? this.reject(ws) : this.reject(ws, WS_CLOSE.tryAgainLater, "tenant connection limit reached");
        }
        ws.data.leased = true;
        sendText(ws, this.connectedFrame(ws));
      } else if (count === 1) {
        // Presence goes out before this socket joins its room topics: it is not told about itself.
        await this.presence.connected(tenantId, userId);
      }
      const roomIds = await this.d.roomStore.userRoomIds(tenantId, userId);
      await Promise.all([userTopic(tenantId, userId), ...roomIds.map((r) => roomTopic(tenantId, r))].map((t) => this.bus.ref(ws, t)));
      const { replayed, covered } = await replayOnConnect(ws, {
        roomStore: this.d.roomStore,
        messages: this.d.services.messages,
        notifications: this.d.notifications,
        maxPerRoom: this.d.config.syncMaxPerRoom,
        maxTotal: this.d.config.syncMaxTotal,
        maxBufferedBytes: this.d.config.wsBackpressureBytes,
        // Half a heartbeat: a peer that reads nothing is closed with 1013 before the heartbeat would drop it.
        drainTimeoutMs: this.d.config.wsHeartbeatMs / 2,
        release: async (sock, roomId, upToSeq) => {
          // Cluster mode: live frames up to upToSeq may still be on their way through Redis; they
          // are held (and skipped) until this node has delivered them, not sent a second time.
          await this.bus.delivered(roomTopic(tenantId, roomId), upToSeq);
          if (!pending.closed && sock.readyState === 1) LiveBuffer.release(pending, roomTopic(tenantId, roomId), upToSeq);
        },
        turn: () => this.steps.turn(tenantId),
        charge: (ms) => this.steps.charge(ms),
      });
      this.d.metrics.replayedMessages.inc(replayed);
      this.held.end(pending);
      this.pending.delete(ws);
      if (pending.closed || ws.readyState !== 1) return;
      for (const topic of LiveBuffer.flush(pending, new Set([userTopic(tenantId, userId)]), covered)) ws.subscribe(topic);
      // Rooms left during the replay (neither replayed nor joined again): their broker references go too.
      for (const t of [...(ws.data.busTopics ?? [])]) if (!ws.isSubscribed(t)) this.bus.unref(ws, t);
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
    if (!this.bus.available()) {
      if (ws.readyState === 1) ws.close(WS_CLOSE.serviceRestart, "bus unavailable: reconnect");
      return;
    }
    this.d.log.error({ request_id: ws.data.requestId, tenant_id: tenantId, user_id: userId, err: String(err) }, "ws open failed");
    if (ws.readyState === 1) ws.close(WS_CLOSE.internal, "internal error");
  }

  private onClose(ws: Socket): void {
    ws.data.closed = true;
    ws.data.onDrain?.();
    this.jwtSockets.closed(ws);
    if (ws.data.rejected) return;
    const pending = this.pending.get(ws);
    if (pending) {
      pending.closed = true;
      this.held.end(pending);
      this.pending.delete(ws);
    }
    this.bus.release(ws);
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
    // Frames of one socket start in arrival order, each once the previous one is done or, for a
    // send on SQLite, once that send holds its place in the commit order: two quick sends of one
    // socket get their seqs in the order they were sent, whatever the store (on PostgreSQL two
    // concurrent transactions could take the room lock in either order, so there a send is waited
    // for), and on SQLite a socket's quick sends share one commit and one publish per batch.
    // dispatchFrame never rejects.
    const prev = ws.data.inbox;
    let submitted!: () => void;
    const placed = new Promise<void>((r) => (submitted = r));
    // A socket refused by the cluster-wide cap (its frames waited for that answer) acts on nothing.
    const run = () => (ws.data.rejected ? Promise.resolve() : dispatchFrame(ws, raw, services, submitted));
    const next: Promise<void> = Promise.race([prev ? prev.then(run) : run(), placed]);
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
      sendText(ws, JSON.stringify({ type: "server.shutdown", reconnect_after_ms: 1000 + Math.floor(Math.random() * 2000) }));
      ws.close(WS_CLOSE.goingAway, "server shutting down");
    }
  }
}
