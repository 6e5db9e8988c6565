// Search on bun:sqlite: the FTS5 index messages_fts (migration 015), walked newest first.
import type { Database, Statement } from "bun:sqlite";
import { toFts5Match } from "../../chat/search-query";
import { invalid } from "../../errors";
import type { MessageRow } from "../message-store";
import type { SearchReads, SearchSpec } from "../search-store";
import type { Sync } from "./facade";
import { MESSAGE_COLUMNS, msg } from "./message-store";

/** Method names of SearchReads. */
export const SEARCH_METHODS = ["messages"] as const;

const cols = MESSAGE_COLUMNS.split(", ").map((c) => `m.${c}`).join(", ");
// CROSS JOIN keeps messages_fts the outer loop: FTS5 yields matches by descending rowid (= newest
// first), so a page stops after `limit` hits instead of sorting every match. Every filter below reads
// only columns of the messages_search_id index (tenant_id and room_id are part of it), so a match
// outside the caller's rooms costs no table read: the row is fetched for the page's hits only.
// No deleted_at test: a tombstone's content is "" and the update trigger removed it from the index.
const base = `SELECT ${cols}, f.rowid AS sid FROM messages_fts f CROSS JOIN messages m
  WHERE messages_fts MATCH $match AND f.rowid < $before AND m.search_id = f.rowid AND m.tenant_id = $tenant`;

/** SearchReads on bun:sqlite; statements prepared once. */
export class SqliteSearchStore implements Sync<SearchReads> {
  private readonly inRoom: Statement<any, any>;
  private readonly inRooms: Statement<any, any>;

  constructor(db: Database) {
    this.inRoom = db.query(`${base} AND m.room_id = $room ORDER BY f.rowid DESC LIMIT $limit`);
    this.inRooms = db.query(
      // "+": test membership against the (small) list of the user's rooms; as an index term SQLite would
      // probe messages_search_id once per room for every match.
      `${base} AND +m.room_id IN (SELECT room_id FROM room_members WHERE tenant_id = $tenant AND user_id = $user) ORDER BY f.rowid DESC LIMIT $limit`,
    );
  }

  messages(spec: SearchSpec): { rows: MessageRow[]; next: string | null } {
    let before = Number.MAX_SAFE_INTEGER;
    if (spec.cursor !== null) {
      if (!/^[1-9]\d{0,15}$/.test(spec.cursor)) throw invalid("cursor is not valid", [{ path: "/cursor", message: "not issued by this server" }]);
      before = Number(spec.cursor);
    }
    const params = { match: toFts5Match(spec.terms), before, tenant: spec.tenantId, limit: spec.limit + 1 };
    const raw: (Record<string, unknown> & { sid: number })[] =
      spec.roomId !== null ? this.inRoom.all({ ...params, room: spec.roomId }) : this.inRooms.all({ ...params, user: spec.userId });
    const more = raw.length > spec.limit;
    if (more) raw.length = spec.limit;
    const next = more ? String(raw[raw.length - 1]!.sid) : null;
    const rows = raw.map((r) => {
      delete (r as { sid?: number }).sid;
      return msg(r as any)!;
    });
    return { rows, next };
  }
}
