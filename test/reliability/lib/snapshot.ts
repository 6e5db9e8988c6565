// Snapshots of every table and the check that a diff is explained by the successful requests only.
import type { ChatApi } from "../../../src/main";

export type Snapshot = Map<string, Map<string, string>>;

/** Tables whose changes are expected without any request effect (GET /health writes its probe row). */
export const VOLATILE_TABLES = new Set(["health_probe", "schema_migrations"]);

/** Every row of every table, keyed by primary key (through the store's dump, whatever the store). */
export async function snapshot(api: ChatApi): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const [table, rows] of await api.store.maintenance.dump()) {
    const m = new Map<string, string>();
    for (const [k, row] of rows) m.set(k, JSON.stringify(row));
    out.set(table, m);
  }
  return out;
}

export interface RowChange {
  table: string;
  kind: "added" | "removed" | "changed";
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/** Rows added, removed or changed between two snapshots (volatile tables skipped). */
export function diff(a: Snapshot, b: Snapshot): RowChange[] {
  const out: RowChange[] = [];
  for (const table of new Set([...a.keys(), ...b.keys()])) {
    if (VOLATILE_TABLES.has(table)) continue;
    const ra = a.get(table) ?? new Map();
    const rb = b.get(table) ?? new Map();
    for (const [k, v] of rb) {
      const old = ra.get(k);
      if (old === undefined) out.push({ table, kind: "added", after: JSON.parse(v) });
      else if (old !== v) out.push({ table, kind: "changed", before: JSON.parse(old), after: JSON.parse(v) });
    }
    for (const [k, v] of ra) if (!rb.has(k)) out.push({ table, kind: "removed", before: JSON.parse(v) });
  }
  return out;
}

/** Adds every string (and stringified number) inside a JSON-ish value to `into`. */
export function collectTokens(value: unknown, into: Set<string>, depth = 0): void {
  if (depth > 20 || value === null || value === undefined) return;
  if (typeof value === "string") {
    if (value.length <= 256) into.add(value);
    return;
  }
  if (typeof value === "number") return;
  if (Array.isArray(value)) {
    for (const v of value.slice(0, 2000)) collectTokens(v, into, depth + 1);
    return;
  }
  if (typeof value === "object") for (const v of Object.values(value as object).slice(0, 200)) collectTokens(v, into, depth + 1);
}

/**
 * Changes that no successful request explains: a changed row is explained when one of its values
 * (other than tenant_id, outside the tenants table) is a token of a 2xx request or response.
 */
export function unexplained(changes: RowChange[], tokens: Set<string>): RowChange[] {
  return changes.filter((c) => {
    const rows = [c.before, c.after].filter(Boolean) as Record<string, unknown>[];
    for (const row of rows) {
      for (const [col, v] of Object.entries(row)) {
        if (col === "tenant_id" && c.table !== "tenants") continue;
        if (typeof v === "string" && tokens.has(v)) return false;
      }
    }
    return true;
  });
}
