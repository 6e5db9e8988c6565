// The contract of housekeeping that belongs to no aggregate: checkpoints and backups.
// (Retention deletes are aggregate methods: DeliveryStore.pruneFinished, WsTokenStore.purgeExpired.)

/** What one checkpoint did; stores without a WAL of their own report zeros. */
export interface CheckpointResult {
  /** The checkpoint could not finish (readers or writers active); it is retried next time. */
  busy: boolean;
  /** Size in bytes of the write-ahead log after the checkpoint (SQLite's -wal file), 0 if none. */
  walBytes: number;
}

/** Periodic and operator-triggered maintenance. */
export interface MaintenanceStore {
  /**
   * "passive": copy what can be copied without waiting (runs every WAL_CHECKPOINT_INTERVAL).
   * "truncate": copy everything and empty the log (shutdown). PostgreSQL: a no-op (its own
   * checkpointer runs), returning { busy: false, walBytes: 0 }.
   */
  checkpoint(mode: "passive" | "truncate"): Promise<CheckpointResult>;
  /**
   * Writes a consistent online copy of the whole database to `file` (must not exist) while writers
   * continue. SQLite: VACUUM INTO. PostgreSQL: throws UnsupportedByStoreError naming pg_dump.
   */
  backup(file: string): Promise<void>;
  /**
   * Every row of every table (schema bookkeeping included), as committed now: per table, rows keyed
   * by their primary key (JSON of the key columns). Values are the store's own column values. For
   * whole-database checks: tests' before/after diffs, copy-store verification.
   */
  dump(): Promise<Map<string, Map<string, Record<string, unknown>>>>;
}
