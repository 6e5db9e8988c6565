// Messages and acks: send (idempotent, gapless seq, group commit), history, edit, delete, ack.
import { conflict, forbidden, invalid, notFound } from "../errors";
import type { Metrics } from "../metrics";
import { UniqueViolationError } from "../storage/errors";
import type { FanoutJobRow } from "../storage/fanout-store";
import type { MessageRow } from "../storage/message-store";
import type { Store, Tx } from "../storage/store";
import { rateLimited, type TokenBuckets } from "../tenancy/rate-limiter";
import type { Tenant } from "../tenancy/tenants";
import type { Bus, OnlineDirectory } from "./bus";
import { toMessage, toRoom } from "./mappers";
import type { RoomService } from "./rooms";
import type { Actor, Message, Room } from "./types";
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
  userBuckets: TokenBuckets;
  metrics?: Metrics;
  now?: () => Date;
}

export interface SendInput {
  content: unknown;
  meta?: unknown;
  client_msg_id?: string;
}

export interface HistoryQuery {
  after_seq?: number;
  before_seq?: number;
  limit?: number;
}

const MAX_CLIENT_MSG_ID = 64;

/** Message and ack operations shared by REST and WebSocket. */
export class MessageService {
  private readonly now: () => Date;

  constructor(private readonly d: MessageServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  /**
   * Persists a message with seq = last_seq + 1 in the batch transaction, then publishes `message`.
   * A repeated client_msg_id of the same sender in the room returns the original (created=false).
   */
  async send(actor: Actor, roomId: string, input: SendInput, idempotencyKey?: string | null): Promise<{ message: Message; created: boolean }> {
    const tenant = actor.tenant;
    const room = await this.d.rooms.memberOf(actor, roomId);
    let clientMsgId = input.client_msg_id ?? null;
    if (idempotencyKey !== undefined && idempotencyKey !== null) {
      if (clientMsgId !== null && clientMsgId !== idempotencyKey) throw invalid("client_msg_id and Idempotency-Key differ", [{ path: "/client_msg_id", message: "differs from Idempotency-Key" }]);
      clientMsgId = idempotencyKey;
    }
    if (clientMsgId !== null) checkText(clientMsgId, { path: "/client_msg_id", what: "client_msg_id", min: 1, max: MAX_CLIENT_MSG_ID });
    const content = checkContent(input.content, tenant.config.max_message_bytes);
    const meta = checkJson(input.meta, "/meta");
    const bucket = this.d.userBuckets.take(`${tenant.id}\u0000${actor.userId}`, tenant.config.user_message_rate, tenant.config.user_message_rate * 2);
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
        const row: MessageRow = {
          tenant_id: tenantId,
          room_id: roomId,
          seq,
          message_id: Bun.randomUUIDv7(),
          sender_id: actor.userId,
          content,
          meta,
          client_msg_id: clientMsgId,
          created_at: at,
          edited_at: null,
          deleted_at: null,
        };
        await tx.messages.insert(row);
        // Sending advances the sender's own read position (no ack.received).
        await tx.rooms.advanceAck(tenantId, roomId, actor.userId, seq);
        tx.afterCommit(() => {
          this.d.rooms.messageCommitted(tenantId, roomId, seq, at);
          this.d.metrics?.messagesSent.inc();
          this.d.bus.toRoom(tenantId, roomId, { type: "message", ...toMessage(row) });
        });
        // Webhooks for offline members: the payload once and a job, expanded after commit in chunks
        // (the room's size never lengthens this transaction).
        if (outbox && room.members.size > 1) {
          const job = await outbox.messageStored(tx, tenant, toRoom({ ...room.row, last_seq: seq }), toMessage(row));
          if (job) tx.afterCommit(() => void outbox.start(job).catch(() => {}));
        }
        return { row, created: true };
      });
    let result: { row: MessageRow; created: boolean };
    try {
      result = await attempt();
    } catch (err) {
      // Two sends with one client_msg_id raced past byClientId: the unique constraint kept one.
      if (!(err instanceof UniqueViolationError && err.constraint === "message_client_id" && clientMsgId !== null)) throw err;
      const existing = await this.d.store.messages.byClientId(tenantId, roomId, actor.userId, clientMsgId);
      if (!existing) throw err;
      result = { row: existing, created: false };
    }
    return { message: toMessage(result.row), created: result.created };
  }

  /** One message of a readable room. */
  async get(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    await this.d.rooms.readable(actor, roomId);
    return toMessage(await this.row(actor, roomId, messageId));
  }

  /** History per API.md "History": after/before/window/latest, ascending, with has_more. */
  async history(actor: Actor, roomId: string, q: HistoryQuery): Promise<{ messages: Message[]; has_more: boolean }> {
    await this.d.rooms.readable(actor, roomId);
    return this.page(actor.tenant.id, roomId, q);
  }

  /** History without the permission check: for callers that already checked (WS replay). */
  async page(tenantId: string, roomId: string, q: HistoryQuery): Promise<{ messages: Message[]; has_more: boolean }> {
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid("limit must be 1..200", [{ path: "/limit", message: "out of range" }]);
    for (const k of ["after_seq", "before_seq"] as const) {
      const v = q[k];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw invalid(`${k} must be an integer >= 0`, [{ path: `/${k}`, message: "out of range" }]);
    }
    let rows: MessageRow[];
    if (q.after_seq !== undefined) rows = await this.d.store.messages.after(tenantId, roomId, q.after_seq, q.before_seq ?? null, limit + 1);
    else rows = await this.d.store.messages.before(tenantId, roomId, q.before_seq ?? null, limit + 1);
    const has_more = rows.length > limit;
    if (has_more) rows = q.after_seq !== undefined ? rows.slice(0, limit) : rows.slice(1);
    return { messages: rows.map(toMessage), has_more };
  }

  /** Sender only; sets edited_at; emits message.edited. */
  async edit(actor: Actor, roomId: string, messageId: string, input: { content?: unknown; meta?: unknown }): Promise<Message> {
    await this.d.rooms.memberOf(actor, roomId);
    const tenantId = actor.tenant.id;
    if (input.content === undefined && input.meta === undefined) throw invalid("give content and/or meta to edit", [{ path: "/", message: "nothing to change" }]);
    const current = await this.row(actor, roomId, messageId);
    if (current.sender_id !== actor.userId) throw forbidden("only the sender may edit a message");
    if (current.deleted_at) throw conflict("a deleted message cannot be edited");
    const content = input.content === undefined ? undefined : checkContent(input.content, actor.tenant.config.max_message_bytes);
    const meta = input.meta === undefined ? undefined : checkJson(input.meta, "/meta");
    const at = this.now().toISOString();
    const row = await this.d.store.transaction(async (tx) => {
      // Re-read inside the transaction: a delete (or another edit) may have committed first, and an
      // edit must never bring a tombstone's content back.
      const fresh = await tx.messages.byId(tenantId, messageId);
      if (!fresh || fresh.room_id !== roomId) throw notFound("message not found");
      if (fresh.deleted_at) throw conflict("a deleted message cannot be edited");
      const next: MessageRow = { ...fresh, content: content ?? fresh.content, meta: meta === undefined ? fresh.meta : meta, edited_at: at };
      await tx.messages.edit(tenantId, messageId, next.content, next.meta, at);
      tx.afterCommit(() => this.d.bus.toRoom(tenantId, roomId, { type: "message.edited", ...toMessage(next) }));
      return next;
    });
    return toMessage(row);
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
      // A concurrent delete of the same message may have committed first: tombstone (and announce) once.
      const fresh = await tx.messages.byId(tenantId, messageId);
      if (!fresh || fresh.deleted_at) return;
      await tx.messages.tombstone(tenantId, messageId, at);
      const gone: MessageRow = { ...fresh, content: "", meta: null, deleted_at: at };
      tx.afterCommit(() => this.d.bus.toRoom(tenantId, roomId, { type: "message.deleted", ...toMessage(gone) }));
    });
  }

  /** Moves last_ack forward (never back); seq must be 0..last_seq; emits ack.received when it moved. */
  async ack(actor: Actor, roomId: string, seq: number): Promise<{ room_id: string; last_ack: number; unread_count: number }> {
    const room = await this.d.rooms.memberOf(actor, roomId);
    const tenantId = actor.tenant.id;
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > room.row.last_seq) {
      throw invalid(`seq must be 0..${room.row.last_seq} (the room's last_seq)`, [{ path: "/seq", message: "out of range" }]);
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
