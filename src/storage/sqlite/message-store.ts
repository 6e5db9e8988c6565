// Messages (threads, mentions, reactions, change positions) on bun:sqlite. Every statement is
// scoped by tenant_id and room_id.
import type { Database, Statement } from "bun:sqlite";
import type { MessageFilter, MessageRow, MessageStore, ReactionRow, ReactionSummary } from "../message-store";
import type { Sync } from "./facade";
import { fromJsonColumn, toJsonColumn } from "./json";

/** Method names of MessageStore. */
export const MESSAGE_METHODS = [
  "byId", "bySeq", "byClientId", "after", "before", "unreadCount", "changedAfter", "unreadMentions", "unreadMentionsIn", "latestReplyAt",
  "reactions", "hasReaction", "userReactionCount", "firstReactors",
  "insert", "edit", "tombstone", "setThread", "setReactions", "addMentions", "removeMentions", "insertReaction", "deleteReaction",
] as const;

type Raw = Omit<MessageRow, "meta" | "mentions" | "reactions" | "attachments"> & {
  meta: string | null;
  mentions: string | null;
  reactions: string | null;
  attachments: string | null;
};

/** A row of `messages` (selected with MESSAGE_COLUMNS) as the domain's MessageRow, converted in place. */
export function msg(r: Raw | null): MessageRow | null {
  if (!r) return null;
  const m = r as unknown as MessageRow;
  // Most messages carry no meta, mentions, reactions or attachments: skip the parse (and the copy) for them.
  m.meta = r.meta === null ? null : fromJsonColumn(r.meta);
  m.mentions = r.mentions === null ? [] : (JSON.parse(r.mentions) as string[]);
  m.reactions = r.reactions === null ? [] : (JSON.parse(r.reactions) as ReactionSummary[]);
  m.attachments = r.attachments === null ? [] : JSON.parse(r.attachments);
  return m;
}

/** The columns of a MessageRow, in `messages`. */
export const MESSAGE_COLUMNS =
  "tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq";

function msgs(rows: Raw[]): MessageRow[] {
  for (const r of rows) msg(r);
  return rows as unknown as MessageRow[];
}

const listColumn = (v: unknown[]): string | null => (v.length === 0 ? null : JSON.stringify(v));

// One statement per filter kind: each range query keeps a plain index path (primary key, the
// partial top-level index, or the thread index).
type Kind = "all" | "top" | "thread";
const kindOf = (f?: MessageFilter): Kind => (f?.parentId !== undefined ? "thread" : f?.topLevel ? "top" : "all");
const WHERE: Record<Kind, string> = { all: "", top: " AND parent_id IS NULL", thread: " AND parent_id = $parent" };

