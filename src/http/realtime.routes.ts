// Realtime helpers over REST: /ws/token, /presence, and the documented /ws upgrade (K U).
import { Type } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import { AppError } from "../errors";
import type { RoomReads } from "../storage/room-store";
import type { PresenceView } from "../ws/presence";
import type { WsTokenService } from "../ws/tokens";
import type { HttpAuth } from "./auth";
import { errorResponses } from "./schemas";
import { keyUserScoped, userScoped } from "./tenant-auth";

const MAX_PRESENCE_IDS = 200;

/** POST /ws/token, GET /presence, GET /ws (non-upgrade requests get 400; upgrades never reach Elysia). */
export function realtimeRoutes(deps: { auth: HttpAuth; tokens: WsTokenService; presence: { view(tenantId: string, userId: string): PresenceView | Promise<PresenceView> }; roomStore: RoomReads }) {
  // K U only: a user token cannot mint single-use tokens (403).
  const keyOnly = new Elysia({ tags: ["Realtime"] })
    .use(keyUserScoped(deps.auth))
    .post("/ws/token", ({ actor }) => deps.tokens.mint(actor.tenant.id, actor.userId), {
      response: { 200: t.Object({ token: t.String(), expires_in: Type.Integer({ description: "Whole seconds" }) }), ...errorResponses },
      detail: { summary: "A single-use token for a browser: connect to /ws?token=... within expires_in seconds (API key only; a user JWT gets 403)" },
    });
  const perUser = new Elysia({ tags: ["Realtime"] })
    .use(userScoped(deps.auth))
    .get(
      "/presence",
      async ({ actor, request }) => {
        // A single value is split at commas; repeated user_ids= values are taken as they are. Read
        // from the raw URL: Elysia's array parsing also splits each repeated value at its commas.
        const raw = new URL(request.url).searchParams.getAll("user_ids");
        const ids = raw.length === 1 ? raw[0]!.split(",") : raw;
        const unique = [...new Set(ids.map((s) => s.trim()).filter((s) => s.length > 0))];
        if (unique.length > MAX_PRESENCE_IDS) throw new AppError("invalid_request", `at most ${MAX_PRESENCE_IDS} user_ids`, [{ path: "/query/user_ids", message: "too many" }]);
        const tenantId = actor.tenant.id;
        const shared = await Promise.all(unique.map((u) => (u.length <= 128 ? deps.roomStore.shareRoom(tenantId, actor.userId, u) : false)));
        const presence = await Promise.all(unique.filter((_, i) => shared[i]).map((u) => deps.presence.view(tenantId, u)));
        return { presence };
      },
      {
        query: t.Object({ user_ids: t.Union([t.String({ minLength: 1, maxLength: 26_000 }), t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: MAX_PRESENCE_IDS })]) }),
        response: {
          200: t.Object({
            presence: t.Array(t.Object({ user_id: t.String(), status: t.Union([t.Literal("online"), t.Literal("offline")]), last_seen: t.Union([t.String(), t.Null()]) })),
          }),
          ...errorResponses,
        },
        detail: { summary: "Presence of users who share a room with the caller (others omitted); last_seen is now while online, null if never seen since start" },
      },
    )
    .get(
      "/ws",
      () => {
        throw new AppError("invalid_request", "GET /ws must be a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)");
      },
      {
        query: t.Object({ token: t.Optional(t.String({ description: "Single-use token from POST /ws/token, or a signed user token (JWT); takes precedence over headers" })) }),
        response: { 101: t.Void({ description: "Switching Protocols: the frame protocol is in the README" }), ...errorResponses },
        detail: {
          summary: "WebSocket upgrade. Auth: X-API-Key + X-User-Id headers, Authorization: Bearer <jwt>, or ?token= (single-use token or JWT). Refused before upgrade: 400 user, 401 credentials, 403 origin, 429 rate",
        },
      },
    );
  return new Elysia().use(keyOnly).use(perUser);
}
