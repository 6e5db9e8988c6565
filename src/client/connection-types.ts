// Options and client-side event types of ChatClient (the wire types are in types.ts).
import type { ClientFrameType, ClientRequests, ServerFrameMap } from "./types.ts";

/** Connection lifecycle: `closed` is both "not started" and "ended for good". */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** The part of the standard WebSocket the client uses (browser, Bun, or a test double). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a socket; `headers` is set only on the API-key path (Bun's WebSocket accepts headers). */
export type WebSocketFactory = (url: string, headers: Record<string, string> | undefined) => WebSocketLike;

/** Options shared by both authentication modes. */
export interface ChatClientBaseOptions {
  /** `ws(s)://host/ws`; http(s) URLs and (in a browser) relative URLs are accepted. */
  url: string;
  /** Reply timeout per request, counted from the call (queued time included). Default 10 000. */
  requestTimeoutMs?: number;
  /** Reconnect automatically (default true). */
  reconnect?: boolean;
  /** Backoff: delay ceiling starts here and doubles per failed attempt. Default 250. */
  reconnectBaseDelayMs?: number;
  /** Backoff: the ceiling never exceeds this. Default 10 000. */
  reconnectMaxDelayMs?: number;
  /** Close codes after which the client stays closed. Default [1008] (policy: auth, too many sockets). */
  noReconnectCloseCodes?: readonly number[];
  /** Time from opening a socket to its `connected` frame before giving up on it. Default 10 000. */
  connectTimeoutMs?: number;
  /** Idle time before the client pings; twice this with no frame drops the socket. Default: the
   * server's `heartbeat_s`; 0 disables. Browsers cannot see WebSocket-level pings, hence this. */
  heartbeatIntervalMs?: number;
  /** Page size of gap-filling `sync` requests, 1..200. Default 200. */
  syncPageSize?: number;
  /** Most gap-filling `sync` requests in flight at once. Default 4. */
  maxConcurrentSyncs?: number;
  /** Random source in [0, 1) for jitter (tests pin it). Default Math.random. */
  random?: () => number;
  /** Socket constructor override. Default: the global WebSocket. */
  webSocketFactory?: WebSocketFactory;
  /** Base URL of `client.rest`. Default: `url` with http(s) and without the trailing `/ws`. */
  restUrl?: string;
}

/** Server-side (Bun) auth: the tenant key and the acting user travel as handshake headers. */
export interface ApiKeyAuth {
  apiKey: string;
  userId: string;
  getToken?: undefined;
  tokenRefreshBeforeMs?: undefined;
}

/**
 * Browser auth: `getToken` returns either a single-use token (`POST /ws/token`, fetched again for
 * every connect) or a signed user token (JWT), reused for the socket and `client.rest` until shortly
 * before its `exp`, then fetched again (also after a 4001 close or a refused call).
 */
export interface TokenAuth {
  getToken: () => Promise<string>;
  /** Fetch a new JWT this long before its exp (at most half its remaining life). Default 60 000. */
  tokenRefreshBeforeMs?: number;
  apiKey?: undefined;
  userId?: undefined;
}

/** Options of `createChatClient` / `new ChatClient`. */
export type ChatClientOptions = ChatClientBaseOptions & (ApiKeyAuth | TokenAuth);

/** Per-request options. */
export interface RequestOptions {
  timeoutMs?: number;
}

/** Arguments of `request(type, ...)`: `data` is optional where every field of it is. */
export type RequestArgs<T extends ClientFrameType> = {} extends ClientRequests[T]["data"]
  ? [data?: ClientRequests[T]["data"], options?: RequestOptions]
  : [data: ClientRequests[T]["data"], options?: RequestOptions];

/** `state` event: emitted on every change, and for each scheduled reconnect (with its delay). */
export interface ClientStateEvent {
  state: ConnectionState;
  previous: ConnectionState;
  /** Reconnect attempt number (1-based), when `state` is `reconnecting`. */
  attempt?: number;
  /** Delay before that attempt. */
  delayMs?: number;
}

/** `close` event: a socket closed (by the server, the network, the heartbeat or `close()`). */
export interface ClientCloseEvent {
  code: number;
  reason: string;
  willReconnect: boolean;
}

/** `connect_error` event: getting a token or constructing the socket failed. */
export interface ConnectErrorEvent {
  error: unknown;
}

/** `sync_error` event: a gap in a room could not be filled now; it is retried on the next trigger. */
export interface SyncErrorEvent {
  room_id: string;
  error: unknown;
}

/**
 * Every event of `client.on`. Server frame types carry the frame; `message` is delivered once per
 * seq, in seq order per room; `reply` and `error` fire only for frames no pending request claimed.
 */
export interface ChatClientEvents extends ServerFrameMap {
  state: ClientStateEvent;
  close: ClientCloseEvent;
  connect_error: ConnectErrorEvent;
  sync_error: SyncErrorEvent;
}
