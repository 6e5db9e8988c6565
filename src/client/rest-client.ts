// REST calls of a browser or app talking to ChatAPI directly: with a signed user token
// (`Authorization: Bearer <jwt>`, from getToken, refreshed before expiry) or, on a server, with the
// API key and the acting user. Minimal on purpose: what a chat screen needs besides the WebSocket.
import { ChatClientError, type ChatClientErrorCode } from "./errors.ts";
import { isJwt, TokenCache } from "./token-cache.ts";
import type { AckReply, Attachment, ListRoomsReply, Message, Room, RoomType, SyncReply } from "./types.ts";
import { randomId } from "./util.ts";

/** Options of `createRestClient`: the API's base URL, and either `getToken` (JWT) or `apiKey` + `userId`. */
export type RestClientOptions = {
  /** `https://chat.example.com` (paths are appended); in a browser a relative base like `/` works. */
  baseUrl: string;
  /** fetch override (tests, custom agents). Default: the global fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
} & ({ getToken: () => Promise<string>; tokens?: undefined; apiKey?: undefined; userId?: undefined } | { tokens: TokenCache; getToken?: undefined; apiKey?: undefined; userId?: undefined } | { apiKey: string; userId: string; getToken?: undefined; tokens?: undefined });

/** History window (same rules as `GET /rooms/{room_id}/messages`). */
export interface HistoryOptions {
  afterSeq?: number;
  beforeSeq?: number;
  limit?: number;
}

/** Body of `createRoom`. */
export interface CreateRoomInput {
  type: RoomType;
  name?: string;
  members?: string[];
  metadata?: unknown;
}

/** A REST client; every method rejects with a ChatClientError carrying the API's error code and HTTP status. */
export class RestClient {
  private readonly tokens: TokenCache | undefined;
  private readonly base: string;

  constructor(private readonly options: RestClientOptions) {
    this.tokens = options.tokens ?? (options.getToken ? new TokenCache(options.getToken) : undefined);
    this.base = options.baseUrl.replace(/\/+$/, "");
  }

  /** One call; resolves with the parsed JSON body (undefined for 204). A refused JWT is refreshed and retried once. */
  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const first = await this.send(method, path, body, headers);
    if (first.status === 401 && this.tokens !== undefined) {
      // The tenant's keys may have changed since the token was issued: one retry with a fresh token.
      this.tokens.invalidate();
      return this.read<T>(await this.send(method, path, body, headers));
    }
    return this.read<T>(first);
  }

  /** `GET /rooms/{room_id}/messages`: a history page, ascending by seq. */
  getMessages(roomId: string, options: HistoryOptions = {}): Promise<SyncReply> {
    const q = new URLSearchParams();
    if (options.afterSeq !== undefined) q.set("after_seq", String(options.afterSeq));
    if (options.beforeSeq !== undefined) q.set("before_seq", String(options.beforeSeq));
    if (options.limit !== undefined) q.set("limit", String(options.limit));
    const qs = q.toString();
    return this.request("GET", `/rooms/${encodeURIComponent(roomId)}/messages${qs ? `?${qs}` : ""}`);
  }

  /** `GET /rooms`: the caller's rooms, most recent activity first. */
  listRooms(options: { limit?: number; cursor?: string } = {}): Promise<ListRoomsReply> {
    const q = new URLSearchParams();
    if (options.limit !== undefined) q.set("limit", String(options.limit));
    if (options.cursor !== undefined) q.set("cursor", options.cursor);
    const qs = q.toString();
    return this.request("GET", `/rooms${qs ? `?${qs}` : ""}`);
  }

  /** `GET /rooms/{room_id}`. */
  getRoom(roomId: string): Promise<Room> {
    return this.request("GET", `/rooms/${encodeURIComponent(roomId)}`);
  }

  /** `POST /rooms` (an existing DM is returned as it is). */
  createRoom(input: CreateRoomInput): Promise<Room> {
    return this.request("POST", "/rooms", input);
  }

  /**
   * `POST /rooms/{room_id}/messages` with a client_msg_id (generated unless given), so a retry never
   * duplicates. `attachments`: ids from uploadAttachment (then `content` may be "").
   */
  sendMessage(roomId: string, content: string, options: { meta?: unknown; clientMsgId?: string; attachments?: string[] } = {}): Promise<Message> {
    const body: Record<string, unknown> = { content, client_msg_id: options.clientMsgId ?? randomId() };
    if ("meta" in options) body.meta = options.meta;
    if (options.attachments !== undefined) body.attachments = options.attachments;
    return this.request("POST", `/rooms/${encodeURIComponent(roomId)}/messages`, body);
  }

  /**
   * `POST /rooms/{room_id}/attachments`: uploads a file (a File keeps its name; a Blob needs
   * `filename`); resolves with the Attachment to pass in `sendMessage(..., {attachments: [id]})`.
   */
  uploadAttachment(roomId: string, file: Blob, filename?: string): Promise<Attachment> {
    const form = new FormData();
    const name = filename ?? (typeof (file as { name?: unknown }).name === "string" ? (file as File).name : "file");
    form.append("file", file, name);
    return this.request("POST", `/rooms/${encodeURIComponent(roomId)}/attachments`, form);
  }

  /** `GET /search`: messages matching `q` (words, `prefix*`, `"phrases"`), newest first. */
  search(q: string, options: { roomId?: string; limit?: number; cursor?: string } = {}): Promise<{ messages: Message[]; next_cursor: string | null }> {
    const p = new URLSearchParams({ q });
    if (options.roomId !== undefined) p.set("room_id", options.roomId);
    if (options.limit !== undefined) p.set("limit", String(options.limit));
    if (options.cursor !== undefined) p.set("cursor", options.cursor);
    return this.request("GET", `/search?${p.toString()}`);
  }

  /** The absolute URL of an Attachment's signed `url` (for `<img src>` or a link). */
  attachmentUrl(a: Pick<Attachment, "url">): string {
    return /^https?:/i.test(a.url) ? a.url : this.base + a.url;
  }

  /** `POST /acks`. */
  ack(roomId: string, seq: number): Promise<AckReply> {
    return this.request("POST", "/acks", { room_id: roomId, seq });
  }

  private async send(method: string, path: string, body: unknown, extra: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...extra };
    if (this.tokens !== undefined) {
      const token = await this.tokens.get();
      if (!isJwt(token)) throw new ChatClientError("unauthorized", "REST calls need a signed user token (JWT) from getToken, or the API key");
      headers.Authorization = `Bearer ${token}`;
    } else if (this.options.apiKey !== undefined) {
      headers["X-API-Key"] = this.options.apiKey;
      headers["X-User-Id"] = this.options.userId!;
    }
    const init: RequestInit = { method, headers };
    if (body instanceof FormData) {
      // fetch writes the multipart Content-Type with its boundary.
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const doFetch = this.options.fetch ?? ((input: string, i: RequestInit) => fetch(input, i));
    try {
      return await doFetch(this.base + path, init);
    } catch (error) {
      throw new ChatClientError("disconnected", `request failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async read<T>(res: Response): Promise<T> {
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed as T;
    const err = (parsed ?? {}) as { error?: string; message?: string; request_id?: string; details?: []; retry_after_ms?: number };
    const retryAfter = Number(res.headers.get("retry-after"));
    const extra: { status: number; requestId?: string; details?: []; retryAfterMs?: number } = { status: res.status };
    const requestId = err.request_id ?? res.headers.get("x-request-id") ?? undefined;
    if (requestId !== undefined) extra.requestId = requestId;
    if (Array.isArray(err.details)) extra.details = err.details;
    if (typeof err.retry_after_ms === "number") extra.retryAfterMs = err.retry_after_ms;
    else if (retryAfter > 0) extra.retryAfterMs = retryAfter * 1000;
    const code = (err.error ?? "internal_error") as ChatClientErrorCode;
    throw new ChatClientError(code, err.message ?? `${res.status} ${res.statusText}`, extra);
  }
}

/** Creates a RestClient. */
export function createRestClient(options: RestClientOptions): RestClient {
  return new RestClient(options);
}
