// ChatClient: one WebSocket to ChatAPI with request/reply correlation, typed events, per-room
// ordering and dedupe, gap filling, reconnect with backoff and resync. Browser- and Bun-compatible.
import { backoffDelayMs, shutdownDelayMs } from "./backoff.ts";
import { ChangesTracker } from "./changes-tracker.ts";
import type {
  ChatClientEvents,
  ChatClientOptions,
  ConnectionState,
  RequestArgs,
  WebSocketFactory,
  WebSocketLike,
} from "./connection-types.ts";
import { TypedEmitter, type Handler } from "./emitter.ts";
import { ChatClientError } from "./errors.ts";
import { defaultSyncRetryDelayMs, RoomSequencer } from "./room-sequencer.ts";
import type { Attachment, ClientFrameType, ClientRequests, Message, ServerFrame } from "./types.ts";
import { ChatClientMethods } from "./chat-client-methods.ts";
import { Liveness } from "./liveness.ts";
import { RequestTable } from "./request-table.ts";
import { RestClient } from "./rest-client.ts";
import { TokenCache } from "./token-cache.ts";
import { socketUrl } from "./util.ts";

const OPEN = 1;
// Client-chosen close code (4000-4999 are application codes) for a socket the client gave up on.
const GIVE_UP_CLOSE_CODE = 4000;
// Server close code: the socket's signed user token expired or no longer verifies; reconnect with a fresh one.
const TOKEN_EXPIRED_CLOSE_CODE = 4001;

const defaultFactory: WebSocketFactory = (url, headers) => {
  const Ctor = (globalThis as { WebSocket?: new (url: string, options?: unknown) => unknown }).WebSocket;
  if (Ctor === undefined) throw new Error("no global WebSocket; pass webSocketFactory");
  // The options object with headers is Bun's extension; browsers never take this path.
  return (headers === undefined ? new Ctor(url) : new Ctor(url, { headers })) as WebSocketLike;
};

/** A ChatAPI WebSocket client; call `connect()`, then `request` or the convenience methods. */
export class ChatClient extends ChatClientMethods {
  private readonly emitter = new TypedEmitter<ChatClientEvents>();
  private readonly requests = new RequestTable();
  private readonly sequencer: RoomSequencer;
  private readonly tracker: ChangesTracker;
  private readonly factory: WebSocketFactory;
  private readonly random: () => number;
  private readonly noReconnect: Set<number>;
  private socket: WebSocketLike | undefined;
  private currentState: ConnectionState = "closed";
  private generation = 0;
  private attempt = 0;
  private shutdownHintMs: number | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly liveness = new Liveness({
    ping: () => this.sendRaw('{"type":"ping"}'),
    dead: (reason) => this.abandon(reason),
  });
  private openWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private currentUserId: string | undefined;
  private currentConnectionId: string | undefined;
  private readonly tokens: TokenCache | undefined;
  private restClient: RestClient | undefined;

  constructor(private readonly options: ChatClientOptions) {
    super();
    const hasKey = typeof options.apiKey === "string" && typeof options.userId === "string";
    if (hasKey === (typeof options.getToken === "function")) {
      throw new TypeError("pass either apiKey and userId, or getToken");
    }
    socketUrl(options.url); // validates the URL now rather than at the first connect
    this.currentUserId = options.userId;
    this.tokens = options.getToken === undefined ? undefined : new TokenCache(options.getToken, { refreshBeforeMs: options.tokenRefreshBeforeMs });
    this.factory = options.webSocketFactory ?? defaultFactory;
    this.random = options.random ?? Math.random;
    this.noReconnect = new Set(options.noReconnectCloseCodes ?? [1008]);
    this.sequencer = new RoomSequencer({
      sync: (data) => this.request("sync", data),
      deliver: (message) => this.emitter.emit("message", { ...message, type: "message" }),
      onSyncError: (room_id, error) => {
        // After close() every request fails with `disconnected`: that is not news to the app.
        if (this.currentState !== "closed") this.emitter.emit("sync_error", { room_id, error });
      },
      pageSize: Math.min(200, Math.max(1, options.syncPageSize ?? 200)),
      maxConcurrentSyncs: Math.max(1, options.maxConcurrentSyncs ?? 4),
      retryDelayMs: defaultSyncRetryDelayMs,
    });
    this.tracker = new ChangesTracker({
      changes: (data) => this.request("changes", data),
      deliver: (event) => this.emitter.emit("changes", event),
      onError: (room_id, error) => {
        if (this.currentState !== "closed") this.emitter.emit("changes_error", { room_id, error });
      },
      pageSize: Math.min(200, Math.max(1, options.syncPageSize ?? 200)),
    });
  }

