// Threads, reactions and the changes feed (K U): /rooms/{room_id}/messages/{message_id}/replies,
// .../reactions, /rooms/{room_id}/changes. They call the services the WebSocket gateway calls.
import { Elysia, t } from "elysia";
import type { ChangesService } from "../chat/changes";
import type { MessageService } from "../chat/messages";
import type { ReactionService } from "../chat/reactions";
import type { HttpAuth } from "./auth";
import { HistorySchema, MessageIdParam, MessageSchema, RepliesQuery, RoomIdParam } from "./chat-schemas";
import { errorResponses } from "./schemas";
import { userScoped } from "./tenant-auth";

const RoomParams = t.Object({ room_id: RoomIdParam });
const MessageParams = t.Object({ room_id: RoomIdParam, message_id: MessageIdParam });
const ReactionString = t.String({ minLength: 1, maxLength: 256, description: "1..64 UTF-8 bytes, no whitespace or control characters (an emoji or a short name)" });

export const ReactionListSchema = t.Object({
  reactions: t.Array(t.Object({ reaction: t.String(), user_id: t.String(), created_at: t.String({ description: "RFC 3339 UTC with milliseconds (date-time)" }) })),
  next_cursor: t.Union([t.String(), t.Null()]),
});

export const ChangesSchema = t.Object({
  messages: t.Array(MessageSchema),
  next_cursor: t.String({ description: "Opaque; never expires; pass it as since= next time" }),
  has_more: t.Boolean(),
});

/** Reply listing, reactions and the changes feed. */
export function conversationRoutes(deps: { auth: HttpAuth; messages: MessageService; reactions: ReactionService; changes: ChangesService }) {
  const { messages, reactions, changes } = deps;
  return new Elysia({ tags: ["Messages"] })
    .use(userScoped(deps.auth))
    .get("/rooms/:room_id/messages/:message_id/replies", ({ actor, params, query }) => messages.replies(actor, params.room_id, params.message_id, query), {
      params: MessageParams,
      query: RepliesQuery,
      response: { 200: HistorySchema, ...errorResponses },
      detail: { summary: "A thread's replies (tombstones included), with the history paging rules" },
    })
    .post(
      "/rooms/:room_id/messages/:message_id/reactions",
      ({ actor, params, body }) => reactions.react(actor, params.room_id, params.message_id, body.reaction),
      {
        params: MessageParams,
        body: t.Object({ reaction: ReactionString }, { additionalProperties: false }),
        response: { 200: MessageSchema, ...errorResponses },
        detail: { summary: "Add a reaction (members only; one already held changes nothing); emits reaction.added" },
      },
    )
    .delete(
      "/rooms/:room_id/messages/:message_id/reactions/:reaction",
      async ({ actor, params, set }) => {
        await reactions.unreact(actor, params.room_id, params.message_id, params.reaction);
        set.status = 204;
      },
      {
        params: t.Object({ room_id: RoomIdParam, message_id: MessageIdParam, reaction: ReactionString }),
        response: { 204: t.Void({ description: "Removed (also when absent)" }), ...errorResponses },
        detail: { summary: "Remove one's reaction (percent-encoded in the path); emits reaction.removed when it was there" },
      },
    )
    .get(
      "/rooms/:room_id/messages/:message_id/reactions",
      ({ actor, params, query }) => reactions.list(actor, params.room_id, params.message_id, query),
      {
        params: MessageParams,
        query: t.Object({
          reaction: t.Optional(ReactionString),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: undefined })),
          cursor: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
        }),
        response: { 200: ReactionListSchema, ...errorResponses },
        detail: { summary: "A message's reactions, oldest first; reaction=, limit=1..200 (50), cursor=" },
      },
    )
    .get("/rooms/:room_id/changes", ({ actor, params, query }) => changes.changes(actor, params.room_id, query), {
      params: RoomParams,
      query: t.Object({
        since: t.Optional(t.String({ maxLength: 128 })),
        limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: undefined })),
      }),
      response: { 200: ChangesSchema, ...errorResponses },
      detail: { summary: "Messages created or changed after a cursor, each once, in change order; without since: the present cursor" },
    });
}

