// Every statement the stores prepare is checked with EXPLAIN QUERY PLAN: none may search a
// tenant-scoped table by tenant_id alone or scan a whole table (outside a short allow-list).
// Regression: without statistics SQLite chose such plans for the connect replay, presence and
// GET /rooms, which made every WebSocket connect cost O(memberships of the tenant).
import { expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { migrate, openDatabase } from "./connection";
import { SqliteAttachmentStore } from "./attachment-store";
import { SqliteDeliveryStore } from "./delivery-store";
import { SqliteMessageStore } from "./message-store";
import { MIGRATIONS } from "./migrations";
import { SqliteNotificationStore } from "./notification-store";
import { SqliteRoomStore } from "./room-store";
import { SqliteSearchStore } from "./search-store";
import { SqliteSubscriptionStore } from "./subscription-store";
import { SqliteTenantStore } from "./tenant-store";
import { SqliteWsTokenStore } from "./ws-token-store";

// Whole-table work that is fine: admin listing of tenants, outbox statistics and retention over
// the outbox's own partial indexes, the due scan across tenants, token expiry.
const ALLOWED = [
  /SCAN tenants/,
  /SEARCH tenants USING (INDEX sqlite_autoindex_tenants_1|INTEGER PRIMARY KEY|PRIMARY KEY) \(tenant_id=\?\)/, // a tenant by its key
  /SEARCH (deliveries|d) USING INDEX deliveries_dead \(tenant_id=\?\)/, // partial index: this tenant's dead letters only
  /SEARCH d USING COVERING INDEX deliveries_due_by_tenant \(tenant_id=\?\)/, // min(next_attempt_at) of one tenant's pending rows
  /SCAN deliveries USING (COVERING )?INDEX deliveries_(due|finished|due_by_tenant)/,
  /SEARCH deliveries USING (COVERING )?INDEX deliveries_(due|finished|due_by_tenant)/,
  /SCAN t\b/, // recursive CTE of the due-tenant walk
  /SCAN ws_tokens/,
  /SEARCH ws_tokens USING INDEX ws_tokens_expiry/,
  /SCAN CONSTANT ROW/,
  // The caller's own JSON list (mentions, the rooms of one GET /rooms page): at most 50 or 200 items,
  // each then looked up by primary key.
  /SCAN (json_each|j) VIRTUAL TABLE INDEX/,
  /SCAN f VIRTUAL TABLE INDEX \d+:M/, // search: the FTS5 index walked for a MATCH (newest first)
  /SEARCH attachment_usage USING INDEX sqlite_autoindex_attachment_usage_1 \(tenant_id=\?\)/, // the tenant's one usage row
  /USE TEMP B-TREE/,
  /COMPOUND|RECURSIVE STEP|SETUP|CORRELATED SCALAR SUBQUERY|SCALAR SUBQUERY|CO-ROUTINE|MATERIALIZE/,
];

function preparedSql(): { db: Database; sqls: string[] } {
  const db = openDatabase(":memory:", "full");
  migrate(db, MIGRATIONS);
  const sqls: string[] = [];
  const query = db.query.bind(db);
  const prepare = db.prepare.bind(db);
  (db as { query: unknown }).query = (sql: string) => (sqls.push(sql), query(sql));
  (db as { prepare: unknown }).prepare = (sql: string) => (sqls.push(sql), prepare(sql));
  new SqliteTenantStore(db);
  new SqliteRoomStore(db);
  new SqliteMessageStore(db);
  new SqliteDeliveryStore(db);
  new SqliteNotificationStore(db);
  new SqliteSubscriptionStore(db);
  new SqliteWsTokenStore(db);
  new SqliteAttachmentStore(db);
  new SqliteSearchStore(db);
  (db as { query: unknown }).query = query;
  (db as { prepare: unknown }).prepare = prepare;
  return { db, sqls };
}

test("query plans: no store statement scans a tenant by tenant_id alone or a whole table", () => {
  const { db, sqls } = preparedSql();
  expect(sqls.length).toBeGreaterThan(40);
  const bad: string[] = [];
  for (const sql of sqls) {
    if (!/^\s*(SELECT|UPDATE|DELETE|WITH|INSERT[\s\S]*SELECT)/i.test(sql)) continue;
    // Listings for tests and copy-store read whole tables on purpose, and say so.
    if (sql.includes("/* whole-table:")) continue;
    const plan = db.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
    for (const { detail } of plan) {
      const tenantOnly = /\(tenant_id=\?\)/.test(detail);
      const scan = /^SCAN /.test(detail);
      if ((tenantOnly || scan) && !ALLOWED.some((re) => re.test(detail))) bad.push(`${detail}  <=  ${sql.replace(/\s+/g, " ").slice(0, 160)}`);
    }
  }
  expect(bad).toEqual([]);
});

test("search plan: the FTS5 index drives; membership and tenant come from messages_search_id without per-room probes", () => {
  const { db, sqls } = preparedSql();
  const search = sqls.filter((q) => q.includes("messages_fts MATCH"));
  expect(search.length).toBe(2);
  for (const sql of search) {
    const plan = (db.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail);
    expect(plan[0]).toMatch(/^SCAN f VIRTUAL TABLE INDEX \d+:M/);
    const lookup = plan.find((d) => d.includes("messages_search_id"))!;
    expect(lookup).toMatch(/SEARCH m USING INDEX messages_search_id \(search_id=\? AND tenant_id=\?( AND room_id=\?)?\)/);
    if (sql.includes("room_members")) expect(lookup).not.toContain("room_id");
  }
});
