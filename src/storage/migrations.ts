// The embedded, ordered list of migrations. Add a file to migrations/ and a line here.
import m001 from "../../migrations/001_init.sql" with { type: "text" };
import m002 from "../../migrations/002_chat.sql" with { type: "text" };
import m003 from "../../migrations/003_delivery.sql" with { type: "text" };
import m004 from "../../migrations/004_ws_tokens.sql" with { type: "text" };
import m005 from "../../migrations/005_delivery_fairness.sql" with { type: "text" };
import m006 from "../../migrations/006_room_member_count.sql" with { type: "text" };
// 007 is taken by the asynchronous-storage work (issue 11).
import m008 from "../../migrations/008_fairness.sql" with { type: "text" };

/** One forward-only migration: applied once, in one transaction, recorded by name. */
export interface Migration {
  name: string;
  sql: string;
}

/** Every migration of this build, in the order they apply. */
export const MIGRATIONS: readonly Migration[] = [
  { name: "001_init.sql", sql: m001 },
  { name: "002_chat.sql", sql: m002 },
  { name: "003_delivery.sql", sql: m003 },
  { name: "004_ws_tokens.sql", sql: m004 },
  { name: "005_delivery_fairness.sql", sql: m005 },
  { name: "006_room_member_count.sql", sql: m006 },
  { name: "008_fairness.sql", sql: m008 },
];
