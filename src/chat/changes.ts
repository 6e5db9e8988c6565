// The changes feed (docs/guides/conversations.md, "Changes"): every message created or changed after a cursor, each
// once, in the order of its latest change. Positions come from rooms.last_change, taken under the
// room's row lock in the changing transaction, so a read never passes a position still uncommitted.
import { invalid, notFound } from "../errors";
import type { Store } from "../storage/store";
import { decodePosition, encodePosition } from "./conversation-rules";
import type { AttachmentUrls } from "../blobs/url-signer";
import { toMessage } from "./mappers";
import type { RoomService } from "./rooms";
import type { Actor, Message } from "./types";

export interface ChangesQuery {
  since?: string;
  limit?: number;
}

export interface ChangesPage {
  messages: Message[];
  next_cursor: string;
  has_more: boolean;
}

/** Changes reads shared by REST and WebSocket. */
export class ChangesService {
  /** `urls` signs the attachment urls of the messages returned. */
  constructor(private readonly d: { rooms: RoomService; store: Store; urls?: AttachmentUrls }) {}

  /** Without `since`: no messages and the cursor of the room's present state. Cursors never expire. */
  async changes(actor: Actor, roomId: string, q: ChangesQuery): Promise<ChangesPage> {
    await this.d.rooms.readable(actor, roomId);
    const tenantId = actor.tenant.id;
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid("limit must be 1..200", [{ path: "/limit", message: "out of range" }]);
    if (q.since === "") throw invalid("since must be a cursor from this room's changes", [{ path: "/since", message: "empty" }]);
    const since = q.since === undefined ? null : decodePosition(tenantId, roomId, q.since, "/since");
    const present = await this.d.store.rooms.lastChange(tenantId, roomId);
    if (present === null) throw notFound("room not found");
    if (since === null) return { messages: [], next_cursor: encodePosition(tenantId, roomId, present), has_more: false };
    // A well-formed cursor beyond the room's present position was not issued for this room.
    if (since > present) throw invalid("cursor was not issued by this server for this resource", [{ path: "/since", message: "unknown cursor" }]);
    const rows = await this.d.store.messages.changedAfter(tenantId, roomId, since, limit + 1);
    const page = rows.slice(0, limit);
    const tail = page[page.length - 1];
    return { messages: page.map((m) => toMessage(m, this.d.urls)), next_cursor: encodePosition(tenantId, roomId, tail ? tail.change_seq : since), has_more: rows.length > limit };
  }
}
