// Bulk export/import of a PostgreSQL database for `chatapi copy-store` (see ../copy.ts).
import { SQL, type ReservedSQL } from "bun";
import { COPY_DERIVED, COPY_JSON, COPY_KEYS, COPY_TABLES, type CopyRow, type CopyTable, type CopyTarget } from "../copy";
import { describeDsn } from "./dsn";
import { classify } from "./errors";
import { migratePostgres } from "./migrations";

// bigint columns come back as strings from Bun.SQL; rows are store-neutral numbers.
const BIGINT: Partial<Record<CopyTable, readonly string[]>> = { attachment_usage: ["bytes"] };

function neutral(r: Record<string, unknown>, derived: readonly string[], bigints: readonly string[]): CopyRow {
  const out: CopyRow = {};
  for (const [k, v] of Object.entries(r)) {
    if (derived.includes(k)) continue;
    out[k] = v instanceof Date ? v.toISOString() : bigints.includes(k) && typeof v === "string" ? Number(v) : v;
  }
  return out;
}

/** A PostgreSQL database as a copy source (optionally one REPEATABLE READ snapshot) or target. */
export class PgCopyStore implements CopyTarget {
  readonly kind = "postgres" as const;
  readonly location: string;
  private readonly columns = new Map<CopyTable, Set<string>>();

  private constructor(
    private readonly sql: SQL,
    private readonly snap: ReservedSQL | null,
    url: string,
  ) {
    this.location = describeDsn(url).location;
  }

  /**
   * Opens `url`. `snapshot`: every read comes from one read-only REPEATABLE READ transaction (a
   * source that never changes under the copy). `migrate`: apply the schema first (a target).
   */
  static async open(url: string, o: { snapshot: boolean; migrate: boolean }): Promise<PgCopyStore> {
    const sql = new SQL(url, { max: 2, connectionTimeout: 10 });
    try {
      if (o.migrate) await migratePostgres(sql);
      let snap: ReservedSQL | null = null;
      if (o.snapshot) {
        snap = await sql.reserve();
        await snap`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`;
      }
      return new PgCopyStore(sql, snap, url);
    } catch (err) {
      await sql.close();
      throw classify(err);
    }
  }

  private get q(): SQL {
    return this.snap ?? this.sql;
  }

  async migrations(): Promise<string[]> {
    try {
      return (await this.q`SELECT name FROM schema_migrations ORDER BY name`).map((r: any) => r.name as string);
    } catch (err) {
      if ((err as { errno?: string }).errno === "42P01") return [];
      throw classify(err);
    }
  }

  async count(table: CopyTable): Promise<number> {
    const [r] = await this.q.unsafe(`SELECT count(*)::int AS n FROM ${table}`);
    return r.n;
  }

  async *rows(table: CopyTable, batchSize: number): AsyncIterable<CopyRow[]> {
    const keys = COPY_KEYS[table];
    const order = keys.join(", ");
    let last: unknown[] | null = null;
    for (;;) {
      const where: string = last ? `WHERE (${order}) > (${keys.map((_, i) => `$${i + 1}`).join(", ")})` : "";
      const rows: Record<string, unknown>[] = await this.q.unsafe(`SELECT * FROM ${table} ${where} ORDER BY ${order} LIMIT ${batchSize | 0}`, last ?? []);
      if (rows.length === 0) return;
      const tail = rows[rows.length - 1]!;
      last = keys.map((k) => tail[k]);
      const derived = COPY_DERIVED[table] ?? [];
      const bigints = BIGINT[table] ?? [];
      yield rows.map((r) => neutral(r, derived, bigints));
      if (rows.length < batchSize) return;
    }
  }

  async isEmpty(): Promise<boolean> {
    for (const t of COPY_TABLES) {
      const [r] = await this.sql.unsafe(`SELECT EXISTS (SELECT 1 FROM ${t}) AS x`);
      if (r.x) return false;
    }
    return true;
  }

  private async tableColumns(table: CopyTable): Promise<Set<string>> {
    let cols = this.columns.get(table);
    if (!cols) {
      const rows = await this.sql`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`;
      cols = new Set(rows.map((r: any) => r.column_name as string));
      this.columns.set(table, cols);
    }
    return cols;
  }

  async insert(table: CopyTable, rows: CopyRow[]): Promise<void> {
    if (rows.length === 0) return;
    const have = await this.tableColumns(table);
    const cols = Object.keys(rows[0]!);
    const missing = cols.filter((c) => !have.has(c));
    if (missing.length) throw new Error(`target table ${table} has no column ${missing.join(", ")} (run a newer chatapi against it, or migrate it)`);
    const notNull = new Set((COPY_JSON[table] ?? []).filter((j) => j.notNull).map((j) => j.column));
    // One statement per batch: the rows travel as one JSON array and PostgreSQL converts each field
    // to its column's type (timestamptz from Instants, json values kept as written).
    const select = cols.map((c) => (notNull.has(c) ? `coalesce(${c}, 'null'::json)` : c)).join(", ");
    const text = `INSERT INTO ${table} (${cols.join(", ")}) SELECT ${select} FROM json_populate_recordset(NULL::${table}, $1::text::json)`;
    try {
      await this.sql.begin((tx) => tx.unsafe(text, [JSON.stringify(rows)]));
    } catch (err) {
      throw classify(err);
    }
  }

  async finish(): Promise<void> {
    await this.sql`UPDATE rooms r SET member_count = (SELECT count(*) FROM room_members m WHERE m.tenant_id = r.tenant_id AND m.room_id = r.room_id)`;
    // Fresh statistics: the planner would otherwise plan the first queries for empty tables.
    await this.sql`ANALYZE`;
  }

  async close(): Promise<void> {
    if (this.snap) {
      await this.snap`COMMIT`.catch(() => {});
      this.snap.release();
    }
    await this.sql.close({ timeout: 5 });
  }
}