  /**
   * Keeps `roomId` in sync through the changes feed: after every (re)connect the client pages the
   * room's changes from its cursor and emits them as `changes` events (the current state of each
   * message changed meanwhile; replace your copies by message_id). Without `cursor`, the room's
   * present cursor is fetched first: await this before loading history so nothing falls between.
   */
  async trackChanges(roomId: string, cursor?: string): Promise<void> {
    this.tracker.track(roomId, cursor ?? null);
    if (this.currentState === "open" || this.tracker.cursor(roomId) === null) await this.tracker.catchUp(roomId);
  }

  /** Stops tracking `roomId`. */
  untrackChanges(roomId: string): void {
    this.tracker.untrack(roomId);
  }

  /** The kept changes cursor of a tracked room (persist it to resume after a restart). */
  getChangesCursor(roomId: string): string | null | undefined {
    return this.tracker.cursor(roomId);
  }

  /** Pages a tracked room's changes now (also done automatically after each connect). */
  catchUp(roomId: string): Promise<void> {
    return this.tracker.catchUp(roomId);
  }

  /** Current connection state. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The server's id of the current socket (from `connected`). */
  get connectionId(): string | undefined {
    return this.currentConnectionId;
  }

  /** The acting user: from the options, or from `connected` on the token path. */
  get userId(): string | undefined {
    return this.currentUserId;
  }

  /**
   * REST calls with the same credentials (a JWT from getToken, shared and refreshed with the socket's,
   * or the API key); the base URL is the socket URL without `/ws`, unless `restUrl` is given.
   */
  get rest(): RestClient {
    if (this.restClient === undefined) {
      const baseUrl = this.options.restUrl ?? restBaseOf(socketUrl(this.options.url));
      this.restClient =
        this.tokens !== undefined
          ? new RestClient({ baseUrl, tokens: this.tokens })
          : new RestClient({ baseUrl, apiKey: this.options.apiKey!, userId: this.options.userId! });
    }
    return this.restClient;
  }

  /** Uploads a file to a room over REST (same credentials); send it with `sendMessage(roomId, "", {attachments: [id]})`. */
  uploadAttachment(roomId: string, file: Blob, filename?: string): Promise<Attachment> {
    return this.rest.uploadAttachment(roomId, file, filename);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ChatClientEvents>(type: K, handler: Handler<ChatClientEvents[K]>): () => void {
    return this.emitter.on(type, handler);
  }

  /** Like `on`, for one event only. */
  once<K extends keyof ChatClientEvents>(type: K, handler: Handler<ChatClientEvents[K]>): () => void {
    return this.emitter.once(type, handler);
  }

  /** Starts connecting (and reconnecting); resolves at `connected`, rejects if the client closes first. */
  connect(): Promise<void> {
    if (this.currentState === "open") return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    if (this.currentState === "closed") {
      this.attempt = 0;
      this.setState("connecting");
      void this.openSocket();
    }
    return opened;
  }

  /** Closes for good: no reconnect; pending requests reject with `disconnected`. */
  close(code = 1000, reason = ""): void {
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) {
      try {
        socket.close(code, reason);
      } catch {
        // Already closing; nothing to do.
      }
      this.emitter.emit("close", { code, reason, willReconnect: false });
    }
    this.finish("client closed");
  }

