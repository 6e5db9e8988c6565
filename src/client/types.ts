// Wire types of the ChatAPI WebSocket protocol (docs/reference/rest.md "Objects" and 4), shared by the
// server (re-exported from src/ws/frames.ts) and the browser client. Type-only: no runtime imports,
// so a browser bundle of src/client/ never pulls server code. Field names are exactly docs/reference/rest.md's.

/** RFC 3339 UTC timestamp with milliseconds, e.g. `2026-11-21T23:00:31.665Z`. */
export type Timestamp = string;

/** Error codes of the docs/reference/rest.md catalog; a WebSocket `error` frame carries one of them. */
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
  /** The thread root this message replies to; null for top-level messages. */
  parent_id: string | null;
  /** Non-deleted replies (thread roots; 0 for replies). */
  reply_count: number;
  /** `created_at` of the newest non-deleted reply; null when none. */
  last_reply_at: Timestamp | null;
  /** Mentioned user ids. */
  mentions: string[];
  /** Reactions in the order each was first added; `user_ids` are the first 10 reactors. */
  reactions: ReactionSummary[];
  /** Files sent with the message ([] when none, and on a deleted message). */
  attachments: Attachment[];
}

/** One reaction of a message: its count and its first 10 current reactors, in order. */
export interface ReactionSummary {
  reaction: string;
  count: number;
  user_ids: string[];
}

/** One user's reaction, as `GET .../reactions` lists it (oldest first). */
export interface Reaction {
  reaction: string;
  user_id: string;
  created_at: Timestamp;
}

/** An uploaded file (docs/reference/rest.md, Attachment); `url` is a signed download path valid until `url_expires_at`. */
export interface Attachment {
  attachment_id: string;
  room_id: string;
  uploader_id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  created_at: Timestamp;
  url: string;
  url_expires_at: Timestamp;
}

/** Room kinds of docs/reference/rest.md. */
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
  /** Unread messages (the `unread_count` rule) whose `mentions` include the caller. */
  unread_mentions: number;
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
  /** May be omitted or "" when `attachments` names at least one. */
  content?: string;
  meta?: unknown;
  client_msg_id?: string;
  /** Makes the message a reply to this thread root. */
  parent_id?: string;
  /** 0..50 distinct user ids, each a member of the room. */
  mentions?: string[];
  /** 0..10 attachment ids from uploadAttachment (uploaded by the sender to this room). */
  attachments?: string[];
}

/** `data` of `edit_message` (sender only); `mentions`, when given, replaces them. */
export interface EditMessageData {
  room_id: string;
  message_id: string;
  content?: string;
  meta?: unknown;
  mentions?: string[];
}

/** `data` of `react` / `unreact`. */
export interface ReactData {
  room_id: string;
  message_id: string;
  reaction: string;
}

/** `data` of `changes`; without `since`, the reply has no messages and the room's present cursor. */
export interface ChangesData {
  room_id: string;
  since?: string;
  limit?: number;
}

/** Reply `data` of `changes` (and the body of `GET /rooms/{room_id}/changes`). */
export interface ChangesReply {
  messages: Message[];
  next_cursor: string;
  has_more: boolean;
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

/** Every client frame type with its `data` and its reply `data` (docs/reference/websocket.md table). */
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
  react: { data: ReactData; reply: Message };
  unreact: { data: ReactData; reply: EmptyReply };
  changes: { data: ChangesData; reply: ChangesReply };
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

/** A reaction was added to (or removed from) a message; `reactions` is the message's new summary. */
export interface ReactionFrame {
  type: "reaction.added" | "reaction.removed";
  room_id: string;
  message_id: string;
  seq: number;
  user_id: string;
  reaction: string;
  reactions: ReactionSummary[];
}

/** A thread root's reply count changed (a reply was sent or deleted). */
export interface ThreadUpdatedFrame {
  type: "thread.updated";
  room_id: string;
  /** The thread root. */
  message_id: string;
  reply_count: number;
  last_reply_at: Timestamp | null;
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
  "reaction.added": ReactionFrame & { type: "reaction.added" };
  "reaction.removed": ReactionFrame & { type: "reaction.removed" };
  "thread.updated": ThreadUpdatedFrame;
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
