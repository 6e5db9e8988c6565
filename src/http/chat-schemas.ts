// Typebox schemas of the chat objects (docs/reference/rest.md Objects) and their inputs.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";

// JSON bodies and responses use TypeBox's plain Integer. Elysia's t.Integer is a Transform that also
// accepts numeric strings ("7"): right for query strings, but in a body it lets "7" through, and in a
// response schema it makes Elysia run TypeBox's slow generic Encode over every response.
// Response timestamps carry no `format`: checking date-time on every field of every message cost
// more than the query (the description documents the format).
const StrictInt = Type.Integer;
import { AnyJson } from "./schemas";

export const RoomIdParam = t.String({ minLength: 1, maxLength: 64, description: "Room id (UUIDv7)" });
export const MessageIdParam = t.String({ minLength: 1, maxLength: 64, description: "Message id (UUIDv7)" });
export const UserIdParam = t.String({ minLength: 1, maxLength: 128, description: "User id" });
export const UserId = t.String({ minLength: 1, maxLength: 128 });
const Timestamp = t.String({ description: "RFC 3339 UTC with milliseconds (date-time)" });
const NullableTimestamp = t.Union([Timestamp, t.Null()]);

export const RoomSchema = t.Object({
  room_id: t.String(),
  type: t.Union([t.Literal("dm"), t.Literal("group"), t.Literal("channel")]),
  name: t.Union([t.String(), t.Null()]),
  metadata: AnyJson,
  last_seq: Type.Integer({ minimum: 0 }),
  created_by: t.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const ReactionSummarySchema = t.Object({
  reaction: t.String(),
  count: Type.Integer({ minimum: 1 }),
  user_ids: t.Array(t.String(), { description: "The first 10 current reactors, in the order they added it" }),
});

export const AttachmentSchema = t.Object({
  attachment_id: t.String(),
  room_id: t.String(),
  uploader_id: t.String(),
  filename: t.String({ description: "The uploaded part's file name without directories (1..255 characters)" }),
  content_type: t.String({ description: "The part's media type (type/subtype), application/octet-stream when none or malformed" }),
  size: Type.Integer({ minimum: 1, description: "Bytes" }),
  sha256: t.String({ description: "SHA-256 of the bytes, lowercase hex (also the download's ETag)" }),
  created_at: Timestamp,
  url: t.String({ description: "Signed download path (absolute path + query), valid until url_expires_at" }),
  url_expires_at: Timestamp,
});

export const MessageSchema = t.Object({
  message_id: t.String(),
  room_id: t.String(),
  seq: Type.Integer({ minimum: 1 }),
  sender_id: t.String(),
  content: t.String({ description: "Empty for a deleted message (tombstone)" }),
  meta: AnyJson,
  client_msg_id: t.Union([t.String(), t.Null()]),
  created_at: Timestamp,
  edited_at: NullableTimestamp,
  deleted_at: NullableTimestamp,
  parent_id: t.Union([t.String(), t.Null()], { description: "The thread root this message replies to; null unless a reply" }),
  reply_count: Type.Integer({ minimum: 0, description: "Non-deleted replies (thread roots; 0 for replies)" }),
  last_reply_at: t.Union([Timestamp, t.Null()], { description: "created_at of the newest non-deleted reply; null when none" }),
  mentions: t.Array(t.String(), { description: "Mentioned user ids" }),
  reactions: t.Array(ReactionSummarySchema, { description: "In the order each reaction was first added; only counts > 0" }),
  attachments: t.Array(AttachmentSchema, { description: "Files sent with the message; [] when none and on a deleted message" }),
});

export const RoomSummarySchema = t.Composite([
  RoomSchema,
  t.Object({
    last_ack: Type.Integer({ minimum: 0 }),
    unread_count: Type.Integer({ minimum: 0 }),
    unread_mentions: Type.Integer({ minimum: 0, description: "Unread messages (the unread_count rule) that mention the caller" }),
    last_message: t.Union([MessageSchema, t.Null()]),
  }),
]);

export const RoleSchema = t.Union([t.Literal("owner"), t.Literal("admin"), t.Literal("member")]);
export const GrantableRole = t.Union([t.Literal("member"), t.Literal("admin")]);

export const MemberSchema = t.Object({
  user_id: t.String(),
  role: RoleSchema,
  joined_at: Timestamp,
  last_ack: Type.Integer({ minimum: 0, description: "The member's read position (read receipts)" }),
});

export const MembersSchema = t.Object({ members: t.Array(MemberSchema) });

export const CreateRoomBody = t.Object(
  {
    type: t.Union([t.Literal("dm"), t.Literal("group"), t.Literal("channel")]),
    name: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 200 }), t.Null()])),
    metadata: t.Optional(AnyJson),
    members: t.Optional(t.Array(UserId, { maxItems: 1000, description: "Other members; the caller is always a member" })),
  },
  { additionalProperties: false },
);

export const MentionsSchema = t.Array(UserId, { maxItems: 1000, description: "0..50 distinct user ids, each a member of the room (repeats count once)" });

export const EditMessageBody = t.Object(
  { content: t.Optional(t.String()), meta: t.Optional(AnyJson), mentions: t.Optional(MentionsSchema) },
  { additionalProperties: false },
);

export const SendMessageBody = t.Object(
  {
    content: t.Optional(t.String({ description: "1..max_message_bytes UTF-8 bytes (tenant config, default 4000); may be omitted or \"\" when attachments names at least one" })),
    meta: t.Optional(AnyJson),
    client_msg_id: t.Optional(t.String({ minLength: 1, maxLength: 64, description: "Idempotency key (same namespace as the Idempotency-Key header)" })),
    parent_id: t.Optional(t.String({ minLength: 1, maxLength: 64, description: "Makes this a reply to that thread root (same room, not a reply, not deleted)" })),
    mentions: t.Optional(MentionsSchema),
    attachments: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 64 }), { maxItems: 10, description: "0..10 attachment ids uploaded by the sender to this room and not attached elsewhere" })),
  },
  { additionalProperties: false },
);

export const HistoryQuery = t.Object({
  after_seq: t.Optional(t.Integer({ minimum: 0 })),
  before_seq: t.Optional(t.Integer({ minimum: 0 })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: undefined })),
  top_level: t.Optional(t.Boolean({ description: "true: only messages that are not replies" })),
});

export const RepliesQuery = t.Object({
  after_seq: t.Optional(t.Integer({ minimum: 0 })),
  before_seq: t.Optional(t.Integer({ minimum: 0 })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: undefined })),
});

export const HistorySchema = t.Object({ messages: t.Array(MessageSchema), has_more: t.Boolean() });

export const AckBody = t.Object({ room_id: RoomIdParam, seq: StrictInt({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false });
export const AckSchema = t.Object({ room_id: t.String(), last_ack: Type.Integer({ minimum: 0 }), unread_count: Type.Integer({ minimum: 0 }) });

export const SearchQuery = t.Object({
  q: t.String({ description: "1..256 characters: words (AND), `word*` prefixes, `\"a phrase\"`; every other character is plain text" }),
  room_id: t.Optional(RoomIdParam),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: undefined })),
  cursor: t.Optional(t.String({ minLength: 1, maxLength: 512, description: "next_cursor of the previous page" })),
});

export const SearchSchema = t.Object({
  messages: t.Array(MessageSchema),
  next_cursor: t.Union([t.String(), t.Null()], { description: "Opaque; null on the last page" }),
});
