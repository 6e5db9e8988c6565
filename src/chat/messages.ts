// Messages and acks: send (idempotent, gapless seq, group commit), history, edit, delete, ack.
import { conflict, forbidden, invalid, notFound } from "../errors";
import type { Metrics } from "../metrics";
import { UniqueViolationError } from "../storage/errors";
import type { FanoutJobRow } from "../storage/fanout-store";
import type { MessageRow } from "../storage/message-store";
import type { Store, Tx } from "../storage/store";
import { rateLimited, type RateLimiter } from "../tenancy/rate-limiter";
import type { Tenant } from "../tenancy/tenants";
import type { Bus, OnlineDirectory } from "../bus/bus";
import type { AttachmentService } from "./attachments";
import { MAX_ATTACHMENTS_PER_MESSAGE } from "./attachments";
import { toMessage as rowToMessage, toRoom } from "./mappers";
import type { RoomService } from "./rooms";
import type { Actor, Message, Room } from "./types";
import { checkMentions } from "./conversation-rules";
import { checkMentionMembers, mentionRows, replyDeleted, replyRoot, threadFrame } from "./threads";
import { checkContent, checkJson, checkText } from "./validate";

/** Called inside the send transaction to queue webhooks for offline members (transactional outbox). */
export interface MessageOutbox {
  /** In `tx`: stores the webhook payload once and a fan-out job; null when the tenant has no webhook_url. */
  messageStored(tx: Tx, tenant: Tenant, room: Room, message: Message): Promise<FanoutJobRow | null>;
  /** After commit: expands the job in background chunks. */
  start(job: FanoutJobRow): Promise<number>;
}

export interface MessageServiceDeps {
  rooms: RoomService;
  store: Store;
  bus: Bus;
  online: OnlineDirectory;
  outbox?: MessageOutbox;
  userBuckets: RateLimiter;
  metrics?: Metrics;
  /** Attachments of sends and deletes (and the signer of their urls). */
  attachments?: AttachmentService;
  now?: () => Date;
}

export interface SendInput {
  /** May be omitted or "" when `attachments` names at least one. */
  content?: unknown;
  meta?: unknown;
  client_msg_id?: string;
  parent_id?: string;
  mentions?: unknown;
  attachments?: unknown;
}

/** The attachment ids of a send: 0..10 strings (docs/reference/rest.md "Attachments"). */
function checkAttachmentIds(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_ATTACHMENTS_PER_MESSAGE || v.some((x) => typeof x !== "string" || x.length < 1 || x.length > 64)) {
    throw invalid(`attachments must be an array of 0..${MAX_ATTACHMENTS_PER_MESSAGE} attachment ids`, [{ path: "/attachments", message: "invalid" }]);
  }
  return v as string[];
}

export interface HistoryQuery {
  after_seq?: number;
  before_seq?: number;
  limit?: number;
  /** Only messages that are not replies. */
  top_level?: boolean;
}

export interface EditInput {
  content?: unknown;
  meta?: unknown;
  mentions?: unknown;
}

const MAX_CLIENT_MSG_ID = 64;

/** Message and ack operations shared by REST and WebSocket. */
export class MessageService {
  private readonly now: () => Date;