  /** Sends one frame and resolves with its `reply` data, or rejects with a ChatClientError. */
  request<T extends ClientFrameType>(type: T, ...args: RequestArgs<T>): Promise<ClientRequests[T]["reply"]> {
    const [data, options] = args;
    if (this.currentState === "closed") {
      return Promise.reject(new ChatClientError("disconnected", "client is not connected"));
    }
    const timeoutMs = options?.timeoutMs ?? this.options.requestTimeoutMs ?? 10_000;
    const promise = this.requests.add(type, data, timeoutMs);
    if (this.currentState === "open") this.flush();
    return promise as Promise<ClientRequests[T]["reply"]>;
  }

  /** Tells the client the app has shown `roomId` up to `seq` (e.g. REST history); only moves forward. */
  seed(roomId: string, seq: number): void {
    this.sequencer.seed(roomId, seq);
  }

  /** Highest seq of `roomId` delivered to (or seeded by) the app. */
  getLastSeq(roomId: string): number | undefined {
    return this.sequencer.lastSeq(roomId);
  }

  private setState(state: ConnectionState, extra?: { attempt: number; delayMs: number }): void {
    const previous = this.currentState;
    this.currentState = state;
    if (previous !== state || extra !== undefined) this.emitter.emit("state", { state, previous, ...extra });
  }

