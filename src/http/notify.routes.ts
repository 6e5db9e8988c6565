// POST /notify (K), /notifications (K U) and /subscriptions (K U).
import { Type } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import type { NotificationService } from "../chat/notifications";
import type { SubscriptionService } from "../chat/subscriptions";
import type { HttpAuth } from "./auth";
import { UserId } from "./chat-schemas";
import { errorResponses } from "./schemas";
import { tenantScoped, userScoped } from "./tenant-auth";

const Timestamp = t.String({ description: "RFC 3339 UTC with milliseconds (date-time)" });
const Topic = t.String({ minLength: 1, maxLength: 128, description: "1..128 characters" });
const IdParam = t.String({ minLength: 1, maxLength: 64 });
const Payload = t.Unknown({ description: "Any JSON value (object, array, string, number, boolean, null); required; at most 16 KiB serialized" });

export const NotificationSchema = t.Object({
  notification_id: t.String(),
  topic: t.String(),
  payload: Payload,
  created_at: Timestamp,
  acked_at: t.Union([Timestamp, t.Null()]),
});

export const SubscriptionSchema = t.Object({ id: t.String(), topic: t.String(), created_at: Timestamp });

const NotifyBody = t.Object(
  {
    topic: Topic,
    payload: Payload,
    targets: t.Object(
      {
        user_ids: t.Optional(t.Array(UserId, { maxItems: 1000, description: "These users (may be empty)" })),
        room_id: t.Optional(t.String({ minLength: 1, maxLength: 64, description: "The room's members at creation (404 if not a room of this tenant)" })),
        topic_subscribers: t.Optional(t.Boolean({ description: "true: the users subscribed to `topic`" })),
      },
      { additionalProperties: false, description: "At least one of user_ids, room_id, topic_subscribers: true; recipients are the union, each once" },
    ),
  },
  { additionalProperties: false },
);

/** Notification and subscription routes; they call the services the WebSocket gateway calls. */
export function notifyRoutes(deps: { auth: HttpAuth; notifications: NotificationService; subscriptions: SubscriptionService }) {
  const { notifications, subscriptions } = deps;
  const tenantOnly = new Elysia({ tags: ["Notifications"] })
    .use(tenantScoped(deps.auth))
    .post(
      "/notify",
      async ({ tenant, body, set }) => {
        const r = await notifications.notify(tenant, body);
        set.status = 202;
        return r;
      },
      {
        body: NotifyBody,
        response: {
          202: t.Object({ notification_id: t.String(), topic: t.String(), recipients: Type.Integer({ minimum: 0, description: "How many recipients were resolved and stored" }), created_at: Timestamp }),
          ...errorResponses,
        },
        detail: { summary: "Notify explicit targets (users, a room's members, topic subscribers); live frames to online recipients, webhooks to offline ones" },
      },
    );
  const perUser = new Elysia({ tags: ["Notifications"] })
    .use(userScoped(deps.auth))
    .get("/notifications", async ({ actor, query }) => ({ notifications: await notifications.list(actor, { unacked: query.unacked, limit: query.limit }) }), {
      query: t.Object({
        unacked: t.Optional(t.Boolean({ description: "true: only notifications not acked yet" })),
        limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, description: "1..200, default 50" })),
      }),
      response: { 200: t.Object({ notifications: t.Array(NotificationSchema) }), ...errorResponses },
      detail: { summary: "The caller's notifications, newest first" },
    })
    .post(
      "/notifications/:notification_id/ack",
      async ({ actor, params, set }) => {
        await notifications.ack(actor, params.notification_id);
        set.status = 204;
      },
      {
        params: t.Object({ notification_id: IdParam }),
        response: { 204: t.Void({ description: "Acked (acking again is fine)" }), ...errorResponses },
        detail: { summary: "Ack one of the caller's notifications (another user's: 404)" },
      },
    )
    .post(
      "/subscriptions",
      async ({ actor, body, set }) => {
        const r = await subscriptions.subscribe(actor, body.topic);
        set.status = r.created ? 201 : 200;
        return r.subscription;
      },
      {
        body: t.Object({ topic: Topic }, { additionalProperties: false }),
        response: { 200: SubscriptionSchema, 201: SubscriptionSchema, ...errorResponses },
        detail: { summary: "Subscribe the caller to a topic (201), or return the existing subscription (200)" },
      },
    )
    .get("/subscriptions", async ({ actor }) => ({ subscriptions: await subscriptions.list(actor) }), {
      response: { 200: t.Object({ subscriptions: t.Array(SubscriptionSchema) }), ...errorResponses },
      detail: { summary: "The caller's subscriptions" },
    })
    .delete(
      "/subscriptions/:id",
      async ({ actor, params, set }) => {
        await subscriptions.unsubscribe(actor, params.id);
        set.status = 204;
      },
      {
        params: t.Object({ id: IdParam }),
        response: { 204: t.Void({ description: "Unsubscribed" }), ...errorResponses },
        detail: { summary: "Delete one of the caller's subscriptions (another user's: 404)" },
      },
    );
  return new Elysia().use(tenantOnly).use(perUser);
}
