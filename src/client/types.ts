// Wire types of the ChatAPI WebSocket protocol (API.md sections 3 "Objects" and 4), shared by the
// server (re-exported from src/ws/frames.ts) and the browser client. Type-only: no runtime imports,
// so a browser bundle of src/client/ never pulls server code. Field names are exactly API.md's.

/** RFC 3339 UTC timestamp with milliseconds, e.g. `2026-11-21T23:00:31.665Z`. */
export type Timestamp = string;

/** Error codes of the API.md catalog; a WebSocket `error` frame carries one of them. */
export type ApiErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limit_exceeded"
  | "internal_error"
  | "unavailable";

/** One schema violation; `path` is a JSON pointer into the request (e.g. `/data/room_id`). */
export interface ErrorDetail {
  path: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Objects

/** A message; tombstones keep their `seq` and have `deleted_at` set, `content: ""`, `meta: null`. */
export interface Message {
  message_id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  content: string;
  meta: unknown;
  client_msg_id: string | null;
  created_at: Timestamp;
  edited_at: Timestamp | null;
  deleted_at: Timestamp | null;
}

/** Room kinds of API.md section 3. */
export type RoomType = "dm" | "group" | "channel";

/** A room; `metadata` is any JSON value returned exactly as given. */
export interface Room {
  room_id: string;
  type: RoomType;
  name: string | null;
  metadata: unknown;
  last_seq: number;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A room as the calling user sees it in lists (adds the caller's ack state). */
export interface RoomSummary extends Room {
  last_ack: number;
  unread_count: number;
  last_message: Message | null;
}

/** A notification addressed to the user; `payload` is any JSON value. */
export interface Notification {
  notification_id: string;
  topic: string;
  payload: unknown;
  created_at: Timestamp;
  acked_at: Timestamp | null;
}

/** A member's role in a room. */
export type MemberRole = "owner" | "admin" | "member";

// ---------------------------------------------------------------------------------------------
// Client -> server frames: `{type, id?, data?}`

/** `data` of `send_message`; `content` byte limits and the 4 KiB `meta` limit are server-checked. */
export interface SendMessageData {
  room_id: string;
  content: string;
  meta?: unknown;
  client_msg_id?: string;
}

/** `data` of `edit_message` (sender only). */
export interface EditMessageData {
  room_id: string;
  message_id: string;
  content?: string;
  meta?: unknown;
}

/** `data` of `delete_message` (sender, or room owner/admin). */
export interface DeleteMessageData {
  room_id: string;
  message_id: string;
}

/** `data` of `ack`: `seq` must be 0..last_seq of the room. */
export interface AckData {
  room_id: string;
  seq: number;
}

/** `data` of `typing.start` / `typing.stop`. */
export interface TypingData {
  room_id: string;
}

/** `data` of `sync`; same rules as REST history (`limit` 1..200, default 50). */
export interface SyncData {
  room_id: string;
  after_seq?: number;
  before_seq?: number;
  limit?: number;
}

/** `data` of `list_rooms`. */
export interface ListRoomsData {
  limit?: number;
  cursor?: string;
}

/** `data` of `notification.ack`. */
export interface NotificationAckData {
  notification_id: string;
}

/** `data` of `ping` (none; an empty object when present). */
export type PingData = Record<string, never>;

/** Reply `data` of `ack`. */
export interface AckReply {
  room_id: string;
  last_ack: number;
  unread_count: number;
}

/** Reply `data` of `sync`. */
export interface SyncReply {
  messages: Message[];
  has_more: boolean;
}

/** Reply `data` of `list_rooms`. */
export interface ListRoomsReply {
  rooms: RoomSummary[];
  next_cursor: string | null;
}

/** Reply `data` of requests that answer `{}`. */
export type EmptyReply = Record<string, never>;

/** Every client frame type with its `data` and its reply `data` (API.md section 4 table). */
export interface ClientRequests {
  send_message: { data: SendMessageData; reply: Message };
  edit_message: { data: EditMessageData; reply: Message };
  delete_message: { data: DeleteMessageData; reply: EmptyReply };
  ack: { data: AckData; reply: AckReply };
  "typing.start": { data: TypingData; reply: EmptyReply };
  "typing.stop": { data: TypingData; reply: EmptyReply };
  sync: { data: SyncData; reply: SyncReply };
  list_rooms: { data: ListRoomsData; reply: ListRoomsReply };
  "notification.ack": { data: NotificationAckData; reply: EmptyReply };
  ping: { data: PingData; reply: EmptyReply };
}

/** A client frame type. */
export type ClientFrameType = keyof ClientRequests;

/** A validated client frame, discriminated by `type`; `data` is always present (`{}` for ping). */
export type ClientFrame = {
  [K in ClientFrameType]: { type: K; id?: string; data: ClientRequests[K]["data"] };
}[ClientFrameType];

// ---------------------------------------------------------------------------------------------
// Server -> client frames (flat, except `reply`)

/** First frame on every new socket. */
export interface ConnectedFrame {
  type: "connected";
  user_id: string;
  connection_id: string;
  heartbeat_s: number;
}

/** A new (or replayed) message; replayed tombstones have `deleted_at` set. */
export interface MessageFrame extends Message {
  type: "message";
}

/** A message was edited; carries the whole updated Message. */
export interface MessageEditedFrame extends Message {
  type: "message.edited";
}

/** A message was deleted; carries the tombstone. */
export interface MessageDeletedFrame extends Message {
  type: "message.deleted";
}

/** A member acknowledged up to `seq`. */
export interface AckReceivedFrame {
  type: "ack.received";
  room_id: string;
  seq: number;
  user_id: string;
}

/** Another member started or stopped typing. */
export interface TypingFrame {
  type: "typing";
  room_id: string;
  user_id: string;
  action: "start" | "stop";
}

/** A user sharing a room went online or offline. */
export interface PresenceUpdateFrame {
  type: "presence.update";
  user_id: string;
  status: "online" | "offline";
  last_seen: Timestamp;
}

/** A notification for this user (live, or unacked ones replayed on connect). */
export interface NotificationFrame {
  type: "notification";
  notification_id: string;
  topic: string;
  payload: unknown;
  created_at: Timestamp;
}

/**
 * A room's name or metadata changed; carries the Room fields. A flat frame cannot hold both the
 * frame `type` and the room's `type`: the frame type wins (a room's kind never changes).
 */
export interface RoomUpdatedFrame extends Omit<Room, "type"> {
  type: "room.updated";
}

/** A user joined a room. */
export interface MemberJoinedFrame {
  type: "member.joined";
  room_id: string;
  user_id: string;
  role: MemberRole;
}

/** A user left or was removed from a room. */
export interface MemberLeftFrame {
  type: "member.left";
  room_id: string;
  user_id: string;
  role: MemberRole;
}

/** Replay skipped seqs `from_seq..to_seq` (inclusive) of a room; page them with `sync`. */
export interface SyncGapFrame {
  type: "sync.gap";
  room_id: string;
  from_seq: number;
  to_seq: number;
}

/** The connect replay is over; `rooms` counts rooms that got any replay frame. */
export interface SyncCompleteFrame {
  type: "sync.complete";
  rooms: number;
}

/** The server is shutting down; reconnect after about `reconnect_after_ms`. */
export interface ServerShutdownFrame {
  type: "server.shutdown";
  reconnect_after_ms: number;
}

/** Answer to a client frame that carried `id`. */
export interface ReplyFrame<D = unknown> {
  type: "reply";
  id: string;
  data: D;
}

/** A failed client frame (`id` present when the frame had a string id) or a connection error. */
export interface ErrorFrame {
  type: "error";
  id?: string;
  error: ApiErrorCode;
  message: string;
  details?: ErrorDetail[];
  retry_after_ms?: number;
}

/** Answer to `ping`. */
export interface PongFrame {
  type: "pong";
}

/** Every server frame, by `type`. */
export interface ServerFrameMap {
  connected: ConnectedFrame;
  message: MessageFrame;
  "message.edited": MessageEditedFrame;
  "message.deleted": MessageDeletedFrame;
  "ack.received": AckReceivedFrame;
  typing: TypingFrame;
  "presence.update": PresenceUpdateFrame;
  notification: NotificationFrame;
  "room.updated": RoomUpdatedFrame;
  "member.joined": MemberJoinedFrame;
  "member.left": MemberLeftFrame;
  "sync.gap": SyncGapFrame;
  "sync.complete": SyncCompleteFrame;
  "server.shutdown": ServerShutdownFrame;
  reply: ReplyFrame;
  error: ErrorFrame;
  pong: PongFrame;
}

/** A server frame type. */
export type ServerFrameType = keyof ServerFrameMap;

/** Any server frame, discriminated by `type`. */
export type ServerFrame = ServerFrameMap[ServerFrameType];
