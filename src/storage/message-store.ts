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
  /** The thread root this message replies to; null for top-level messages. */
  parent_id: string | null;
  /** Non-deleted replies (roots only; 0 otherwise). */
  reply_count: number;
  /** created_at of the newest non-deleted reply; null when none. */
  last_reply_at: Instant | null;
  /** Mentioned user ids, distinct, in the order given ([] when none). */
  mentions: string[];
  /** The reactions summary ([] when none; always [] for a tombstone). */
  reactions: ReactionSummary[];
  /** The attachments' metadata (kept with the message; [] when none and on tombstones). */
  attachments: StoredAttachment[];
  /** The room's change position of the message's latest change (create, edit, delete, reaction, reply count). */
  change_seq: number;
}

/** One reaction of a message as Message.reactions shows it: user_ids are the first 10 current reactors, in order. */
export interface ReactionSummary {
  reaction: string;
  count: number;
  user_ids: string[];
}

/** One user's reaction. `ord` increases with each addition in the room (oldest first = ord ascending). */
export interface ReactionRow {
  tenant_id: string;
  message_id: string;
  reaction: string;
  user_id: string;
  ord: number;
  created_at: Instant;
}

/** Restricts a history range: the replies of one root, or only top-level messages. */
export interface MessageFilter {
  parentId?: string;
  topLevel?: boolean;
}

/** Message reads. Range reads return ascending seq order. */
export interface MessageReads {
  byId(tenantId: string, messageId: string): Promise<MessageRow | null>;
  bySeq(tenantId: string, roomId: string, seq: number): Promise<MessageRow | null>;
  byClientId(tenantId: string, roomId: string, senderId: string, clientMsgId: string): Promise<MessageRow | null>;
  /** Seqs > afterSeq (and < beforeSeq when given), ascending, at most `limit`; only those matching `filter`. */
  after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number, filter?: MessageFilter): Promise<MessageRow[]>;
  /** The `limit` messages just below beforeSeq (or the latest when null), ascending; only those matching `filter`. */
  before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number, filter?: MessageFilter): Promise<MessageRow[]>;
  /** Messages with seq > afterSeq, not deleted, not sent by userId. */
  unreadCount(tenantId: string, roomId: string, afterSeq: number, userId: string): Promise<number>;
  /** Messages whose change_seq > afterChange, in change_seq order, at most `limit` (index messages_changes). */
  changedAfter(tenantId: string, roomId: string, afterChange: number, limit: number): Promise<MessageRow[]>;
  /** Mention rows of the user with seq > afterSeq (deleted and self-sent messages have none): an index range count. */
  unreadMentions(tenantId: string, roomId: string, userId: string, afterSeq: number): Promise<number>;
  /** unreadMentions for several rooms in one statement (GET /rooms pages): room_id -> count, for every room given. */
  unreadMentionsIn(tenantId: string, userId: string, rooms: { room_id: string; after_seq: number }[]): Promise<Map<string, number>>;
  /** created_at of the newest non-deleted reply of the root; null when none. */
  latestReplyAt(tenantId: string, roomId: string, parentId: string): Promise<Instant | null>;
  /** A message's reactions, ord ascending, only `reaction` when given, ord > afterOrd when given. */
  reactions(tenantId: string, messageId: string, reaction: string | null, afterOrd: number | null, limit: number): Promise<ReactionRow[]>;
  /** True when the user holds this reaction on the message. */
  hasReaction(tenantId: string, messageId: string, reaction: string, userId: string): Promise<boolean>;
  /** How many different reactions the user holds on the message. */
  userReactionCount(tenantId: string, messageId: string, userId: string): Promise<number>;
  /** The first `n` current reactors of one reaction, in the order they added it. */
  firstReactors(tenantId: string, messageId: string, reaction: string, n: number): Promise<string[]>;
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
  /** Replaces content, meta (and mentions when not null), sets edited_at and change_seq; false when no such message. */
  edit(tenantId: string, messageId: string, content: string, meta: JsonValue, editedAt: Instant, change: number, mentions: string[] | null): Promise<boolean>;
  /**
   * Turns the message into a tombstone (content "", meta null, reactions [], attachments [], deleted_at, change_seq)
   * and deletes its reaction rows; keeps its seq, parent_id, reply_count and mentions. False when no such message.
   */
  tombstone(tenantId: string, messageId: string, deletedAt: Instant, change: number): Promise<boolean>;
  /** Sets a root's reply_count, last_reply_at and change_seq. */
  setThread(tenantId: string, messageId: string, replyCount: number, lastReplyAt: Instant | null, change: number): Promise<void>;
  /** Sets the reactions summary and change_seq. */
  setReactions(tenantId: string, messageId: string, reactions: ReactionSummary[], change: number): Promise<void>;
  /** Adds mention rows (tenant, room, user, seq) for unread_mentions; existing ones are kept. */
  addMentions(tenantId: string, roomId: string, seq: number, userIds: string[]): Promise<void>;
  /** Removes mention rows of the message at `seq` for these users. */
  removeMentions(tenantId: string, roomId: string, seq: number, userIds: string[]): Promise<void>;
  /** Inserts one reaction row (the caller checked it is absent). */
  insertReaction(row: ReactionRow): Promise<void>;
  /** Deletes one reaction row; false when absent. */
  deleteReaction(tenantId: string, messageId: string, reaction: string, userId: string): Promise<boolean>;
}
