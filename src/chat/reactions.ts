// Reactions (docs/guides/conversations.md, "Reactions"): add/remove/list, idempotent, the per-user limit, and the
// summary kept on the message in the same transaction (a Message is built without reading them).
import { conflict, invalid, notFound } from "../errors";
import type { ReactionSummary } from "../storage/message-store";
import type { Store } from "../storage/store";
import type { Bus } from "../bus/bus";
import { checkReaction, decodePosition, encodePosition, MAX_REACTIONS_PER_USER, REACTION_SUMMARY_USERS } from "./conversation-rules";
import type { AttachmentUrls } from "../blobs/url-signer";
import { toMessage } from "./mappers";
import type { RoomService } from "./rooms";
import type { Actor, Message } from "./types";

export interface ReactionServiceDeps {
  rooms: RoomService;
  store: Store;
  bus: Bus;
  /** Signs the attachment urls of the messages returned. */
  urls?: AttachmentUrls;
  now?: () => Date;
}

/** One listed reaction (docs/reference/rest.md `GET .../reactions`). */
export interface ReactionItem {
  reaction: string;
  user_id: string;
  created_at: string;
}

/** Reaction operations shared by REST and WebSocket. */
export class ReactionService {
  private readonly now: () => Date;

  constructor(private readonly d: ReactionServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  /** Adds the actor's reaction (members only); an existing one changes nothing and emits nothing. */
  async react(actor: Actor, roomId: string, messageId: string, reactionInput: unknown): Promise<Message> {
    const reaction = checkReaction(reactionInput);
    await this.d.rooms.memberOf(actor, roomId);
    const tenantId = actor.tenant.id;
    const current = await this.d.store.messages.byId(tenantId, messageId);
    if (!current || current.room_id !== roomId) throw notFound("message not found");
    if (current.deleted_at) throw conflict("a deleted message takes no reaction");
    // Idempotent fast path: no write, no frame, no change position.
    if (await this.d.store.messages.hasReaction(tenantId, messageId, reaction, actor.userId)) return toMessage(current, this.d.urls);
    const at = this.now().toISOString();
    const row = await this.d.store.transaction(async (tx) => {
      const change = await tx.rooms.nextChange(tenantId, roomId, 1);
      const fresh = await tx.messages.byId(tenantId, messageId);
      if (!fresh || fresh.room_id !== roomId) throw notFound("message not found");
      if (fresh.deleted_at) throw conflict("a deleted message takes no reaction");
      if (await tx.messages.hasReaction(tenantId, messageId, reaction, actor.userId)) return fresh;
      if ((await tx.messages.userReactionCount(tenantId, messageId, actor.userId)) >= MAX_REACTIONS_PER_USER) {
        throw conflict(`a user holds at most ${MAX_REACTIONS_PER_USER} different reactions on one message`);
      }
      await tx.messages.insertReaction({ tenant_id: tenantId, message_id: messageId, reaction, user_id: actor.userId, ord: change, created_at: at });
      const reactions = added(fresh.reactions, reaction, actor.userId);
      await tx.messages.setReactions(tenantId, messageId, reactions, change);
      const next = { ...fresh, reactions, change_seq: change };
      tx.afterCommit(() => this.d.bus.toRoom(tenantId, roomId, frame("reaction.added", next.room_id, messageId, next.seq, actor.userId, reaction, reactions)));
      return next;
    });
    return toMessage(row, this.d.urls);
  }

  /** Removes the actor's reaction (members only); an absent one (or a deleted message) changes nothing. */
  async unreact(actor: Actor, roomId: string, messageId: string, reactionInput: unknown): Promise<void> {
    const reaction = checkReaction(reactionInput);
    await this.d.rooms.memberOf(actor, roomId);
    const tenantId = actor.tenant.id;
    const current = await this.d.store.messages.byId(tenantId, messageId);
    if (!current || current.room_id !== roomId) throw notFound("message not found");
    if (!(await this.d.store.messages.hasReaction(tenantId, messageId, reaction, actor.userId))) return;
    await this.d.store.transaction(async (tx) => {
      const change = await tx.rooms.nextChange(tenantId, roomId, 1);
      const fresh = await tx.messages.byId(tenantId, messageId);
      if (!fresh || fresh.deleted_at) return;
      if (!(await tx.messages.deleteReaction(tenantId, messageId, reaction, actor.userId))) return;
      const reactions: ReactionSummary[] = [];
      for (const r of fresh.reactions) {
        if (r.reaction !== reaction) reactions.push(r);
        else if (r.count > 1) {
          // Refill the first reactors only when the leaving user was one of them (an index-ordered LIMIT 10).
          const user_ids = r.user_ids.includes(actor.userId) ? await tx.messages.firstReactors(tenantId, messageId, reaction, REACTION_SUMMARY_USERS) : r.user_ids;
          reactions.push({ reaction, count: r.count - 1, user_ids });
        }
      }
      await tx.messages.setReactions(tenantId, messageId, reactions, change);
      tx.afterCommit(() => this.d.bus.toRoom(tenantId, roomId, frame("reaction.removed", roomId, messageId, fresh.seq, actor.userId, reaction, reactions)));
    });
  }

  /** A message's reactions, oldest first; readable rooms (a channel: any tenant user); [] for a tombstone. */
  async list(actor: Actor, roomId: string, messageId: string, q: { reaction?: string; limit?: number; cursor?: string }): Promise<{ reactions: ReactionItem[]; next_cursor: string | null }> {
    await this.d.rooms.readable(actor, roomId);
    const tenantId = actor.tenant.id;
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid("limit must be 1..200", [{ path: "/query/limit", message: "out of range" }]);
    const reaction = q.reaction === undefined ? null : checkReaction(q.reaction, "/query/reaction");
    const after = q.cursor === undefined ? null : decodePosition(tenantId, `reactions:${messageId}`, q.cursor, "/query/cursor");
    const message = await this.d.store.messages.byId(tenantId, messageId);
    if (!message || message.room_id !== roomId) throw notFound("message not found");
    const rows = await this.d.store.messages.reactions(tenantId, messageId, reaction, after, limit + 1);
    const page = rows.slice(0, limit);
    const tail = page[page.length - 1];
    return {
      reactions: page.map((r) => ({ reaction: r.reaction, user_id: r.user_id, created_at: r.created_at })),
      next_cursor: rows.length > limit && tail ? encodePosition(tenantId, `reactions:${messageId}`, tail.ord) : null,
    };
  }
}

/** The summary after `userId` added `reaction`: a new reaction goes to the end; only the first 10 reactors are kept. */
function added(summary: ReactionSummary[], reaction: string, userId: string): ReactionSummary[] {
  let found = false;
  const out = summary.map((r) => {
    if (r.reaction !== reaction) return r;
    found = true;
    return { reaction, count: r.count + 1, user_ids: r.user_ids.length < REACTION_SUMMARY_USERS ? [...r.user_ids, userId] : r.user_ids };
  });
  if (!found) out.push({ reaction, count: 1, user_ids: [userId] });
  return out;
}

function frame(type: "reaction.added" | "reaction.removed", roomId: string, messageId: string, seq: number, userId: string, reaction: string, reactions: ReactionSummary[]) {
  return { type, room_id: roomId, message_id: messageId, seq, user_id: userId, reaction, reactions };
}
