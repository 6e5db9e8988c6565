// SQL for messages. Every statement is scoped by tenant_id and room_id.
import type { Database, Statement } from "bun:sqlite";

/** A message row; `meta` is JSON text or null. */
export interface MessageRow {
  tenant_id: string;
  room_id: string;
  seq: number;
  message_id: string;
  sender_id: string;
  content: string;
  meta: string | null;
  client_msg_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}

/** Persistence of messages. Range reads return ascending seq order. */
export interface MessageStore {
  insert(row: MessageRow): void;
  byId(tenantId: string, messageId: string): MessageRow | null;
  bySeq(tenantId: string, roomId: string, seq: number): MessageRow | null;
  byClientId(tenantId: string, roomId: string, senderId: string, clientMsgId: string): MessageRow | null;
  /** Seqs > afterSeq (and < beforeSeq when given), ascending, at most `limit`. */
  after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number): MessageRow[];
  /** The `limit` messages just below beforeSeq (or the latest when null), ascending. */
  before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number): MessageRow[];
  edit(tenantId: string, messageId: string, content: string, meta: string | null, editedAt: string): void;
  tombstone(tenantId: string, messageId: string, deletedAt: string): void;
  /** Messages with seq > afterSeq, not deleted, not sent by userId. */
  unreadCount(tenantId: string, roomId: string, afterSeq: number, userId: string): number;
}

/** MessageStore on bun:sqlite; statements prepared once. */
export class SqliteMessageStore implements MessageStore {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const cols = "tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at";
    this.q = {
      insert: db.query(
        `INSERT INTO messages (${cols}) VALUES ($tenant_id, $room_id, $seq, $message_id, $sender_id, $content, $meta, $client_msg_id, $created_at, $edited_at, $deleted_at)`,
      ),
      byId: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND message_id = ?`),
      bySeq: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND seq = ?`),
      byClientId: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND sender_id = ? AND client_msg_id = ?`),
      after: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`),
      before: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      edit: db.query("UPDATE messages SET content = ?, meta = ?, edited_at = ? WHERE tenant_id = ? AND message_id = ?"),
      tombstone: db.query("UPDATE messages SET content = '', meta = NULL, deleted_at = ? WHERE tenant_id = ? AND message_id = ?"),
      // Seqs are gapless, so the unread messages are (last_seq - last_ack) minus the tombstones and the
      // user's own live messages above last_ack. Both counts use partial indexes: the cost follows the
      // deletions and the user's own messages in that range, never the size of the unread range (a
      // sender's last_ack moves to each message it sends, so own messages above it are rare).
      unread: db.query(
        `SELECT max(0, coalesce((SELECT last_seq FROM rooms WHERE tenant_id = ?1 AND room_id = ?2), 0) - ?3
           - (SELECT count(*) FROM messages INDEXED BY messages_tombstones WHERE tenant_id = ?1 AND room_id = ?2 AND seq > ?3 AND deleted_at IS NOT NULL)
           - (SELECT count(*) FROM messages INDEXED BY messages_by_sender WHERE tenant_id = ?1 AND room_id = ?2 AND sender_id = ?4 AND seq > ?3 AND deleted_at IS NULL)) AS n`,
      ),
    };
  }

  insert(row: MessageRow): void {
    this.q.insert!.run(row);
  }
  byId(tenantId: string, messageId: string): MessageRow | null {
    return this.q.byId!.get(tenantId, messageId);
  }
  bySeq(tenantId: string, roomId: string, seq: number): MessageRow | null {
    return this.q.bySeq!.get(tenantId, roomId, seq);
  }
  byClientId(tenantId: string, roomId: string, senderId: string, clientMsgId: string): MessageRow | null {
    return this.q.byClientId!.get(tenantId, roomId, senderId, clientMsgId);
  }
  after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number): MessageRow[] {
    return this.q.after!.all(tenantId, roomId, afterSeq, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit);
  }
  before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number): MessageRow[] {
    return (this.q.before!.all(tenantId, roomId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit) as MessageRow[]).reverse();
  }
  edit(tenantId: string, messageId: string, content: string, meta: string | null, editedAt: string): void {
    this.q.edit!.run(content, meta, editedAt, tenantId, messageId);
  }
  tombstone(tenantId: string, messageId: string, deletedAt: string): void {
    this.q.tombstone!.run(deletedAt, tenantId, messageId);
  }
  unreadCount(tenantId: string, roomId: string, afterSeq: number, userId: string): number {
    return (this.q.unread!.get(tenantId, roomId, afterSeq, userId) as { n: number }).n;
  }
}