  constructor(private readonly d: MessageServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  /** A row as the public Message, attachment urls signed now. */
  private toMessage = (row: MessageRow): Message => rowToMessage(row, this.d.attachments?.urls);

  /**
   * Persists a message with seq = last_seq + 1 in the batch transaction, then publishes `message`.
   * A repeated client_msg_id of the same sender in the room returns the original (created=false).
   */
  /**
   * `onSubmitted`: called once the send holds its place in the commit order, where that order is the
   * order transactions are submitted (SQLite's single writer); never on PostgreSQL, where two
   * transactions may take the room lock in either order.
   */
  async send(actor: Actor, roomId: string, input: SendInput, idempotencyKey?: string | null, onSubmitted?: () => void): Promise<{ message: Message; created: boolean }> {
    const started = performance.now();
    const tenant = actor.tenant;
    const room = await this.d.rooms.memberOf(actor, roomId);
    let clientMsgId = input.client_msg_id ?? null;
    if (idempotencyKey !== undefined && idempotencyKey !== null) {
      if (clientMsgId !== null && clientMsgId !== idempotencyKey) throw invalid("client_msg_id and Idempotency-Key differ", [{ path: "/client_msg_id", message: "differs from Idempotency-Key" }]);
      clientMsgId = idempotencyKey;
    }
    if (clientMsgId !== null) checkText(clientMsgId, { path: "/client_msg_id", what: "client_msg_id", min: 1, max: MAX_CLIENT_MSG_ID });
    const attachmentIds = checkAttachmentIds(input.attachments);
    if (attachmentIds.length && !this.d.attachments) throw invalid("attachments are not enabled", [{ path: "/attachments", message: "unsupported" }]);
    // With at least one attachment the text may be omitted or empty.
    const content = attachmentIds.length && (input.content === undefined || input.content === "") ? "" : checkContent(input.content, tenant.config.max_message_bytes);
    const meta = checkJson(input.meta, "/meta");
    const mentions = input.mentions === undefined || input.mentions === null ? [] : checkMentions(input.mentions);
    const parentId = input.parent_id ?? null;
    if (parentId !== null && (typeof parentId !== "string" || parentId.length < 1 || parentId.length > 64)) {
      throw invalid("parent_id must be a message id", [{ path: "/parent_id", message: "invalid" }]);
    }
    const bucket = await this.d.userBuckets.take(`${tenant.id}\u0000${actor.userId}`, tenant.config.user_message_rate, tenant.config.user_message_rate * 2);
    if (!bucket.ok) throw rateLimited(bucket, "user send");
    const tenantId = tenant.id;
    const outbox = this.d.outbox && tenant.config.webhook_url ? this.d.outbox : null;
    const attempt = () =>
      this.d.store.transaction(async (tx) => {
        if (clientMsgId !== null) {
          const existing = await tx.messages.byClientId(tenantId, roomId, actor.userId, clientMsgId);
          if (existing) return { row: existing, created: false };
        }
        // Authoritative membership check inside the transaction (the cache may trail by one batch).
        if (!(await tx.rooms.member(tenantId, roomId, actor.userId))) throw forbidden("not a member of this room");
        // Stamped inside the transaction, like message_id: a room listing taken before this commit
        // then sees only activity older than itself (RoomStore.userRooms relies on it).
        const at = this.now().toISOString();
        const seq = await tx.rooms.nextSeq(tenantId, roomId, at);
        // A reply changes two messages (itself and its root): two change positions, the root's last.
        const change = await tx.rooms.nextChange(tenantId, roomId, parentId === null ? 1 : 2);
        const parent = parentId === null ? null : await replyRoot(tx, tenantId, roomId, parentId);
        await checkMentionMembers(tx, tenantId, roomId, mentions, room.members);
        const messageId = Bun.randomUUIDv7();
        const attachments = attachmentIds.length ? await this.d.attachments!.attachToMessage(tx, actor, roomId, attachmentIds, messageId) : [];
        const row: MessageRow = {
          tenant_id: tenantId,
          room_id: roomId,
          seq,
          message_id: messageId,
          sender_id: actor.userId,
          content,
          meta,
          client_msg_id: clientMsgId,
          created_at: at,
          edited_at: null,
          deleted_at: null,
          parent_id: parentId,
          reply_count: 0,
          last_reply_at: null,
          mentions,
          reactions: [],
          attachments,
          change_seq: parent ? change - 1 : change,
        };
        await tx.messages.insert(row);
        await tx.messages.addMentions(tenantId, roomId, seq, mentionRows(row));
        let thread: ReturnType<typeof threadFrame> | null = null;
        if (parent) {
          await tx.messages.setThread(tenantId, parent.message_id, parent.reply_count + 1, at, change);
          thread = threadFrame(roomId, parent.message_id, parent.reply_count + 1, at);
        }
        // Sending advances the sender's own read position (no ack.received).
        await tx.rooms.advanceAck(tenantId, roomId, actor.userId, seq);
        tx.afterCommit(() => {
          this.d.rooms.messageCommitted(tenantId, roomId, seq, at);
          this.d.metrics?.messagesSent.inc();
          this.d.bus.toRoom(tenantId, roomId, { type: "message", ...this.toMessage(row) });
          if (thread) this.d.bus.toRoom(tenantId, roomId, thread);
        });
        // Webhooks for offline members: the payload once and a job, expanded after commit in chunks
        // (the room's size never lengthens this transaction).
        if (outbox && room.members.size > 1) {
          const job = await outbox.messageStored(tx, tenant, toRoom({ ...room.row, last_seq: seq }), rowToMessage(row));
          if (job) tx.afterCommit(() => void outbox.start(job).catch(() => {}));
        }
        return { row, created: true };
      });
    let result: { row: MessageRow; created: boolean };
    try {
      const committed = attempt();
      if (onSubmitted && this.d.store.kind === "sqlite") onSubmitted();
      result = await committed;
    } catch (err) {
      // Two sends with one client_msg_id raced past byClientId: the unique constraint kept one.
      if (!(err instanceof UniqueViolationError && err.constraint === "message_client_id" && clientMsgId !== null)) throw err;
      const existing = await this.d.store.messages.byClientId(tenantId, roomId, actor.userId, clientMsgId);
      if (!existing) throw err;
      result = { row: existing, created: false };
    }
    this.d.metrics?.sendSeconds.observe((performance.now() - started) / 1000);
    return { message: this.toMessage(result.row), created: result.created };
  }

  /** One message of a readable room. */
  async get(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    await this.d.rooms.readable(actor, roomId);
    return this.toMessage(await this.row(actor, roomId, messageId));
  }

  /** History per docs/reference/rest.md "History": after/before/window/latest, ascending, with has_more. */
  async history(actor: Actor, roomId: string, q: HistoryQuery): Promise<{ messages: Message[]; has_more: boolean }> {
    await this.d.rooms.readable(actor, roomId);
    return this.page(actor.tenant.id, roomId, q);
  }

  /** History without the permission check: for callers that already checked (WS replay). */
  async page(tenantId: string, roomId: string, q: HistoryQuery, parentId?: string): Promise<{ messages: Message[]; has_more: boolean }> {
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid("limit must be 1..200", [{ path: "/limit", message: "out of range" }]);
    for (const k of ["after_seq", "before_seq"] as const) {
      const v = q[k];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw invalid(`${k} must be an integer >= 0`, [{ path: `/${k}`, message: "out of range" }]);
    }
    const filter = parentId !== undefined ? { parentId } : q.top_level ? { topLevel: true } : undefined;
    let rows: MessageRow[];
    if (q.after_seq !== undefined) rows = await this.d.store.messages.after(tenantId, roomId, q.after_seq, q.before_seq ?? null, limit + 1, filter);
    else rows = await this.d.store.messages.before(tenantId, roomId, q.before_seq ?? null, limit + 1, filter);
    const has_more = rows.length > limit;
    if (has_more) rows = q.after_seq !== undefined ? rows.slice(0, limit) : rows.slice(1);
    return { messages: rows.map(this.toMessage), has_more };
  }

  /** A thread's replies (tombstones included), with the history paging rules. */
  async replies(actor: Actor, roomId: string, messageId: string, q: HistoryQuery): Promise<{ messages: Message[]; has_more: boolean }> {
    await this.d.rooms.readable(actor, roomId);
    await this.row(actor, roomId, messageId);
    return this.page(actor.tenant.id, roomId, { ...q, top_level: undefined }, messageId);
  }

  /** Sender only; sets edited_at; `mentions` replaces them; emits message.edited. */
  async edit(actor: Actor, roomId: string, messageId: string, input: EditInput): Promise<Message> {
    const room = await this.d.rooms.memberOf(actor, roomId);
    const tenantId = actor.tenant.id;
    if (input.content === undefined && input.meta === undefined && input.mentions === undefined) {
      throw invalid("give content, meta and/or mentions to edit", [{ path: "/", message: "nothing to change" }]);
    }
    const mentions = input.mentions === undefined || input.mentions === null ? null : checkMentions(input.mentions);
    const current = await this.row(actor, roomId, messageId);
    if (current.sender_id !== actor.userId) throw forbidden("only the sender may edit a message");
    if (current.deleted_at) throw conflict("a deleted message cannot be edited");
    const content = input.content === undefined ? undefined : checkContent(input.content, actor.tenant.config.max_message_bytes);
    const meta = input.meta === undefined ? undefined : checkJson(input.meta, "/meta");
    const at = this.now().toISOString();
    const row = await this.d.store.transaction(async (tx) => {
      // Re-read inside the transaction: a delete (or another edit) may have committed first, and an
      // edit must never bring a tombstone's content back.
      // The room's change position first (room lock, then the message's: one lock order everywhere).
      const change = await tx.rooms.nextChange(tenantId, roomId, 1);
      const fresh = await tx.messages.byId(tenantId, messageId);
      if (!fresh || fresh.room_id !== roomId) throw notFound("message not found");
      if (fresh.deleted_at) throw conflict("a deleted message cannot be edited");
      const next: MessageRow = {
        ...fresh,
        content: content ?? fresh.content,
        meta: meta === undefined ? fresh.meta : meta,
        edited_at: at,
        mentions: mentions ?? fresh.mentions,
        change_seq: change,
      };
      if (mentions !== null) {
        await checkMentionMembers(tx, tenantId, roomId, mentions, room.members);
        await tx.messages.removeMentions(tenantId, roomId, fresh.seq, mentionRows(fresh));
        await tx.messages.addMentions(tenantId, roomId, fresh.seq, mentionRows(next));
      }
      await tx.messages.edit(tenantId, messageId, next.content, next.meta, at, change, mentions);
      tx.afterCommit(() => this.d.bus.toRoom(tenantId, roomId, { type: "message.edited", ...this.toMessage(next) }));
      return next;
    });
    return this.toMessage(row);
  }

  /** Sender, or room owner/admin; leaves a tombstone that keeps its seq; emits message.deleted. */
  async delete(actor: Actor, roomId: string, messageId: string): Promise<void> {
    const room = await this.d.rooms.memberOf(actor, roomId);
    const tenantId = actor.tenant.id;
    const current = await this.row(actor, roomId, messageId);
    const role = room.members.get(actor.userId);
    if (current.sender_id !== actor.userId && role !== "owner" && role !== "admin") throw forbidden("only the sender or a room owner/admin may delete a message");
    if (current.deleted_at) return;
    const at = this.now().toISOString();
    await this.d.store.transaction(async (tx) => {
      // parent_id never changes, so the read above tells how many change positions this takes.
      const change = await tx.rooms.nextChange(tenantId, roomId, current.parent_id === null ? 1 : 2);
      // A concurrent delete of the same message may have committed first: tombstone (and announce) once.
      const fresh = await tx.messages.byId(tenantId, messageId);
      if (!fresh || fresh.deleted_at) return;
      const own = current.parent_id === null ? change : change - 1;
      await tx.messages.tombstone(tenantId, messageId, at, own);
      await tx.messages.removeMentions(tenantId, roomId, fresh.seq, mentionRows(fresh));
      // The files go with the message (docs/reference/rest.md "Attachments"): records now, blobs after the commit.
      if (fresh.attachments.length) await this.d.attachments?.messageDeleted(tx, tenantId, messageId);
      const gone: MessageRow = { ...fresh, content: "", meta: null, reactions: [], attachments: [], deleted_at: at, change_seq: own };
      const thread = fresh.parent_id === null ? null : await replyDeleted(tx, tenantId, roomId, fresh.parent_id, change);
      tx.afterCommit(() => {
        this.d.bus.toRoom(tenantId, roomId, { type: "message.deleted", ...this.toMessage(gone) });
        if (thread) this.d.bus.toRoom(tenantId, roomId, thread);
      });
    });
  }

  /** Moves last_ack forward (never back); seq must be 0..last_seq; emits ack.received when it moved. */
  async ack(actor: Actor, roomId: string, seq: number): Promise<{ room_id: string; last_ack: number; unread_count: number }> {
    const room = await this.d.rooms.memberOf(actor, roomId);
    const tenantId = actor.tenant.id;
    // The cached last_seq may trail sends committed through another node: ask the store before refusing.
    const lastSeq = Number.isSafeInteger(seq) && seq > room.row.last_seq ? ((await this.d.store.rooms.get(actor.tenant.id, roomId))?.last_seq ?? room.row.last_seq) : room.row.last_seq;
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > lastSeq) {
      throw invalid(`seq must be 0..${lastSeq} (the room's last_seq)`, [{ path: "/seq", message: "out of range" }]);
    }
    const lastAck = await this.d.store.transaction(async (tx) => {
      const before = await tx.rooms.member(tenantId, roomId, actor.userId);
      if (!before) throw forbidden("not a member of this room");
      const after = (await tx.rooms.advanceAck(tenantId, roomId, actor.userId, seq)) ?? before.last_ack;
      if (after > before.last_ack) tx.afterCommit(() => this.d.bus.toRoom(tenantId, roomId, { type: "ack.received", room_id: roomId, seq: after, user_id: actor.userId }));
      return after;
    });
    const unread = await this.d.store.messages.unreadCount(tenantId, roomId, lastAck, actor.userId);
    return { room_id: roomId, last_ack: lastAck, unread_count: unread };
  }

  private async row(actor: Actor, roomId: string, messageId: string): Promise<MessageRow> {
    const row = await this.d.store.messages.byId(actor.tenant.id, messageId);
    if (!row || row.room_id !== roomId) throw notFound("message not found");
    return row;
  }
}
