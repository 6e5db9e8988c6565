// Fault injection for reliability tests. The faults are store-specific by nature (how a database is
// made read-only or full); each helper names the store it supports and the test skips the others.
import type { ChatApi } from "../../src/main";
import type { SqliteStore } from "../../src/storage/sqlite/sqlite-store";
import type { Store } from "../../src/storage/store";

function sqlite(api: ChatApi): SqliteStore {
  if (api.store.kind !== "sqlite") throw new Error(`fault injection not available on ${api.store.kind}`);
  return api.store as SqliteStore;
}

/**
 * Makes the store refuse writes or accept them again. SQLite: PRAGMA query_only on the write
 * connection. PostgreSQL: default_transaction_read_only on the server's database, and its sessions
 * ended so that the pool reconnects with it (what a failover to a read-only standby looks like).
 */
export function setReadOnly(api: ChatApi, on: boolean): void {
  if (api.store.kind === "postgres" && api.config.databaseUrl) return postgresReadOnly(api.config.databaseUrl, on);
  sqlite(api).db.exec(`PRAGMA query_only = ${on ? "ON" : "OFF"}`);
}

// Synchronous like the SQLite fault (the tests call it between requests): a short child process
// runs the administration statements on the maintenance database of the same server.
function postgresReadOnly(url: string, on: boolean): void {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = "/postgres";
  const script = `
    const [url, name, on] = process.argv.slice(1);
    const sql = new Bun.SQL(url, { max: 1 });
    await sql.unsafe(\`ALTER DATABASE "\${name}" \${on === "1" ? "SET default_transaction_read_only = on" : "RESET default_transaction_read_only"}\`);
    await sql\`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \${name} AND pid <> pg_backend_pid()\`;
    await sql.close();`;
  const r = Bun.spawnSync([process.execPath, "-e", script, u.href, name, on ? "1" : "0"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`setReadOnly on PostgreSQL failed: ${r.stderr.toString()}`);
}

/** Stops the database file from growing (SQLite: max_page_count = page_count); returns the undo. */
export function freezeGrowth(api: ChatApi): () => void {
  const db = sqlite(api).db;
  const pages = (db.query("PRAGMA page_count").get() as { page_count: number }).page_count;
  const max = (db.query("PRAGMA max_page_count").get() as { max_page_count: number }).max_page_count;
  db.exec(`PRAGMA max_page_count = ${pages}`);
  return () => db.exec(`PRAGMA max_page_count = ${max}`);
}

/** The store's own consistency check ("ok" when sound; SQLite: PRAGMA integrity_check; others: "ok"). */
export function integrityCheck(target: ChatApi | Store): string {
  const store = "store" in target ? target.store : target;
  if (store.kind !== "sqlite") return "ok";
  return ((store as SqliteStore).db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
}