/** MessageStore on bun:sqlite; statements prepared once. */
export class SqliteMessageStore implements Sync<MessageStore> {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const cols = MESSAGE_COLUMNS;
    const vals = cols.split(", ").map((c) => `$${c}`).join(", ");
    this.q = {
      // search_id: the next integer in insertion order (the FTS5 rowid; messages_search_id makes max() one index probe).
      insert: db.query(`INSERT INTO messages (${cols}, search_id) VALUES (${vals}, (SELECT coalesce(max(search_id), 0) + 1 FROM messages))`),
      byId: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND message_id = ?`),
      bySeq: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND seq = ?`),
      byClientId: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND sender_id = ? AND client_msg_id = ?`),
      edit: db.query("UPDATE messages SET content = ?, meta = ?, edited_at = ?, change_seq = ? WHERE tenant_id = ? AND message_id = ?"),
      editMentions: db.query("UPDATE messages SET content = ?, meta = ?, edited_at = ?, change_seq = ?, mentions = ? WHERE tenant_id = ? AND message_id = ?"),
      tombstone: db.query(
        "UPDATE messages SET content = '', meta = NULL, reactions = NULL, attachments = NULL, deleted_at = ?, change_seq = ? WHERE tenant_id = ? AND message_id = ?",
      ),
      dropReactions: db.query("DELETE FROM reactions WHERE tenant_id = ? AND message_id = ?"),
      setThread: db.query("UPDATE messages SET reply_count = ?, last_reply_at = ?, change_seq = ? WHERE tenant_id = ? AND message_id = ?"),
      setReactions: db.query("UPDATE messages SET reactions = ?, change_seq = ? WHERE tenant_id = ? AND message_id = ?"),
      // Seqs are gapless, so the unread messages are (last_seq - last_ack) minus the tombstones and the
      // user's own live messages above last_ack. Both counts use partial indexes: the cost follows the
      // deletions and the user's own messages in that range, never the size of the unread range (a
      // sender's last_ack moves to each message it sends, so own messages above it are rare).
      unread: db.query(
        `SELECT max(0, coalesce((SELECT last_seq FROM rooms WHERE tenant_id = ?1 AND room_id = ?2), 0) - ?3
           - (SELECT count(*) FROM messages INDEXED BY messages_tombstones WHERE tenant_id = ?1 AND room_id = ?2 AND seq > ?3 AND deleted_at IS NOT NULL)
           - (SELECT count(*) FROM messages INDEXED BY messages_by_sender WHERE tenant_id = ?1 AND room_id = ?2 AND sender_id = ?4 AND seq > ?3 AND deleted_at IS NULL)) AS n`,
      ),
      changedAfter: db.query(`SELECT ${cols} FROM messages WHERE tenant_id = ? AND room_id = ? AND change_seq > ? ORDER BY change_seq ASC LIMIT ?`),
      unreadMentions: db.query("SELECT count(*) AS n FROM message_mentions WHERE tenant_id = ? AND room_id = ? AND user_id = ? AND seq > ?"),
      // One correlated index-range count per room of the page (primary key of message_mentions).
      unreadMentionsIn: db.query(
        `SELECT j.value ->> '$[0]' AS room_id,
           (SELECT count(*) FROM message_mentions mm WHERE mm.tenant_id = ?1 AND mm.room_id = j.value ->> '$[0]' AND mm.user_id = ?2 AND mm.seq > j.value ->> '$[1]') AS n
         FROM json_each(?3) j`,
      ),
      addMentions: db.query(
        "INSERT INTO message_mentions (tenant_id, room_id, user_id, seq) SELECT ?1, ?2, value, ?3 FROM json_each(?4) WHERE true ON CONFLICT DO NOTHING",
      ),
      removeMention: db.query("DELETE FROM message_mentions WHERE tenant_id = ? AND room_id = ? AND user_id = ? AND seq = ?"),
      latestReplyAt: db.query(
        "SELECT created_at FROM messages WHERE tenant_id = ? AND room_id = ? AND parent_id = ? AND deleted_at IS NULL ORDER BY seq DESC LIMIT 1",
      ),
      reactionsAll: db.query(
        "SELECT tenant_id, message_id, reaction, user_id, ord, created_at FROM reactions WHERE tenant_id = ? AND message_id = ? AND ord > ? ORDER BY ord LIMIT ?",
      ),
      reactionsOne: db.query(
        "SELECT tenant_id, message_id, reaction, user_id, ord, created_at FROM reactions WHERE tenant_id = ? AND message_id = ? AND reaction = ? AND ord > ? ORDER BY ord LIMIT ?",
      ),
      hasReaction: db.query("SELECT 1 FROM reactions WHERE tenant_id = ? AND message_id = ? AND reaction = ? AND user_id = ?"),
      userReactionCount: db.query("SELECT count(*) AS n FROM reactions WHERE tenant_id = ? AND message_id = ? AND user_id = ?"),
      firstReactors: db.query("SELECT user_id FROM reactions WHERE tenant_id = ? AND message_id = ? AND reaction = ? ORDER BY ord LIMIT ?"),
      insertReaction: db.query(
        "INSERT INTO reactions (tenant_id, message_id, reaction, user_id, ord, created_at) VALUES ($tenant_id, $message_id, $reaction, $user_id, $ord, $created_at)",
      ),
      deleteReaction: db.query("DELETE FROM reactions WHERE tenant_id = ? AND message_id = ? AND reaction = ? AND user_id = ?"),
    };
    for (const k of ["all", "top", "thread"] as Kind[]) {
      this.q[`after_${k}`] = db.query(
        `SELECT ${cols} FROM messages WHERE tenant_id = $tenant AND room_id = $room${WHERE[k]} AND seq > $lo AND seq < $hi ORDER BY seq ASC LIMIT $limit`,
      );
      this.q[`before_${k}`] = db.query(`SELECT ${cols} FROM messages WHERE tenant_id = $tenant AND room_id = $room${WHERE[k]} AND seq < $hi ORDER BY seq DESC LIMIT $limit`);
    }
  }

  insert(row: MessageRow): void {
    this.q.insert!.run({
      ...row,
      meta: toJsonColumn(row.meta),
      mentions: listColumn(row.mentions),
      reactions: listColumn(row.reactions),
      attachments: listColumn(row.attachments),
    });
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
  after(tenantId: string, roomId: string, afterSeq: number, beforeSeq: number | null, limit: number, filter?: MessageFilter): MessageRow[] {
    const k = kindOf(filter);
    const p: Record<string, unknown> = { tenant: tenantId, room: roomId, lo: afterSeq, hi: beforeSeq ?? Number.MAX_SAFE_INTEGER, limit };
    if (k === "thread") p.parent = filter!.parentId;
    return msgs(this.q[`after_${k}`]!.all(p as any));
  }
  before(tenantId: string, roomId: string, beforeSeq: number | null, limit: number, filter?: MessageFilter): MessageRow[] {
    const k = kindOf(filter);
    const p: Record<string, unknown> = { tenant: tenantId, room: roomId, hi: beforeSeq ?? Number.MAX_SAFE_INTEGER, limit };
    if (k === "thread") p.parent = filter!.parentId;
    return msgs(this.q[`before_${k}`]!.all(p as any)).reverse();
  }
  edit(tenantId: string, messageId: string, content: string, meta: unknown, editedAt: string, change: number, mentions: string[] | null): boolean {
    if (mentions === null) return this.q.edit!.run(content, toJsonColumn(meta), editedAt, change, tenantId, messageId).changes > 0;
    return this.q.editMentions!.run(content, toJsonColumn(meta), editedAt, change, listColumn(mentions), tenantId, messageId).changes > 0;
  }
  tombstone(tenantId: string, messageId: string, deletedAt: string, change: number): boolean {
    const ok = this.q.tombstone!.run(deletedAt, change, tenantId, messageId).changes > 0;
    if (ok) this.q.dropReactions!.run(tenantId, messageId);
    return ok;
  }
  setThread(tenantId: string, messageId: string, replyCount: number, lastReplyAt: string | null, change: number): void {
    this.q.setThread!.run(replyCount, lastReplyAt, change, tenantId, messageId);
  }
  setReactions(tenantId: string, messageId: string, reactions: ReactionSummary[], change: number): void {
    this.q.setReactions!.run(listColumn(reactions), change, tenantId, messageId);
  }
  addMentions(tenantId: string, roomId: string, seq: number, userIds: string[]): void {
    if (userIds.length) this.q.addMentions!.run(tenantId, roomId, seq, JSON.stringify(userIds));
  }
  removeMentions(tenantId: string, roomId: string, seq: number, userIds: string[]): void {
    for (const u of userIds) this.q.removeMention!.run(tenantId, roomId, u, seq);
  }
  unreadCount(tenantId: string, roomId: string, afterSeq: number, userId: string): number {
    return (this.q.unread!.get(tenantId, roomId, afterSeq, userId) as { n: number }).n;
  }
  changedAfter(tenantId: string, roomId: string, afterChange: number, limit: number): MessageRow[] {
    return msgs(this.q.changedAfter!.all(tenantId, roomId, afterChange, limit));
  }
  unreadMentions(tenantId: string, roomId: string, userId: string, afterSeq: number): number {
    return (this.q.unreadMentions!.get(tenantId, roomId, userId, afterSeq) as { n: number }).n;
  }
  unreadMentionsIn(tenantId: string, userId: string, rooms: { room_id: string; after_seq: number }[]): Map<string, number> {
    const out = new Map<string, number>();
    if (rooms.length === 0) return out;
    const rows = this.q.unreadMentionsIn!.all(tenantId, userId, JSON.stringify(rooms.map((r) => [r.room_id, r.after_seq]))) as { room_id: string; n: number }[];
    for (const r of rows) out.set(r.room_id, r.n);
    return out;
  }
  latestReplyAt(tenantId: string, roomId: string, parentId: string): string | null {
    const r = this.q.latestReplyAt!.get(tenantId, roomId, parentId) as { created_at: string } | null;
    return r ? r.created_at : null;
  }
  reactions(tenantId: string, messageId: string, reaction: string | null, afterOrd: number | null, limit: number): ReactionRow[] {
    if (reaction === null) return this.q.reactionsAll!.all(tenantId, messageId, afterOrd ?? -1, limit);
    return this.q.reactionsOne!.all(tenantId, messageId, reaction, afterOrd ?? -1, limit);
  }
  hasReaction(tenantId: string, messageId: string, reaction: string, userId: string): boolean {
    return this.q.hasReaction!.get(tenantId, messageId, reaction, userId) !== null;
  }
  userReactionCount(tenantId: string, messageId: string, userId: string): number {
    return (this.q.userReactionCount!.get(tenantId, messageId, userId) as { n: number }).n;
  }
  firstReactors(tenantId: string, messageId: string, reaction: string, n: number): string[] {
    return (this.q.firstReactors!.all(tenantId, messageId, reaction, n) as { user_id: string }[]).map((r) => r.user_id);
  }
  insertReaction(row: ReactionRow): void {
    this.q.insertReaction!.run(row as any);
  }
  deleteReaction(tenantId: string, messageId: string, reaction: string, userId: string): boolean {
    return this.q.deleteReaction!.run(tenantId, messageId, reaction, userId).changes > 0;
  }
}
