// The Elysia application: error mapping, every route module, and the OpenAPI docs (docs.routes.ts).
import { Elysia } from "elysia";
import type { Logger } from "../log";
import { contextOf } from "./context";
import { docsRoutes } from "./docs.routes";
import type { RouteInfo } from "./openapi/generate";
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
    });
  for (const m of opts.modules) app = app.use(m) as typeof app;
  // Last, so that the document lists every module above (docs routes hide themselves).
  const docs = docsRoutes({ version: opts.version, routes: () => app.routes as unknown as RouteInfo[] });
  app = app.use(docs) as unknown as typeof app;
  return app;
}

/** The app type, for the fetch wrapper. */
export type HttpApp = ReturnType<typeof createHttpApp>;
