// Fault injection for reliability tests. The faults are store-specific by nature (how a database is
// made read-only or full); each helper names the store it supports and the test skips the others.
import type { ChatApi } from "../../src/main";
import type { SqliteStore } from "../../src/storage/sqlite/sqlite-store";
import type { Store } from "../../src/storage/store";

function sqlite(api: ChatApi): SqliteStore {
  if (api.store.kind !== "sqlite") throw new Error(`fault injection not available on ${api.store.kind}`);
  return api.store as SqliteStore;
}

/** Makes the store refuse writes (SQLite: PRAGMA query_only on the write connection) or accept them again. */
export function setReadOnly(api: ChatApi, on: boolean): void {
  sqlite(api).db.exec(`PRAGMA query_only = ${on ? "ON" : "OFF"}`);
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
