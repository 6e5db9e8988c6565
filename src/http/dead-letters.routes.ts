// /admin/dead-letters (K): the tenant's webhook deliveries that used every attempt, and their retry.
import { Type } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import type { DeadLetterService } from "../delivery/dead-letters";
import type { HttpAuth } from "./auth";
import { errorResponses } from "./schemas";
import { tenantScoped } from "./tenant-auth";

const Timestamp = t.String({ description: "RFC 3339 UTC with milliseconds (date-time)" });

export const DeadLetterSchema = t.Object({
  id: t.String({ description: "The delivery id (= the webhook's event_id)" }),
  kind: t.Union([t.Literal("message.new"), t.Literal("notification.new")]),
  target_url: t.Union([t.String(), t.Null()], { description: "The URL of the last attempt" }),
  attempts: Type.Integer({ minimum: 0 }),
  last_error: t.Union([t.String(), t.Null()], { description: 'e.g. "HTTP 500", "timeout after 5000 ms", a network error, "tenant has no webhook_url"' }),
  payload: t.Record(t.String(), t.Unknown(), { description: "The webhook body as a JSON object" }),
  created_at: Timestamp,
  last_attempt_at: t.Union([Timestamp, t.Null()]),
});

/** Dead-letter routes; the tenant key only (X-User-Id not needed); another tenant's ids are 404. */
export function deadLetterRoutes(deps: { auth: HttpAuth; deadLetters: DeadLetterService }) {
  const { deadLetters } = deps;
  return new Elysia({ prefix: "/admin/dead-letters", tags: ["Admin: dead letters"] })
    .use(tenantScoped(deps.auth))
    .get("", async ({ tenant, query }) => ({ dead_letters: await deadLetters.list(tenant, query.limit ?? 100) }), {
      query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000, description: "1..1000, default 100" })) }),
      response: { 200: t.Object({ dead_letters: t.Array(DeadLetterSchema) }), ...errorResponses },
      detail: { summary: "This tenant's dead letters, newest first" },
    })
    .post(
      "/:id/retry",
      async ({ tenant, params, set }) => {
        await deadLetters.retry(tenant, params.id);
        set.status = 202;
        return { id: params.id, status: "pending" as const };
      },
      {
        params: t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) }),
        response: { 202: t.Object({ id: t.String(), status: t.Literal("pending") }), ...errorResponses },
        detail: { summary: "Re-queue a dead letter with fresh attempts; it leaves the list and is attempted at once" },
      },
    );
}
