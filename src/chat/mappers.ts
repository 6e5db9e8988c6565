// Row -> public object conversions (rows carry JSON values already: only the fields are picked).
import type { MessageRow } from "../storage/message-store";
import type { RoomRow } from "../storage/room-store";
import type { Message, Room } from "./types";

/** API.md Room from a row. */
export function toRoom(r: RoomRow): Room {
  return {
    room_id: r.room_id,
    type: r.type,
    name: r.name,
    metadata: r.metadata,
    last_seq: r.last_seq,
    created_by: r.created_by,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** API.md Message from a row. */
export function toMessage(m: MessageRow): Message {
  return {
    message_id: m.message_id,
    room_id: m.room_id,
    seq: m.seq,
    sender_id: m.sender_id,
    content: m.content,
    meta: m.meta,
    client_msg_id: m.client_msg_id,
    created_at: m.created_at,
    edited_at: m.edited_at,
    deleted_at: m.deleted_at,
    parent_id: m.parent_id,
    reply_count: m.reply_count,
    last_reply_at: m.last_reply_at,
    mentions: m.mentions,
    reactions: m.reactions,
  };
}