  private async openSocket(): Promise<void> {
    const generation = ++this.generation;
    let url: string;
    let headers: Record<string, string> | undefined;
    let socket: WebSocketLike;
    try {
      if (this.tokens !== undefined) {
        // Single-use tokens: every attempt asks for a fresh one. A JWT is reused until shortly before its exp.
        const token = await this.tokens.get();
        if (generation !== this.generation) return;
        url = socketUrl(this.options.url, token);
      } else {
        url = socketUrl(this.options.url);
        headers = { "X-API-Key": this.options.apiKey!, "X-User-Id": this.options.userId! };
      }
      socket = this.factory(url, headers);
    } catch (error) {
      if (generation !== this.generation) return;
      this.emitter.emit("connect_error", { error });
      // A handler may have called close(): that ends the client, so no reconnect then.
      if (generation !== this.generation) return;
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.liveness.awaitOpen(this.options.connectTimeoutMs ?? 10_000);
    socket.onmessage = (event) => {
      if (this.socket === socket && typeof event.data === "string") this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.lost(event.code, event.reason ?? "");
    };
    socket.onerror = () => {}; // a close event always follows
  }

  private receive(text: string): void {
    this.liveness.touch();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    if (typeof frame !== "object" || frame === null || typeof frame.type !== "string") return;
    switch (frame.type) {
      case "connected":
        this.currentUserId = frame.user_id;
        this.currentConnectionId = frame.connection_id;
        this.attempt = 0;
        this.liveness.watch(this.heartbeatIntervalMs(frame.heartbeat_s));
        this.setState("open");
        for (const waiter of this.openWaiters.splice(0)) waiter.resolve();
        this.flush();
        this.emitter.emit("connected", frame);
        return;
      case "reply":
      case "error":
        if (this.requests.settle(frame)) return;
        break;
      case "message":
        this.sequencer.onMessage(frame as Message);
        return;
      case "sync.gap":
        this.sequencer.onGap(frame.room_id, frame.from_seq, frame.to_seq);
        break;
      case "sync.complete":
        // The connect replay starts at the user's last_ack; rooms the app has seen further than
        // that (or seeded) are synced from their own lastSeq (docs/reference/websocket.md, "Replay").
        for (const roomId of this.sequencer.knownRooms()) this.sequencer.catchUp(roomId);
        // Edits, deletions, reactions and reply counts made while away are not replayed: page them.
        for (const roomId of this.tracker.rooms()) void this.tracker.catchUp(roomId);
        break;
      case "message.edited":
      case "message.deleted":
      case "reaction.added":
      case "reaction.removed":
      case "thread.updated":
        this.tracker.noteLive(frame.room_id);
        break;
      case "server.shutdown":
        this.shutdownHintMs = frame.reconnect_after_ms;
        break;
      case "member.left":
        if (frame.user_id === this.currentUserId) {
          this.sequencer.forget(frame.room_id);
          this.tracker.untrack(frame.room_id);
        }
        break;
    }
    // Unknown future frame types are passed through untyped rather than dropped.
    this.emitter.emit(frame.type as keyof ChatClientEvents, frame as never);
  }

  // Sends every queued request, in call order.
  private flush(): void {
    const socket = this.socket;
    if (socket !== undefined && socket.readyState === OPEN) this.requests.flush((text) => socket.send(text));
  }

  private lost(code: number, reason: string): void {
    // Expired or revoked (4001), or refused before `connected` (e.g. 401 at the handshake): fetch a new token.
    if (code === TOKEN_EXPIRED_CLOSE_CODE || this.currentState !== "open") this.tokens?.invalidate();
    this.socket = undefined;
    this.liveness.stop();
    const willReconnect = this.options.reconnect !== false && !this.noReconnect.has(code);
    const lostError = new ChatClientError("disconnected", `connection closed (${code}) before the reply`);
    this.requests.socketLost(willReconnect, lostError);
    this.emitter.emit("close", { code, reason, willReconnect });
    if (willReconnect) this.scheduleReconnect();
    else this.finish(`connection closed (${code}${reason === "" ? "" : ` ${reason}`})`);
  }

  private scheduleReconnect(): void {
    if (this.options.reconnect === false) {
      this.finish("connection failed");
      return;
    }
    const delayMs =
      this.shutdownHintMs !== undefined
        ? shutdownDelayMs(this.shutdownHintMs, this.random)
        : backoffDelayMs(
            this.attempt,
            {
              baseDelayMs: this.options.reconnectBaseDelayMs ?? 250,
              maxDelayMs: this.options.reconnectMaxDelayMs ?? 10_000,
            },
            this.random,
          );
    this.shutdownHintMs = undefined;
    this.attempt++;
    this.setState("reconnecting", { attempt: this.attempt, delayMs });
    const generation = this.generation;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (generation === this.generation && this.currentState === "reconnecting") void this.openSocket();
    }, delayMs);
  }

  // Ends the client: no socket, no timers, every waiter and request rejected.
  private finish(message: string): void {
    this.generation++;
    this.socket = undefined;
    this.shutdownHintMs = undefined;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.liveness.stop();
    const error = new ChatClientError("disconnected", message);
    this.requests.rejectAll(error);
    for (const waiter of this.openWaiters.splice(0)) waiter.reject(error);
    this.setState("closed");
  }

  private heartbeatIntervalMs(heartbeatS: unknown): number {
    if (this.options.heartbeatIntervalMs !== undefined) return this.options.heartbeatIntervalMs;
    return typeof heartbeatS === "number" && heartbeatS > 0 ? heartbeatS * 1000 : 30_000;
  }

  private sendRaw(text: string): void {
    const socket = this.socket;
    try {
      if (socket !== undefined && socket.readyState === OPEN) socket.send(text);
    } catch {
      // The socket is closing; its close event drives the reconnect.
    }
  }

  // A silent or half-open socket: close() may wait long for a peer that is gone, so stop listening
  // to it now and go through the normal reconnect path.
  private abandon(reason: string): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.socket = undefined;
    try {
      socket.close(GIVE_UP_CLOSE_CODE, reason);
    } catch {
      // Already closing.
    }
    this.lost(GIVE_UP_CLOSE_CODE, reason);
  }
}

/** Creates a ChatClient (not yet connected: call `connect()`). */
export function createChatClient(options: ChatClientOptions): ChatClient {
  return new ChatClient(options);
}

// `wss://host/base/ws?x` -> `https://host/base`: the REST API is served beside the socket.
function restBaseOf(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  u.search = "";
  u.hash = "";
  u.pathname = u.pathname.replace(/\/ws\/?$/, "");
  return u.toString().replace(/\/+$/, "");
}
