// /rooms and /rooms/{room_id}/members: rooms, DMs and membership (K U).
import { Elysia, t } from "elysia";
import type { RoomService } from "../chat/rooms";
import type { HttpAuth } from "./auth";
import { CreateRoomBody, GrantableRole, MemberSchema, MembersSchema, RoomIdParam, RoomSchema, RoomSummarySchema, UserId, UserIdParam } from "./chat-schemas";
import { AnyJson, errorResponses } from "./schemas";
import { userScoped } from "./tenant-auth";

const RoomParams = t.Object({ room_id: RoomIdParam });
const MemberParams = t.Object({ room_id: RoomIdParam, user_id: UserIdParam });

/** Room and member routes; every one tenant-scoped and membership-checked by RoomService. */
export function roomRoutes(deps: { auth: HttpAuth; rooms: RoomService }) {
  const { rooms } = deps;
  return new Elysia({ tags: ["Rooms"] })
    .use(userScoped(deps.auth))
    .post(
      "/rooms",
      async ({ actor, body, set }) => {
        const r = await rooms.create(actor, body);
        set.status = r.created ? 201 : 200;
        return r.room;
      },
      {
        body: CreateRoomBody,
        response: { 200: RoomSchema, 201: RoomSchema, ...errorResponses },
        detail: { summary: "Create a room (201), or return the existing DM of the pair (200)" },
      },
    )
    .get("/rooms", ({ actor, query }) => rooms.list(actor, query), {
      query: t.Object({
        limit: t.Optional(t.Integer({ minimum: 1, maximum: 200 })),
        cursor: t.Optional(t.String({ minLength: 1, maxLength: 512 })),
      }),
      response: { 200: t.Object({ rooms: t.Array(RoomSummarySchema), next_cursor: t.Union([t.String(), t.Null()]) }), ...errorResponses },
      detail: { summary: "The caller's rooms, most recent activity first; the cursor pins a snapshot so pages stay stable" },
    })
    .get("/rooms/:room_id", ({ actor, params }) => rooms.get(actor, params.room_id), {
      params: RoomParams,
      response: { 200: RoomSchema, ...errorResponses },
      detail: { summary: "A room (members; any tenant user for a channel)" },
    })
    .patch("/rooms/:room_id", ({ actor, params, body }) => rooms.patch(actor, params.room_id, body), {
      params: RoomParams,
      body: t.Object({ name: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 200 }), t.Null()])), metadata: t.Optional(AnyJson) }, { additionalProperties: false }),
      response: { 200: RoomSchema, ...errorResponses },
      detail: { summary: "Update name/metadata (owner/admin); emits room.updated" },
    })
    .get("/rooms/:room_id/members", async ({ actor, params }) => ({ members: await rooms.members(actor, params.room_id) }), {
      params: RoomParams,
      response: { 200: MembersSchema, ...errorResponses },
      detail: { summary: "Members with their last_ack (read receipts)" },
    })
    .post(
      "/rooms/:room_id/members",
      async ({ actor, params, body }) => ({ members: await rooms.addMembers(actor, params.room_id, body) }),
      {
        params: RoomParams,
        body: t.Object({ user_ids: t.Array(UserId, { minItems: 1, maxItems: 1000 }), role: t.Optional(GrantableRole) }, { additionalProperties: false }),
        response: { 200: MembersSchema, ...errorResponses },
        detail: { summary: "Add members (owner/admin of a group; only the owner grants admin); self-join a channel; 409 for a DM" },
      },
    )
    .patch("/rooms/:room_id/members/:user_id", ({ actor, params, body }) => rooms.setRole(actor, params.room_id, params.user_id, body.role), {
      params: MemberParams,
      body: t.Object({ role: GrantableRole }, { additionalProperties: false }),
      response: { 200: MemberSchema, ...errorResponses },
      detail: { summary: "Change a member's role (owner only)" },
    })
    .delete(
      "/rooms/:room_id/members/:user_id",
      async ({ actor, params, set }) => {
        await rooms.removeMember(actor, params.room_id, params.user_id);
        set.status = 204;
      },
      {
        params: MemberParams,
        response: { 204: t.Void({ description: "Removed" }), ...errorResponses },
        detail: { summary: "Leave (self) or remove (owner/admin); 409 for a DM" },
      },
    );
}
