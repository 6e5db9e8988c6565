// The embedded, ordered list of SQLite migrations. Add a file to migrations/sqlite/ and a line here.
import m001 from "../../../migrations/sqlite/001_init.sql" with { type: "text" };
import m002 from "../../../migrations/sqlite/002_chat.sql" with { type: "text" };
import m003 from "../../../migrations/sqlite/003_delivery.sql" with { type: "text" };
import m004 from "../../../migrations/sqlite/004_ws_tokens.sql" with { type: "text" };
import m005 from "../../../migrations/sqlite/005_delivery_fairness.sql" with { type: "text" };
import m006 from "../../../migrations/sqlite/006_room_member_count.sql" with { type: "text" };
import m007 from "../../../migrations/sqlite/007_jwt_keys.sql" with { type: "text" };
import m009 from "../../../migrations/sqlite/009_delivery_leases.sql" with { type: "text" };
import m010 from "../../../migrations/sqlite/010_conversations.sql" with { type: "text" };
import m015 from "../../../migrations/sqlite/015_search.sql" with { type: "text" };
import m016 from "../../../migrations/sqlite/016_attachments.sql" with { type: "text" };
import m017 from "../../../migrations/sqlite/017_fairness.sql" with { type: "text" };

/** One forward-only migration: applied once, in one transaction, recorded by name. */
export interface Migration {
  name: string;
  sql: string;
}

/** Every migration of this build, in the order they apply (names sort in that order). */
export const MIGRATIONS: readonly Migration[] = [
  { name: "001_init.sql", sql: m001 },
  { name: "002_chat.sql", sql: m002 },
  { name: "003_delivery.sql", sql: m003 },
  { name: "004_ws_tokens.sql", sql: m004 },
  { name: "005_delivery_fairness.sql", sql: m005 },
  { name: "006_room_member_count.sql", sql: m006 },
  { name: "007_jwt_keys.sql", sql: m007 },
  { name: "009_delivery_leases.sql", sql: m009 },
  { name: "010_conversations.sql", sql: m010 },
  // 011-014 are reserved for conversations (threads, mentions, reactions).
  { name: "015_search.sql", sql: m015 },
  { name: "016_attachments.sql", sql: m016 },
  { name: "017_fairness.sql", sql: m017 },
];
