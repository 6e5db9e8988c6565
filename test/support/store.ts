// Store-neutral test helpers: tests inspect and seed the in-process server's storage through the
// store interfaces (never SQL), so the same tests run on every store.
import { createLogger } from "../../src/log";
import { loadConfig } from "../../src/config";
import { openStore, type ChatApi } from "../../src/main";
import type { DeliveryRow, DeliveryStatus } from "../../src/storage/delivery-store";
import type { MessageRow } from "../../src/storage/message-store";
import type { Store, Tx } from "../../src/storage/store";

class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super("rollback");
  }
}

/** Runs `fn` in a transaction that is always rolled back; returns what `fn` returned (a look without a trace). */
export async function peek<T>(api: ChatApi, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    await api.store.transaction(async (tx) => {
      throw new Rollback(await fn(tx));
    });
  } catch (err) {
    if (err instanceof Rollback) return err.value as T;
    throw err;
  }
  throw new Error("unreachable");
}

/** Commits `fn`'s writes (seeding state the public API cannot create, e.g. an expired token). */
export function seed<T>(api: ChatApi, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return api.store.transaction(fn);
}

/** Every message row of a room (tombstones included), ascending seq. */
export async function messageRows(api: ChatApi, tenantId: string, roomId: string): Promise<MessageRow[]> {
  const out: MessageRow[] = [];
  for (let after = 0; ; ) {
    const page = await api.store.messages.after(tenantId, roomId, after, null, 1000);
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.seq;
  }
}

/** Outbox rows, oldest first, optionally of one tenant and/or status. */
export function deliveryRows(api: ChatApi, filter: { tenantId?: string; status?: DeliveryStatus } = {}): Promise<DeliveryRow[]> {
  return api.store.deliveries.list(filter, 1_000_000);
}

/** How many outbox rows match. */
export async function deliveryCount(api: ChatApi, status?: DeliveryStatus, tenantId?: string): Promise<number> {
  return (await deliveryRows(api, { status, tenantId })).length;
}

/**
 * A second store on the server's database: after a stop, what survived a shutdown or a crash; while
 * it runs, with `readOnly`, a reader that sees committed data only (no migrations, no lease reset).
 */
export async function reopenStore(api: ChatApi, opts: { readOnly?: boolean } = {}): Promise<Store> {
  return openStore(api.config, createLogger("silent"), { migrate: !opts.readOnly });
}

/** A store on the database of a server that ran with this DATA_DIR (e.g. a child process, after it exited). */
export async function openStoreAt(dataDir: string, env: Record<string, string> = {}): Promise<Store> {
  return openStore(loadConfig({ DATA_DIR: dataDir, ...env }), createLogger("silent"), { migrate: false });
}

/** Every stored row of one table, as the store keeps it (its own column values): whole-database checks. */
export async function storedRows(api: { store: Store }, table: string): Promise<Record<string, unknown>[]> {
  return [...((await api.store.maintenance.dump()).get(table)?.values() ?? [])];
}
