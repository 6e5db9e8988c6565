// Bulk export/import of a SQLite database for `chatapi copy-store` (see ../copy.ts).
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { COPY_DERIVED, COPY_JSON, COPY_KEYS, COPY_TABLES, type CopyRow, type CopyTable, type CopyTarget } from "../copy";
import { StorageUnavailableError } from "../errors";
import { migrate } from "./connection";
import { MIGRATIONS } from "./migrations";

// Time columns SQLite keeps as integer milliseconds (the others are ISO text already).
const MS_COLUMNS: Partial<Record<CopyTable, string[]>> = { deliveries: ["next_attempt_at", "finished_at"] };

/** A SQLite file as a copy source (read-only, one snapshot) or target (created and migrated). */
export class SqliteCopyStore implements CopyTarget {
  readonly kind = "sqlite" as const;
  private readonly columns = new Map<CopyTable, Set<string>>();

  private constructor(
    private readonly db: Database,
    readonly location: string,
    private readonly snapshot: boolean,
  ) {}

  /**
   * Opens `path`. A source (`snapshot`) is opened read-only and read in one transaction: every table
   * from the same point in time. A target is created when missing and migrated.
   */
  static open(path: string, o: { snapshot: boolean; migrate: boolean }): SqliteCopyStore {
    if (o.snapshot && !existsSync(path)) throw new StorageUnavailableError("SQLITE_CANTOPEN", new Error(`${path} does not exist`));
    if (!o.snapshot) mkdirSync(dirname(path), { recursive: true });
    const db = o.snapshot ? new Database(path, { readonly: true }) : new Database(path, { create: true });
    db.exec("PRAGMA busy_timeout = 5000");
    if (!o.snapshot) {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA foreign_keys = ON");
      if (o.migrate) migrate(db, MIGRATIONS);
    } else {
      db.exec("BEGIN");
      db.query("SELECT count(*) FROM sqlite_master").get(); // starts the read snapshot now
    }
    return new SqliteCopyStore(db, path, o.snapshot);
  }

  async migrations(): Promise<string[]> {
    const has = this.db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!has) return [];
    return (this.db.query("SELECT name FROM schema_migrations ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  }

  async count(table: CopyTable): Promise<number> {
    return (this.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  async *rows(table: CopyTable, batchSize: number): AsyncIterable<CopyRow[]> {
    const keys = COPY_KEYS[table];
    const order = keys.join(", ");
    const first = this.db.query(`SELECT * FROM ${table} ORDER BY ${order} LIMIT ${batchSize | 0}`);
    const next = this.db.query(`SELECT * FROM ${table} WHERE (${order}) > (${keys.map(() => "?").join(", ")}) ORDER BY ${order} LIMIT ${batchSize | 0}`);
    const json = COPY_JSON[table] ?? [];
    const ms = MS_COLUMNS[table] ?? [];
    let last: unknown[] | null = null;
    for (;;) {
      const rows = (last ? next.all(...(last as string[])) : first.all()) as Record<string, unknown>[];
      if (rows.length === 0) return;
      const tail = rows[rows.length - 1]!;
      last = keys.map((k) => tail[k]);
      const derived = COPY_DERIVED[table] ?? [];
      for (const r of rows) {
        for (const c of derived) delete r[c];
        for (const { column } of json) if (typeof r[column] === "string") r[column] = JSON.parse(r[column] as string);
        for (const c of ms) if (typeof r[c] === "number") r[c] = new Date(r[c] as number).toISOString();
      }
      yield rows;
      if (rows.length < batchSize) return;
    }
  }

  async isEmpty(): Promise<boolean> {
    return COPY_TABLES.every((t) => !this.db.query(`SELECT 1 FROM ${t} LIMIT 1`).get());
  }

  private tableColumns(table: CopyTable): Set<string> {
    let cols = this.columns.get(table);
    if (!cols) {
      cols = new Set((this.db.query(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((r) => r.name));
      this.columns.set(table, cols);
    }
    return cols;
  }

  async insert(table: CopyTable, rows: CopyRow[]): Promise<void> {
    if (this.snapshot) throw new Error("a copy source is read-only");
    if (rows.length === 0) return;
    const have = this.tableColumns(table);
    const cols = Object.keys(rows[0]!);
    const missing = cols.filter((c) => !have.has(c));
    if (missing.length) throw new Error(`target table ${table} has no column ${missing.join(", ")} (run a newer chatapi against it, or migrate it)`);
    const json = new Map((COPY_JSON[table] ?? []).map((j) => [j.column, j.notNull]));
    const ms = new Set(MS_COLUMNS[table] ?? []);
    const stmt = this.db.query(`INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`);
    const encode = (c: string, v: unknown): unknown => {
      if (json.has(c)) return v === null || v === undefined ? (json.get(c) ? "null" : null) : JSON.stringify(v);
      if (ms.has(c)) return v === null || v === undefined ? null : Date.parse(v as string);
      if (typeof v === "boolean") return v ? 1 : 0;
      return v ?? null;
    };
    this.db.transaction(() => {
      for (const r of rows) stmt.run(...(cols.map((c) => encode(c, r[c])) as never[]));
    })();
  }

  async finish(): Promise<void> {
    // Search: ids in creation order, then the FTS5 index rebuilt from the copied content.
    this.db.exec(`WITH o AS (SELECT tenant_id, message_id, row_number() OVER (ORDER BY created_at, message_id) AS n FROM messages)
      UPDATE messages SET search_id = o.n FROM o WHERE o.tenant_id = messages.tenant_id AND o.message_id = messages.message_id`);
    this.db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')");
    this.db.exec("UPDATE rooms SET member_count = (SELECT count(*) FROM room_members m WHERE m.tenant_id = rooms.tenant_id AND m.room_id = rooms.room_id)");
    this.db.exec("ANALYZE");
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  async close(): Promise<void> {
    if (this.snapshot) this.db.exec("COMMIT");
    this.db.close();
  }
}
