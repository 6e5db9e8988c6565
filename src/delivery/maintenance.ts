// Housekeeping on timers: outbox retention, expired WS token purge, WAL checkpoints.
import { statSync } from "node:fs";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { DeliveryStore, MaintenanceStore } from "../storage/delivery-store";
import type { Writer } from "../storage/writer";
import { Periodic } from "./periodic";

// Deletes run in chunks so one pass never holds the write transaction for long.
const PRUNE_CHUNK = 1000;

export interface RetentionOptions {
  deliveries: DeliveryStore;
  /** Deletes expired WS tokens (the gateway's token service owns the table); runs through the writer. */
  purgeWsTokens?: () => number;
  writer: Writer;
  log: Logger;
  deliveryRetentionMs: number;
  deadLetterRetentionMs: number;
  now?: () => number;
}

/** One retention pass: delivered rows past DELIVERY_RETENTION, dead letters past DEAD_LETTER_RETENTION, expired WS tokens. */
export async function retentionPass(o: RetentionOptions): Promise<{ delivered: number; dead: number; wsTokens: number }> {
  const nowMs = (o.now ?? Date.now)();
  const prune = async (status: "delivered" | "dead", beforeMs: number) => {
    let total = 0;
    for (;;) {
      const n = await o.writer.submit(() => o.deliveries.pruneFinished(status, beforeMs, PRUNE_CHUNK));
      total += n;
      if (n < PRUNE_CHUNK) return total;
    }
  };
  const delivered = await prune("delivered", nowMs - o.deliveryRetentionMs);
  const dead = await prune("dead", nowMs - o.deadLetterRetentionMs);
  // Payloads no delivery references any more (a payload is kept while a fan-out may still use it:
  // only those older than one retention window of delivered rows go).
  const payloadCutoff = new Date(nowMs - Math.min(o.deliveryRetentionMs, o.deadLetterRetentionMs)).toISOString();
  for (;;) {
    const n = await o.writer.submit(() => o.deliveries.prunePayloads(payloadCutoff, PRUNE_CHUNK));
    if (n < PRUNE_CHUNK) break;
  }
  const purge = o.purgeWsTokens;
  const wsTokens = purge ? await o.writer.submit(() => purge()) : 0;
  if (delivered || dead) o.log.info({ delivered, dead }, "outbox retention: pruned finished deliveries");
  return { delivered, dead, wsTokens };
}

/** Retention and token purge every WORKER_INTERVAL. */
export function retentionWorker(o: RetentionOptions & { intervalMs: number }): Periodic {
  return new Periodic("retention", o.intervalMs, () => retentionPass(o), o.log);
}

export interface WalOptions {
  maintenance: MaintenanceStore;
  /** The database file; its "-wal" sibling is measured. ":memory:" disables the task. */
  databasePath: string;
  log: Logger;
  metrics?: Metrics;
}

/** One PASSIVE checkpoint, then the chatapi_wal_bytes gauge from the -wal file size. */
export function walCheckpointPass(o: WalOptions): void {
  if (o.databasePath === ":memory:") return;
  const r = o.maintenance.checkpointPassive();
  let bytes = 0;
  try {
    bytes = statSync(`${o.databasePath}-wal`).size;
  } catch {
    bytes = 0; // no WAL file right now
  }
  o.metrics?.walBytes.set(bytes);
  if (r.busy) o.log.debug({ wal_frames: r.log, checkpointed: r.checkpointed }, "wal checkpoint could not finish (readers active)");
}

/** PRAGMA wal_checkpoint(PASSIVE) every WAL_CHECKPOINT_INTERVAL (TRUNCATE runs at shutdown in main.ts). */
export function walCheckpointWorker(o: WalOptions & { intervalMs: number }): Periodic {
  return new Periodic("wal-checkpoint", o.intervalMs, () => walCheckpointPass(o), o.log);
}
