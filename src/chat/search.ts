// GET /search (docs/reference/rest.md "Search"): the caller's rooms (or one readable room), newest first, opaque cursor.
import type { AttachmentUrls } from "../blobs/url-signer";
import { invalid } from "../errors";
import type { Store } from "../storage/store";
import { toMessage } from "./mappers";
import type { RoomService } from "./rooms";
import { parseSearchQuery } from "./search-query";
import type { Actor, Message } from "./types";

export interface SearchInput {
  q?: unknown;
  room_id?: string;
  limit?: number;
  cursor?: string;
}

// Cursors wrap the store's own position token; the prefix tells ours from anything else.
const CURSOR_PREFIX = "s1.";

/** Message search shared by REST (and any other caller). */
export class SearchService {
  constructor(private readonly d: { store: Store; rooms: RoomService; urls?: AttachmentUrls }) {}

  /** Matches of `q` the caller may read, newest first; `next_cursor` null on the last page. */
  async search(actor: Actor, input: SearchInput): Promise<{ messages: Message[]; next_cursor: string | null }> {
    const terms = parseSearchQuery(input.q);
    const limit = input.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid("limit must be 1..100", [{ path: "/limit", message: "out of range" }]);
    let cursor: string | null = null;
    if (input.cursor !== undefined) {
      const raw = input.cursor.startsWith(CURSOR_PREFIX) ? Buffer.from(input.cursor.slice(CURSOR_PREFIX.length), "base64url").toString("utf8") : "";
      if (!raw || !raw.isWellFormed()) throw invalid("cursor is not valid", [{ path: "/cursor", message: "not issued by this server" }]);
      cursor = raw;
    }
    const roomId = input.room_id ?? null;
    // A room the caller may not read: 403 (or 404 when it does not exist), exactly as for history.
    if (roomId !== null) await this.d.rooms.readable(actor, roomId);
    const page = await this.d.store.search.messages({ tenantId: actor.tenant.id, userId: actor.userId, roomId, terms, cursor, limit });
    return {
      messages: page.rows.map((r) => toMessage(r, this.d.urls)),
      next_cursor: page.next === null ? null : CURSOR_PREFIX + Buffer.from(page.next, "utf8").toString("base64url"),
    };
  }
}
