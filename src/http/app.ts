// The Elysia application: error mapping, OpenAPI docs, and every route module.
import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
import type { Logger } from "../log";
import { contextOf } from "./context";
import { errorResponse, toAppError } from "./errors";
import { guardJsonBody } from "./json-safety";
import { checkQueryIntegers } from "./request-guard";

/** Route modules are Elysia instances; app.ts mounts them in this order. */
export type RouteModule = Elysia<any, any, any, any, any, any, any>;

/** Builds the app from already-constructed route modules (main.ts constructs them). */
export function createHttpApp(opts: { version: string; log: Logger; modules: RouteModule[] }) {
  const { log } = opts;
  let app = new Elysia()
    .onError({ as: "global" }, ({ code, error, request }) => {
      const ctx = contextOf(request);
      const url = new URL(request.url);
      const err = toAppError(code, error, ctx.requestId, log, `${request.method} ${url.pathname}`, url);
      return errorResponse(err, ctx.requestId);
    })
    // Before validation: a body Elysia cannot print in its validation error would turn a 400 into a
    // 500, or hold the event loop for seconds (json-safety.ts).
    .onTransform({ as: "global" }, ({ body, request }) => {
      checkQueryIntegers(request.url);
      guardJsonBody(body);
    })
    .use(
      swagger({
        // API.md section 3 promises Swagger UI at /docs (the plugin defaults to Scalar).
        provider: "swagger-ui",
        path: "/docs",
        specPath: "/docs/json",
        exclude: ["/docs", "/docs/json"],
        documentation: {
          info: {
            title: "ChatAPI",
            version: opts.version,
            description:
              "Multitenant chat backend. Tenant routes take `X-API-Key` (+ `X-User-Id` for user-scoped routes); admin tenant routes take `X-Master-Key`. Errors: `{error, message, request_id, details?}`. The WebSocket protocol (`GET /ws`) is described in the README.",
          },
          tags: [
            { name: "Operations", description: "Health, metrics" },
            { name: "Admin: tenants", description: "Master key" },
            { name: "Admin: dead letters", description: "Tenant key" },
            { name: "Rooms", description: "Rooms and members" },
            { name: "Messages", description: "Messages, history, acks" },
            { name: "Notifications", description: "Notifications and topic subscriptions" },
            { name: "Realtime", description: "WebSocket tokens, presence, the /ws upgrade" },
          ],
          components: {
            securitySchemes: {
              ApiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
              UserId: { type: "apiKey", in: "header", name: "X-User-Id" },
              MasterKey: { type: "apiKey", in: "header", name: "X-Master-Key" },
            },
          },
        },
      }),
    );
  for (const m of opts.modules) app = app.use(m) as typeof app;
  return app;
}

/** The app type, for the fetch wrapper. */
export type HttpApp = ReturnType<typeof createHttpApp>;
