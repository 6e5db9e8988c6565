// MaintenanceStore.dump on PostgreSQL: every row of every table of the schema, from one snapshot.
import type { SQL } from "bun";
import { classify } from "./errors";

/** Per table (schema bookkeeping included), rows keyed by the JSON of their primary key; timestamptz as Instants. */
export async function dumpAll(sql: SQL): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const out = new Map<string, Map<string, Record<string, unknown>>>();
  try {
    await sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
      const tables = await tx`SELECT c.relname AS name,
          coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
                    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                    WHERE i.indrelid = c.oid AND i.indisprimary), '{}') AS pk
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname`;
      for (const t of tables as { name: string; pk: string[] }[]) {
        const rows = new Map<string, Record<string, unknown>>();
        for (const raw of await tx.unsafe(`SELECT * FROM "${t.name}"`)) {
          const row: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(raw as Record<string, unknown>)) row[k] = v instanceof Date ? v.toISOString() : v;
          rows.set(JSON.stringify(t.pk.length ? t.pk.map((c) => row[c]) : row), row);
        }
        out.set(t.name, rows);
      }
    });
  } catch (err) {
    throw classify(err);
  }
  return out;
}
