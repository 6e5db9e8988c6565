// Messages on PostgreSQL. Every statement is scoped by tenant_id (and room_id where given).
import type { MessageRow, MessageStore } from "../message-store";
import { instant, instantOrNull, jsonParam, type Conn } from "./conn";

// Above any seq an integer column holds: "no upper bound".
const NO_BOUND = 2_147_483_647;

/** A row as the domain sees it (Instants for timestamptz). */
export function messageRow(r: any): MessageRow {
  return {
    tenant_id: r.tenant_id,
    room_id: r.room_id,
    seq: r.seq,
    message_id: r.message_id,
    sender_id: r.sender_id,
    content: r.content,
    meta: r.meta ?? null,
    client_msg_id: r.client_msg_id,
    created_at: instant(r.created_at),
    edited_at: instantOrNull(r.edited_at),
    deleted_at: instantOrNull(r.deleted_at),
  };
}

/** MessageStore on Bun.SQL. */
export class PgMessageStore implements MessageStore {
  constructor(private readonly c: Conn) {}

  async insert(m: MessageRow): Promise<void> {
    await this.c.q`INSERT INTO messages (tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at)
      VALUES (${m.tenant_id}, ${m.room_id}, ${m.seq}, ${m.message_id}, ${m.sender_id}, ${m.content}, ${jsonParam(m.meta)}::text::json,
        ${m.client_msg_id}, ${m.created_at}::timestamptz, ${m.edited_at}::timestamptz, ${m.deleted_at}::timestamptz)`;
  }
  async byId(tenantId: string, messageId: string): Promise<MessageRow | null> {
    // In a transaction the row is locked: an edit or delete re-reads it and then writes it (see Conn.inTx).
    const [r] = this.c.inTx
      ? await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at
          FROM messages WHERE tenant_id = ${tenantId} AND message_id = ${messageId} FOR NO KEY UPDATE`
      : await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at
          FROM messages WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
    return r ? messageRow(r) : null;
  }
  async bySeq(tenantId: string, roomId: string, seq: number): Promise<MessageRow | null> {
    const [r] = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND seq = ${seq}`;
    return r ? messageRow(r) : null;
  }
  async byClientId(tenantId: string, roomId: string, senderId: string, clientMsgId: string): Promise<MessageRow | null> {
    const [r] = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND sender_id = ${senderId} AND client_msg_id = ${clientMsgId}`;
    return r ? messageRow(r) : null;
  }
  async after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number): Promise<MessageRow[]> {
    const rows = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND seq > ${afterSeq} AND seq < ${beforeSeq ?? NO_BOUND}
      ORDER BY seq ASC LIMIT ${limit}`;
    return rows.map(messageRow);
  }
  async before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number): Promise<MessageRow[]> {
    const rows = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND seq < ${beforeSeq ?? NO_BOUND}
      ORDER BY seq DESC LIMIT ${limit}`;
    return rows.map(messageRow).reverse();
  }
  async unreadCount(tenantId: string, roomId: string, afterSeq: number, userId: string): Promise<number> {
    // Seqs are gapless: (last_seq - afterSeq) minus the tombstones and the user's own live messages
    // above afterSeq, both counted on partial indexes (migration 008), never a scan of the unread range.
    const [r] = await this.c.q`SELECT GREATEST(0, coalesce((SELECT last_seq FROM rooms WHERE tenant_id = ${tenantId} AND room_id = ${roomId}), 0) - ${afterSeq}::int
        - (SELECT count(*) FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND seq > ${afterSeq}::int AND deleted_at IS NOT NULL)
        - (SELECT count(*) FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND sender_id = ${userId} AND seq > ${afterSeq}::int AND deleted_at IS NULL))::int AS n`;
    return r.n;
  }
  async edit(tenantId: string, messageId: string, content: string, meta: unknown, editedAt: string): Promise<boolean> {
    const r = await this.c.q`UPDATE messages SET content = ${content}, meta = ${jsonParam(meta)}::text::json, edited_at = ${editedAt}::timestamptz
      WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
    return r.count > 0;
  }
  async tombstone(tenantId: string, messageId: string, deletedAt: string): Promise<boolean> {
    const r = await this.c.q`UPDATE messages SET content = '', meta = NULL, deleted_at = ${deletedAt}::timestamptz
      WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
    return r.count > 0;
  }
}

