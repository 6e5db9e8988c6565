// The contract of messages. Every method is scoped by tenant_id (and room_id where given).
import type { StoredAttachment } from "./attachment-store";
import type { Instant, JsonValue } from "./store";

/** A message row. `meta` is the JSON value given (null when none). Tombstones: content "", meta null, deleted_at set. */
export interface MessageRow {
  tenant_id: string;
  room_id: string;
  seq: number;
  message_id: string;
  sender_id: string;
  content: string;
  meta: JsonValue;
  client_msg_id: string | null;
  created_at: Instant;
  edited_at: Instant | null;
  deleted_at: Instant | null;
  /** The attachments' metadata (kept with the message; [] when none and on tombstones). */
  attachments: StoredAttachment[];
}

/** Message reads. Range reads return ascending seq order. */
export interface MessageReads {
  byId(tenantId: string, messageId: string): Promise<MessageRow | null>;
  bySeq(tenantId: string, roomId: string, seq: number): Promise<MessageRow | null>;
  byClientId(tenantId: string, roomId: string, senderId: string, clientMsgId: string): Promise<MessageRow | null>;
  /** Seqs > afterSeq (and < beforeSeq when given), ascending, at most `limit`. */
  after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number): Promise<MessageRow[]>;
  /** The `limit` messages just below beforeSeq (or the latest when null), ascending. */
  before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number): Promise<MessageRow[]>;
  /** Messages with seq > afterSeq, not deleted, not sent by userId. */
  unreadCount(tenantId: string, roomId: string, afterSeq: number, userId: string): Promise<number>;
}

/**
 * Messages inside a transaction.
 * Unique: (tenant_id, room_id, seq); (tenant_id, message_id); (tenant_id, room_id, sender_id,
 * client_msg_id) when client_msg_id is set. Seqs come from RoomStore.nextSeq in the same transaction.
 */
export interface MessageStore extends MessageReads {
  /**
   * Inserts a message. A repeated (room, sender, client_msg_id) throws
   * UniqueViolationError("message_client_id"): idempotency holds by constraint even when two sends
   * race past the byClientId check (the caller reads the winner after the rollback).
   */
  insert(row: MessageRow): Promise<void>;
  /** Replaces content and meta and sets edited_at; false when no such message. */
  edit(tenantId: string, messageId: string, content: string, meta: JsonValue, editedAt: Instant): Promise<boolean>;
  /** Turns the message into a tombstone (content "", meta null, attachments [], deleted_at); keeps its seq. False when no such message. */
  tombstone(tenantId: string, messageId: string, deletedAt: Instant): Promise<boolean>;
}
