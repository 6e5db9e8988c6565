// Client frames -> the same domain services REST calls; `reply` / `error` correlated by `id`.
import type { ChangesService } from "../chat/changes";
import type { MessageService } from "../chat/messages";
import type { ReactionService } from "../chat/reactions";
import type { RoomService } from "../chat/rooms";
import type { Actor } from "../chat/types";
import { AppError, WS_CLOSE } from "../errors";
import type { Logger } from "../log";
import type { RateLimiter } from "../tenancy/rate-limiter";
import type { TenantService } from "../tenancy/tenants";
import { parseClientFrame, type ClientFrame } from "./frames";
import type { Socket } from "./registry";
import type { NotificationsPort } from "./replay";
import type { TypingTracker } from "./typing";
import { sendText } from "./send";

/** Everything a frame may call. */
export interface FrameServices {
  rooms: RoomService;
  messages: MessageService;
  reactions: ReactionService;
  changes: ChangesService;
  typing: TypingTracker;
  tenants: TenantService;
  buckets: RateLimiter;
  log: Logger;
  notifications?: NotificationsPort;
}

// Typing frames are cheap to send and never stored: a small per-user budget keeps them from flooding rooms.
const TYPING_RATE_PER_S = 5;

function sendJson(ws: Socket, frame: Record<string, unknown>): void {
  sendText(ws, JSON.stringify(frame));
}

/** Sends an `error` frame (docs/reference/rest.md: the REST error fields minus request_id, plus the frame's id). */
export function sendError(ws: Socket, id: string | undefined, err: AppError): void {
  const frame: Record<string, unknown> = { type: "error", error: err.code, message: err.message };
  if (id !== undefined) frame.id = id;
  if (err.details?.length) frame.details = err.details;
  if (err.extra) Object.assign(frame, err.extra);
  sendJson(ws, frame);
}

async function run(frame: ClientFrame, actor: Actor, ws: Socket, s: FrameServices, onSubmitted?: () => void): Promise<unknown> {
  switch (frame.type) {
    case "send_message": {
      const d = frame.data;
      const input = { content: d.content, meta: d.meta, client_msg_id: d.client_msg_id ?? undefined, parent_id: d.parent_id, mentions: d.mentions, attachments: d.attachments ?? undefined };
      return (await s.messages.send(actor, d.room_id, input, undefined, onSubmitted)).message;
    }
    case "edit_message": {
      const d = frame.data;
      return s.messages.edit(actor, d.room_id, d.message_id, { content: d.content ?? undefined, meta: d.meta, mentions: d.mentions });
    }
    case "delete_message":
      await s.messages.delete(actor, frame.data.room_id, frame.data.message_id);
      return {};
    case "ack":
      return s.messages.ack(actor, frame.data.room_id, frame.data.seq);
    case "typing.start":
    case "typing.stop": {
      await s.rooms.memberOf(actor, frame.data.room_id);
      const r = await s.buckets.take(`typing\u0000${actor.tenant.id}\u0000${actor.userId}`, TYPING_RATE_PER_S, TYPING_RATE_PER_S * 2);
      if (!r.ok) throw new AppError("rate_limit_exceeded", "typing rate limit exceeded", undefined, { retry_after_ms: r.retryAfterMs });
      if (frame.type === "typing.start") s.typing.start(actor.tenant.id, frame.data.room_id, actor.userId);
      else s.typing.stop(actor.tenant.id, frame.data.room_id, actor.userId);
      return {};
    }
    case "sync": {
      const d = frame.data;
      return s.messages.history(actor, d.room_id, { after_seq: d.after_seq ?? undefined, before_seq: d.before_seq ?? undefined, limit: d.limit ?? undefined });
    }
    case "list_rooms":
      return s.rooms.list(actor, { limit: frame.data.limit ?? undefined, cursor: frame.data.cursor ?? undefined });
    case "notification.ack":
      if (!s.notifications) throw new AppError("not_found", "notification not found");
      await s.notifications.ack(actor, frame.data.notification_id);
      return {};
    case "react":
      return s.reactions.react(actor, frame.data.room_id, frame.data.message_id, frame.data.reaction);
    case "unreact":
      await s.reactions.unreact(actor, frame.data.room_id, frame.data.message_id, frame.data.reaction);
      return {};
    case "changes":
      return s.changes.changes(actor, frame.data.room_id, { since: frame.data.since, limit: frame.data.limit });
    case "ping":
      sendJson(ws, { type: "pong" });
      return {};
  }
}

/** Handles one client frame: parse, charge one tenant token, dispatch, then reply or error. Never throws. */
/**
 * Handles one client frame. `onSubmitted` is called when a `send_message` has taken its place in the
 * store's commit order (SQLite: its transaction is queued), so the socket's next frame may start.
 */
export async function dispatchFrame(ws: Socket, raw: string | Buffer, s: FrameServices, onSubmitted?: () => void): Promise<void> {
  let id: string | undefined;
  try {
    if (typeof raw !== "string") {
      sendError(ws, undefined, new AppError("invalid_request", "binary frames are not supported; send JSON text"));
      return;
    }
    const parsed = parseClientFrame(raw);
    if (!parsed.ok) id = parsed.id;
    else id = parsed.frame.id;
    const tenant = s.tenants.cached(ws.data.tenantId) ?? (await s.tenants.get(ws.data.tenantId));
    const bucket = await s.buckets.take(tenant.id, tenant.config.rate_limit, tenant.config.rate_limit_burst);
    if (!bucket.ok) {
      sendError(ws, id, new AppError("rate_limit_exceeded", "tenant rate limit exceeded", undefined, { retry_after_ms: bucket.retryAfterMs }));
      return;
    }
    if (!parsed.ok) {
      sendError(ws, id, new AppError("invalid_request", parsed.message, parsed.details));
      return;
    }
    const actor: Actor = { tenant, userId: ws.data.userId };
    const data = await run(parsed.frame, actor, ws, s, onSubmitted);
    if (id !== undefined) sendJson(ws, { type: "reply", id, data });
  } catch (err) {
    if (err instanceof AppError) {
      sendError(ws, id, err);
      return;
    }
    s.log.error({ request_id: ws.data.requestId, tenant_id: ws.data.tenantId, user_id: ws.data.userId, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, "ws frame failed");
    if (ws.readyState === 1) ws.close(WS_CLOSE.internal, "internal error");
  }
}
