// Row -> public object conversions (rows carry JSON values already: only the fields are picked).
import type { AttachmentUrls } from "../blobs/url-signer";
import type { StoredAttachment } from "../storage/attachment-store";
import type { MessageRow } from "../storage/message-store";
import type { RoomRow } from "../storage/room-store";
import type { Attachment, Message, Room } from "./types";

/** docs/reference/rest.md Room from a row. */
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

/** The metadata a message keeps of an attachment (only these fields, whatever else `a` carries). */
export function storedAttachment(a: StoredAttachment): StoredAttachment {
  return {
    attachment_id: a.attachment_id,
    room_id: a.room_id,
    uploader_id: a.uploader_id,
    filename: a.filename,
    content_type: a.content_type,
    size: a.size,
    sha256: a.sha256,
    created_at: a.created_at,
  };
}

/** docs/reference/rest.md Attachment: the stored metadata plus a freshly signed url (url "" when no signer is given). */
export function toAttachment(a: StoredAttachment, urls?: AttachmentUrls): Attachment {
  const signed = urls ? urls.sign(a.attachment_id) : { url: "", url_expires_at: a.created_at };
  return { ...storedAttachment(a), ...signed };
}

/** docs/reference/rest.md Message from a row; attachment urls are signed with `urls`. */
export function toMessage(m: MessageRow, urls?: AttachmentUrls): Message {
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
    attachments: m.attachments.length === 0 ? [] : m.attachments.map((a) => toAttachment(a, urls)),
  };
}
