// Steps of the send, edit and delete transactions for threads and mentions (docs/guides/conversations.md, "Threads",
// "Mentions"). Each runs inside the caller's transaction, after it took the room's change positions
// (one lock order on PostgreSQL: the room row, then message rows).
import { conflict, invalid } from "../errors";
import type { MessageRow } from "../storage/message-store";
import type { Tx } from "../storage/store";
import type { Frame } from "../bus/bus";

/** The root a reply may attach to: a message of the same room, not itself a reply (400), not deleted (409). */
export async function replyRoot(tx: Tx, tenantId: string, roomId: string, parentId: string): Promise<MessageRow> {
  const parent = await tx.messages.byId(tenantId, parentId);
  if (!parent || parent.room_id !== roomId) throw invalid("parent_id must be a message of this room", [{ path: "/parent_id", message: "unknown message" }]);
  if (parent.parent_id !== null) throw invalid("a reply cannot be a thread root (threads are one level deep)", [{ path: "/parent_id", message: "is a reply" }]);
  if (parent.deleted_at) throw conflict("cannot reply to a deleted message");
  return parent;
}

/**
 * Mentioned users must be members of the room: `known` (the room cache) names the first one that is
 * not, for the 400's details; the count in the transaction is the authoritative check (one statement).
 */
export async function checkMentionMembers(tx: Tx, tenantId: string, roomId: string, mentions: string[], known?: ReadonlyMap<string, unknown>): Promise<void> {
  if (mentions.length === 0) return;
  const fail = (i: number) => invalid("every mentioned user must be a member of the room", [{ path: `/mentions/${Math.max(0, i)}`, message: "not a member" }]);
  if (known) {
    const i = mentions.findIndex((u) => !known.has(u));
    if (i >= 0) throw fail(i);
  }
  if ((await tx.rooms.countMembers(tenantId, roomId, mentions)) === mentions.length) return;
  for (let i = 0; i < mentions.length; i++) if (!(await tx.rooms.member(tenantId, roomId, mentions[i]!))) throw fail(i);
  throw fail(0);
}

/** The mention rows of a message: its mentions minus its sender (one's own mention is never unread). */
export function mentionRows(row: Pick<MessageRow, "mentions" | "sender_id">): string[] {
  return row.mentions.filter((u) => u !== row.sender_id);
}

/** Recounts a root after one of its replies was deleted; returns the `thread.updated` frame. */
export async function replyDeleted(tx: Tx, tenantId: string, roomId: string, parentId: string, change: number): Promise<Frame | null> {
  const parent = await tx.messages.byId(tenantId, parentId);
  if (!parent) return null;
  const count = Math.max(0, parent.reply_count - 1);
  const last = count === 0 ? null : await tx.messages.latestReplyAt(tenantId, roomId, parentId);
  await tx.messages.setThread(tenantId, parentId, count, last, change);
  return threadFrame(roomId, parentId, count, last);
}

/** A `thread.updated` frame (docs/reference/websocket.md). */
export function threadFrame(roomId: string, parentId: string, replyCount: number, lastReplyAt: string | null): Frame {
  return { type: "thread.updated", room_id: roomId, message_id: parentId, reply_count: replyCount, last_reply_at: lastReplyAt };
}
