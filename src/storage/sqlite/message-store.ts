// Messages on bun:sqlite. Every statement is scoped by tenant_id and room_id.
import type { Database, Statement } from "bun:sqlite";
import type { MessageRow, MessageStore } from "../message-store";
import type { Sync } from "./facade";
import { fromJsonColumn, toJsonColumn } from "./json";

/** Method names of MessageStore. */
export const MESSAGE_METHODS = ["byId", "bySeq", "byClientId", "after", "before", "unreadCount", "insert", "edit", "tombstone"] as const;

type Raw = Omit<MessageRow, "meta" | "attachments"> & { meta: string | null; attachments: string | null };

/** A row of `messages` (selected with MESSAGE_COLUMNS) as the domain's MessageRow, converted in place. */
export function msg(r: Raw | null): MessageRow | null {
  if (!r) return null;
  // Most messages carry no meta and no attachments: skip the parse (and the copy) for them.
  if (r.meta !== null) (r as { meta: unknown }).meta = fromJsonColumn(r.meta);
  (r as { attachments: unknown }).attachments = r.attachments === null ? [] : JSON.parse(r.attachments);
  return r as unknown as MessageRow;
}

/** The columns of a MessageRow, in `messages`. */
export const MESSAGE_COLUMNS = "tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, attachments";

function msgs(rows: Raw[]): MessageRow[] {
  for (const r of rows) msg(r);
  return rows as unknown as MessageRow[];
}

/** MessageStore on bun:sqlite; statements prepared once. */
export class SqliteMessageStore implements Sync<MessageStore> {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const cols = MESSAGE_COLUMNS;
    this.q = {
      // search_id: the next integer in insertion order (the FTS5 rowid; messages_search_id makes max() one index probe).
      insert: db.query(
        `INSERT INTO messages (${cols}, search_id) VALUES ($tenant_id, $room_id, $seq, $message_id, $sender_id, $content, $meta, $client_msg_id, $created_at, $edited_at, $deleted_at, $attachments,
          (SELECT coalesce(max(search_id), 0) + 1 FROM messages))`,
      ),
      byId: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND message_id = ?`),
      bySeq: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND seq = ?`),
      byClientId: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND sender_id = ? AND client_msg_id = ?`),
      after: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`),
      before: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      edit: db.query("UPDATE messages SET content = ?, meta = ?, edited_at = ? WHERE tenant_id = ? AND message_id = ?"),
      tombstone: db.query("UPDATE messages SET content = '', meta = NULL, attachments = NULL, deleted_at = ? WHERE tenant_id = ? AND message_id = ?"),
      unread: db.query(
        "SELECT count(*) AS n FROM messages WHERE tenant_id = ? AND room_id = ? AND seq > ? AND deleted_at IS NULL AND sender_id != ?",
      ),
    };
  }

  insert(row: MessageRow): void {
    this.q.insert!.run({ ...row, meta: toJsonColumn(row.meta), attachments: row.attachments.length ? JSON.stringify(row.attachments) : null });
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
