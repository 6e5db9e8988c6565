// GET /search (K U).
import { Elysia } from "elysia";
import type { SearchService } from "../chat/search";
import type { HttpAuth } from "./auth";
import { SearchQuery, SearchSchema } from "./chat-schemas";
import { errorResponses } from "./schemas";
import { userScoped } from "./tenant-auth";

/** Message search over the caller's rooms (or one room). */
export function searchRoutes(deps: { auth: HttpAuth; search: SearchService }) {
  return new Elysia({ tags: ["Messages"] })
    .use(userScoped(deps.auth))
    .get("/search", ({ actor, query }) => deps.search.search(actor, query), {
      query: SearchQuery,
      response: { 200: SearchSchema, ...errorResponses },
      detail: { summary: "Search messages: words (AND), prefix*, \"phrases\"; case- and diacritic-insensitive; newest first" },
    });
}
