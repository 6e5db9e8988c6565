// Messages (threads, mentions, reactions, change positions) on PostgreSQL. Every statement is
// scoped by tenant_id (and room_id where given).
import type { MessageFilter, MessageRow, MessageStore, ReactionRow, ReactionSummary } from "../message-store";
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
    parent_id: r.parent_id ?? null,
    reply_count: r.reply_count ?? 0,
    last_reply_at: instantOrNull(r.last_reply_at),
    mentions: r.mentions ?? [],
    reactions: r.reactions ?? [],
    attachments: r.attachments ?? [],
    change_seq: Number(r.change_seq ?? 0),
  };
}

function reactionRow(r: any): ReactionRow {
  return { tenant_id: r.tenant_id, message_id: r.message_id, reaction: r.reaction, user_id: r.user_id, ord: Number(r.ord), created_at: instant(r.created_at) };
}

const listParam = (v: unknown[]): string | null => (v.length === 0 ? null : JSON.stringify(v));

/** MessageStore on Bun.SQL. */
export class PgMessageStore implements MessageStore {
  constructor(private readonly c: Conn) {}

  async insert(m: MessageRow): Promise<void> {
    await this.c.q`INSERT INTO messages (tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at,
        parent_id, reply_count, last_reply_at, mentions, reactions, change_seq, attachments)
      VALUES (${m.tenant_id}, ${m.room_id}, ${m.seq}, ${m.message_id}, ${m.sender_id}, ${m.content}, ${jsonParam(m.meta)}::text::json,
        ${m.client_msg_id}, ${m.created_at}::timestamptz, ${m.edited_at}::timestamptz, ${m.deleted_at}::timestamptz,
        ${m.parent_id}, ${m.reply_count}, ${m.last_reply_at}::timestamptz, ${listParam(m.mentions)}::text::json, ${listParam(m.reactions)}::text::json, ${m.change_seq},
        ${listParam(m.attachments)}::text::json)`;
  }
  async byId(tenantId: string, messageId: string): Promise<MessageRow | null> {
    // In a transaction the row is locked: an edit or delete re-reads it and then writes it (see Conn.inTx).
    const [r] = this.c.inTx
      ? await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND message_id = ${messageId} FOR NO KEY UPDATE`
      : await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
    return r ? messageRow(r) : null;
  }
  async bySeq(tenantId: string, roomId: string, seq: number): Promise<MessageRow | null> {
    const [r] = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND seq = ${seq}`;
    return r ? messageRow(r) : null;
  }
  async byClientId(tenantId: string, roomId: string, senderId: string, clientMsgId: string): Promise<MessageRow | null> {
    const [r] = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND sender_id = ${senderId} AND client_msg_id = ${clientMsgId}`;
    return r ? messageRow(r) : null;
  }
  async after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number, f?: MessageFilter): Promise<MessageRow[]> {
    const hi = beforeSeq ?? NO_BOUND;
    // One statement per filter kind, so each keeps a plain index path (primary key, top-level, thread).
    const rows =
      f?.parentId !== undefined
        ? await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND parent_id = ${f.parentId}
            AND seq > ${afterSeq} AND seq < ${hi} ORDER BY seq ASC LIMIT ${limit}`
        : f?.topLevel
          ? await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND parent_id IS NULL
            AND seq > ${afterSeq} AND seq < ${hi} ORDER BY seq ASC LIMIT ${limit}`
          : await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId}
            AND seq > ${afterSeq} AND seq < ${hi} ORDER BY seq ASC LIMIT ${limit}`;
    return rows.map(messageRow);
  }
  async before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number, f?: MessageFilter): Promise<MessageRow[]> {
    const hi = beforeSeq ?? NO_BOUND;
    const rows =
      f?.parentId !== undefined
        ? await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND parent_id = ${f.parentId}
            AND seq < ${hi} ORDER BY seq DESC LIMIT ${limit}`
        : f?.topLevel
          ? await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND parent_id IS NULL
            AND seq < ${hi} ORDER BY seq DESC LIMIT ${limit}`
          : await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId}
            AND seq < ${hi} ORDER BY seq DESC LIMIT ${limit}`;
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
  async changedAfter(tenantId: string, roomId: string, afterChange: number, limit: number): Promise<MessageRow[]> {
    const rows = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM messages WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND change_seq > ${afterChange}
      ORDER BY change_seq ASC LIMIT ${limit}`;
    return rows.map(messageRow);
  }
  async unreadMentions(tenantId: string, roomId: string, userId: string, afterSeq: number): Promise<number> {
    const [r] = await this.c.q`SELECT count(*)::int AS n FROM message_mentions
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND user_id = ${userId} AND seq > ${afterSeq}`;
    return r.n;
  }
  async unreadMentionsIn(tenantId: string, userId: string, rooms: { room_id: string; after_seq: number }[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (rooms.length === 0) return out;
    const rows = await this.c.q`SELECT r.room_id, (SELECT count(*)::int FROM message_mentions mm
        WHERE mm.tenant_id = ${tenantId} AND mm.room_id = r.room_id AND mm.user_id = ${userId} AND mm.seq > r.after_seq) AS n
      FROM json_to_recordset(${JSON.stringify(rooms)}::text::json) AS r(room_id text, after_seq int)`;
    for (const r of rows) out.set(r.room_id, r.n);
    return out;
  }
  async latestReplyAt(tenantId: string, roomId: string, parentId: string): Promise<string | null> {
    const [r] = await this.c.q`SELECT created_at FROM messages
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND parent_id = ${parentId} AND deleted_at IS NULL ORDER BY seq DESC LIMIT 1`;
    return r ? instant(r.created_at) : null;
  }
  async reactions(tenantId: string, messageId: string, reaction: string | null, afterOrd: number | null, limit: number): Promise<ReactionRow[]> {
    const rows =
      reaction === null
        ? await this.c.q`SELECT * FROM reactions WHERE tenant_id = ${tenantId} AND message_id = ${messageId} AND ord > ${afterOrd ?? -1}
            ORDER BY ord LIMIT ${limit}`
        : await this.c.q`SELECT * FROM reactions WHERE tenant_id = ${tenantId} AND message_id = ${messageId} AND reaction = ${reaction}
            AND ord > ${afterOrd ?? -1} ORDER BY ord LIMIT ${limit}`;
    return rows.map(reactionRow);
  }
  async hasReaction(tenantId: string, messageId: string, reaction: string, userId: string): Promise<boolean> {
    const rows = await this.c.q`SELECT 1 FROM reactions WHERE tenant_id = ${tenantId} AND message_id = ${messageId} AND reaction = ${reaction} AND user_id = ${userId}`;
    return rows.length > 0;
  }
  async userReactionCount(tenantId: string, messageId: string, userId: string): Promise<number> {
    const [r] = await this.c.q`SELECT count(*)::int AS n FROM reactions WHERE tenant_id = ${tenantId} AND message_id = ${messageId} AND user_id = ${userId}`;
    return r.n;
  }
  async firstReactors(tenantId: string, messageId: string, reaction: string, n: number): Promise<string[]> {
    const rows = await this.c.q`SELECT user_id FROM reactions WHERE tenant_id = ${tenantId} AND message_id = ${messageId} AND reaction = ${reaction}
      ORDER BY ord LIMIT ${n}`;
    return rows.map((r: any) => r.user_id);
  }
  async edit(tenantId: string, messageId: string, content: string, meta: unknown, editedAt: string, change: number, mentions: string[] | null): Promise<boolean> {
    const r =
      mentions === null
        ? await this.c.q`UPDATE messages SET content = ${content}, meta = ${jsonParam(meta)}::text::json, edited_at = ${editedAt}::timestamptz,
            change_seq = ${change} WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`
        : await this.c.q`UPDATE messages SET content = ${content}, meta = ${jsonParam(meta)}::text::json, edited_at = ${editedAt}::timestamptz,
            change_seq = ${change}, mentions = ${listParam(mentions)}::text::json WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
    return r.count > 0;
  }
  async tombstone(tenantId: string, messageId: string, deletedAt: string, change: number): Promise<boolean> {
    const r = await this.c.q`UPDATE messages SET content = '', meta = NULL, reactions = NULL, attachments = NULL, deleted_at = ${deletedAt}::timestamptz, change_seq = ${change}
      WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
    if (r.count > 0) await this.c.q`DELETE FROM reactions WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
    return r.count > 0;
  }
  async setThread(tenantId: string, messageId: string, replyCount: number, lastReplyAt: string | null, change: number): Promise<void> {
    await this.c.q`UPDATE messages SET reply_count = ${replyCount}, last_reply_at = ${lastReplyAt}::timestamptz, change_seq = ${change}
      WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
  }
  async setReactions(tenantId: string, messageId: string, reactions: ReactionSummary[], change: number): Promise<void> {
    await this.c.q`UPDATE messages SET reactions = ${listParam(reactions)}::text::json, change_seq = ${change}
      WHERE tenant_id = ${tenantId} AND message_id = ${messageId}`;
  }
  async addMentions(tenantId: string, roomId: string, seq: number, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.c.q`INSERT INTO message_mentions (tenant_id, room_id, user_id, seq)
      SELECT ${tenantId}::text, ${roomId}::text, u, ${seq}::int FROM json_array_elements_text(${JSON.stringify(userIds)}::text::json) AS u
      ON CONFLICT DO NOTHING`;
  }
  async removeMentions(tenantId: string, roomId: string, seq: number, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.c.q`DELETE FROM message_mentions WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND seq = ${seq}
      AND user_id IN (SELECT json_array_elements_text(${JSON.stringify(userIds)}::text::json))`;
  }
  async insertReaction(x: ReactionRow): Promise<void> {
    await this.c.q`INSERT INTO reactions (tenant_id, message_id, reaction, user_id, ord, created_at)
      VALUES (${x.tenant_id}, ${x.message_id}, ${x.reaction}, ${x.user_id}, ${x.ord}, ${x.created_at}::timestamptz)`;
  }
  async deleteReaction(tenantId: string, messageId: string, reaction: string, userId: string): Promise<boolean> {
    const r = await this.c.q`DELETE FROM reactions WHERE tenant_id = ${tenantId} AND message_id = ${messageId} AND reaction = ${reaction} AND user_id = ${userId}`;
    return r.count > 0;
  }
}
