// Housekeeping on timers: outbox retention, expired WS token purge, WAL checkpoints.
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { Store } from "../storage/store";
import { Periodic } from "./periodic";

// Deletes run in chunks so one pass never holds the write transaction for long.
const PRUNE_CHUNK = 1000;

export interface RetentionOptions {
  store: Store;
  log: Logger;
  deliveryRetentionMs: number;
  deadLetterRetentionMs: number;
  now?: () => number;
  /** Cluster mode: resolves true on the one node that should run this pass. */
  once?: () => Promise<boolean>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One retention pass: delivered rows past DELIVERY_RETENTION, dead letters past DEAD_LETTER_RETENTION, expired WS tokens. */
export async function retentionPass(o: RetentionOptions): Promise<{ delivered: number; dead: number; wsTokens: number }> {
  const nowMs = (o.now ?? Date.now)();
  const prune = async (status: "delivered" | "dead", beforeMs: number) => {
    let total = 0;
    for (;;) {
      const n = await o.store.transaction((tx) => tx.deliveries.pruneFinished(status, iso(beforeMs), PRUNE_CHUNK));
      total += n;
      if (n < PRUNE_CHUNK) return total;
    }
  };
  const delivered = await prune("delivered", nowMs - o.deliveryRetentionMs);
  const dead = await prune("dead", nowMs - o.deadLetterRetentionMs);
  // Payloads no delivery references any more (a payload is kept while a fan-out may still use it:
  // only those older than one retention window of delivered rows go).
  const payloadCutoff = iso(nowMs - Math.min(o.deliveryRetentionMs, o.deadLetterRetentionMs));
  for (;;) {
    const n = await o.store.transaction((tx) => tx.deliveries.prunePayloads(payloadCutoff, PRUNE_CHUNK));
    if (n < PRUNE_CHUNK) break;
  }
  const wsTokens = await o.store.transaction((tx) => tx.wsTokens.purgeExpired(iso(nowMs)));
  if (delivered || dead) o.log.info({ delivered, dead }, "outbox retention: pruned finished deliveries");
  return { delivered, dead, wsTokens };
}

/** Retention and token purge every WORKER_INTERVAL. */
export function retentionWorker(o: RetentionOptions & { intervalMs: number }): Periodic {
  return new Periodic("retention", o.intervalMs, async () => {
    if (o.once && !(await o.once())) return;
    return retentionPass(o);
  }, o.log);
}

export interface WalOptions {
  store: Store;
  log: Logger;
  metrics?: Metrics;
}

/** One PASSIVE checkpoint, then the chatapi_wal_bytes gauge (0 on stores without a WAL file). */
export async function walCheckpointPass(o: WalOptions): Promise<void> {
  const r = await o.store.maintenance.checkpoint("passive");
  o.metrics?.walBytes.set(r.walBytes);
  if (r.busy) o.log.debug({ wal_bytes: r.walBytes }, "wal checkpoint could not finish (readers active)");
}

/** A PASSIVE checkpoint every WAL_CHECKPOINT_INTERVAL (TRUNCATE runs at shutdown in main.ts). */
export function walCheckpointWorker(o: WalOptions & { intervalMs: number }): Periodic {
  return new Periodic("wal-checkpoint", o.intervalMs, () => walCheckpointPass(o), o.log);
}
