// Messages on bun:sqlite. Every statement is scoped by tenant_id and room_id.
import type { Database, Statement } from "bun:sqlite";
import type { MessageRow, MessageStore } from "../message-store";
import type { Sync } from "./facade";
import { fromJsonColumn, toJsonColumn } from "./json";

/** Method names of MessageStore. */
export const MESSAGE_METHODS = ["byId", "bySeq", "byClientId", "after", "before", "unreadCount", "insert", "edit", "tombstone"] as const;

type Raw = Omit<MessageRow, "meta"> & { meta: string | null };

function msg(r: Raw | null): MessageRow | null {
  if (!r) return null;
  // Most messages carry no meta: skip the parse (and the copy) for them.
  if (r.meta !== null) (r as { meta: unknown }).meta = fromJsonColumn(r.meta);
  return r as MessageRow;
}

function msgs(rows: Raw[]): MessageRow[] {
  for (const r of rows) msg(r);
  return rows as MessageRow[];
}

/** MessageStore on bun:sqlite; statements prepared once. */
export class SqliteMessageStore implements Sync<MessageStore> {
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
    this.q.insert!.run(row.meta === null ? row : { ...row, meta: toJsonColumn(row.meta) });
  }
  byId(tenantId: string, messageId: string): MessageRow | null {
    return msg(this.q.byId!.get(tenantId, messageId));
  }
  bySeq(tenantId: string, roomId: string, seq: number): MessageRow | null {
    return msg(this.q.bySeq!.get(tenantId, roomId, seq));
  }
  byClientId(tenantId: string, roomId: string, senderId: string, clientMsgId: string): MessageRow | null {
    return msg(this.q.byClientId!.get(tenantId, roomId, senderId, clientMsgId));
  }
  after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number): MessageRow[] {
    return msgs(this.q.after!.all(tenantId, roomId, afterSeq, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit));
  }
  before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number): MessageRow[] {
    return msgs(this.q.before!.all(tenantId, roomId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit)).reverse();
  }
  edit(tenantId: string, messageId: string, content: string, meta: unknown, editedAt: string): boolean {
    return this.q.edit!.run(content, toJsonColumn(meta), editedAt, tenantId, messageId).changes > 0;
  }
  tombstone(tenantId: string, messageId: string, deletedAt: string): boolean {
    return this.q.tombstone!.run(deletedAt, tenantId, messageId).changes > 0;
  }
  unreadCount(tenantId: string, roomId: string, afterSeq: number, userId: string): number {
    return (this.q.unread!.get(tenantId, roomId, afterSeq, userId) as { n: number }).n;
  }
}
