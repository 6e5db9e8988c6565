// /rooms/{room_id}/messages and /acks (K U).
import { Elysia, t } from "elysia";
import type { MessageService } from "../chat/messages";
import type { HttpAuth } from "./auth";
import { AckBody, AckSchema, EditMessageBody, HistoryQuery, HistorySchema, MessageIdParam, MessageSchema, RoomIdParam, SendMessageBody } from "./chat-schemas";
import { errorResponses } from "./schemas";
import { userScoped } from "./tenant-auth";

const RoomParams = t.Object({ room_id: RoomIdParam });
const MessageParams = t.Object({ room_id: RoomIdParam, message_id: MessageIdParam });

/** Message and ack routes; they call exactly the services the WebSocket gateway calls. */
export function messageRoutes(deps: { auth: HttpAuth; messages: MessageService }) {
  const { messages } = deps;
  return new Elysia({ tags: ["Messages"] })
    .use(userScoped(deps.auth))
    .post(
      "/rooms/:room_id/messages",
      async ({ actor, params, body, headers, set }) => {
        const r = await messages.send(actor, params.room_id, body, headers["idempotency-key"] ?? null);
        set.status = r.created ? 201 : 200;
        return r.message;
      },
      {
        params: RoomParams,
        body: SendMessageBody,
        headers: t.Object({ "idempotency-key": t.Optional(t.String({ minLength: 1, maxLength: 64 })) }),
        response: { 200: MessageSchema, 201: MessageSchema, ...errorResponses },
        detail: { summary: "Send a message (201); a repeated client_msg_id / Idempotency-Key returns the original (200)" },
      },
    )
    .get("/rooms/:room_id/messages", ({ actor, params, query }) => messages.history(actor, params.room_id, query), {
      params: RoomParams,
      query: HistoryQuery,
      response: { 200: HistorySchema, ...errorResponses },
      detail: { summary: "History: after_seq, before_seq, both (window) or neither (latest); ascending; has_more; top_level=true skips replies" },
    })
    .get("/rooms/:room_id/messages/:message_id", ({ actor, params }) => messages.get(actor, params.room_id, params.message_id), {
      params: MessageParams,
      response: { 200: MessageSchema, ...errorResponses },
      detail: { summary: "One message" },
    })
    .patch(
      "/rooms/:room_id/messages/:message_id",
      ({ actor, params, body }) => messages.edit(actor, params.room_id, params.message_id, body),
      {
        params: MessageParams,
        body: EditMessageBody,
        response: { 200: MessageSchema, ...errorResponses },
        detail: { summary: "Edit (sender only); sets edited_at; mentions replaces them; emits message.edited" },
      },
    )
    .delete(
      "/rooms/:room_id/messages/:message_id",
      async ({ actor, params, set }) => {
        await messages.delete(actor, params.room_id, params.message_id);
        set.status = 204;
      },
      {
        params: MessageParams,
        response: { 204: t.Void({ description: "Deleted (tombstone keeps its seq)" }), ...errorResponses },
        detail: { summary: "Delete (sender or owner/admin); emits message.deleted" },
      },
    )
    .post("/acks", ({ actor, body }) => messages.ack(actor, body.room_id, body.seq), {
      body: AckBody,
      response: { 200: AckSchema, ...errorResponses },
      detail: { summary: "Advance the caller's read position (never backwards); emits ack.received" },
    });
}
