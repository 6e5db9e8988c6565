// The PostgreSQL Store: a Bun.SQL pool; each transaction is `sql.begin` on a connection of its own
// (READ COMMITTED). Per-room seqs stay gapless by the room's row lock, idempotency holds by unique
// indexes, outbox claims use FOR UPDATE SKIP LOCKED with a lease. Design note: ../README.md.
import { SQL } from "bun";
import type { AttachmentReads, AttachmentStore } from "../attachment-store";
import type { DeliveryReads, DeliveryStore } from "../delivery-store";
import { TransactionClosedError, UnsupportedByStoreError } from "../errors";
import type { HealthStore, StoreDescription } from "../health-store";
import type { MaintenanceStore } from "../maintenance-store";
import type { MessageReads, MessageStore } from "../message-store";
import type { NotificationReads, NotificationStore } from "../notification-store";
import type { RoomReads, RoomStore } from "../room-store";
import type { SearchReads } from "../search-store";
import type { FanoutReads, FanoutStore } from "../fanout-store";
import type { Store, TransactionOptions, Tx } from "../store";
import type { SubscriptionReads, SubscriptionStore } from "../subscription-store";
import type { TenantReads, TenantStore } from "../tenant-store";
import type { WsTokenStore } from "../ws-token-store";
import { CommitOrder } from "./commit-order";
import { instantOrNull, isStaleConnection, makeQuery, poolConn, type Conn } from "./conn";
import { describeDsn } from "./dsn";
import { dumpAll } from "./dump";
import { classify, isRetryable } from "./errors";
import { PgAttachmentStore } from "./attachment-store";
import { PgDeliveryStore } from "./delivery-store";
import { PgFanoutStore } from "./fanout-store";
import { PoolGate } from "./gate";
import { PgMessageStore } from "./message-store";
import { migratePostgres } from "./migrations";
import { PgNotificationStore } from "./notification-store";
import { PgRoomStore } from "./room-store";
import { PgSearchStore } from "./search-store";
import { PgSubscriptionStore } from "./subscription-store";
import { PgTenantStore } from "./tenant-store";
import { PgWsTokenStore } from "./ws-token-store";

// A deadlock victim or serialization failure is run again this many times in all before it is a 503.
const MAX_ATTEMPTS = 3;

/** A transaction handle: statement classes bound to one `sql.begin` connection, built on first use. */
class PgTx implements Tx {
  open = true;
  client: SQL | null = null;
  readonly callbacks: (() => void)[] = [];
  readonly conn: Conn;
  private readonly waits: Promise<void>[] = [];
  private readonly keys: string[] = [];
  private readonly settled: Promise<void>;
  private resolveSettled!: () => void;
  private t?: TenantStore;
  private r?: RoomStore;
  private m?: MessageStore;
  private d?: DeliveryStore;
  private n?: NotificationStore;
  private s?: SubscriptionStore;
  private w?: WsTokenStore;
  private a?: AttachmentStore;
  private f?: FanoutStore;

  constructor(private readonly order: CommitOrder) {
    this.settled = new Promise((r) => (this.resolveSettled = r));
    this.conn = { q: makeQuery(() => this.client!, () => this.open), inTx: true, locked: (key) => this.lock(key) };
  }
  get tenants(): TenantStore {
    return (this.t ??= new PgTenantStore(this.conn));
  }
  get rooms(): RoomStore {
    return (this.r ??= new PgRoomStore(this.conn));
  }
  get messages(): MessageStore {
    return (this.m ??= new PgMessageStore(this.conn));
  }
  get deliveries(): DeliveryStore {
    return (this.d ??= new PgDeliveryStore(this.conn));
  }
  get notifications(): NotificationStore {
    return (this.n ??= new PgNotificationStore(this.conn));
  }
  get subscriptions(): SubscriptionStore {
    return (this.s ??= new PgSubscriptionStore(this.conn));
  }
  get wsTokens(): WsTokenStore {
    return (this.w ??= new PgWsTokenStore(this.conn));
  }
  get attachments(): AttachmentStore {
    return (this.a ??= new PgAttachmentStore(this.conn));
  }

  get fanout(): FanoutStore {
    return (this.f ??= new PgFanoutStore(this.conn));
  }
  afterCommit(cb: () => void): void {
    if (!this.open) throw new TransactionClosedError();
    this.callbacks.push(cb);
  }

  private lock(key: string): void {
    if (this.keys.includes(key)) return;
    this.keys.push(key);
    const prev = this.order.enter(key, this.settled);
    if (prev) this.waits.push(prev);
  }

  /**
   * Runs the callbacks (when committed) once every transaction that held one of our rows before us
   * has run its own, then lets our successors go. Called exactly once, committed or not.
   */
  async finish(committed: boolean, onError: (err: unknown) => void): Promise<void> {
    this.open = false;
    try {
      if (this.waits.length) await Promise.all(this.waits);
      if (committed) {
        for (const cb of this.callbacks) {
          try {
            cb();
          } catch (err) {
            onError(err);
          }
        }
      }
    } finally {
      this.resolveSettled();
      for (const k of this.keys) this.order.leave(k, this.settled);
    }
  }
}

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL. */
  url: string;
  /** Connections in the pool (DATABASE_POOL_SIZE). */
  poolSize: number;
  /** Apply pending migrations at open (default true). */
  migrate?: boolean;
  /** Where errors of after-commit callbacks go (the commit stands). */
  onCallbackError?: (err: unknown) => void;
  /** How long a transaction may wait for a free connection before a 503 (default 5000). */
  acquireTimeoutMs?: number;
  /** Seconds to wait for a new connection before the database counts as unreachable (default 5). */
  connectTimeoutSeconds?: number;
}

/** The PostgreSQL store. `sql` is the pool (this folder's tests and the copy-store tool only). */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  readonly tenants: TenantReads;
  readonly rooms: RoomReads;
  readonly messages: MessageReads;
  readonly deliveries: DeliveryReads;
  readonly notifications: NotificationReads;
  readonly subscriptions: SubscriptionReads;
  readonly attachments: AttachmentReads;
  readonly search: SearchReads;
  readonly fanout: FanoutReads;
  readonly health: HealthStore;
  readonly maintenance: MaintenanceStore;
  /** Migrations applied by this open. */
  applied: string[] = [];
  readonly sql: SQL;
  private readonly gate: PoolGate;
  private readonly order = new CommitOrder();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly onCallbackError: (err: unknown) => void;
  private closed: Promise<void> | null = null;

  constructor(private readonly o: PostgresStoreOptions) {
    this.sql = new SQL(o.url, {
      max: o.poolSize,
      connectionTimeout: o.connectTimeoutSeconds ?? 5,
      idleTimeout: 60,
      // A process that stops mid-transaction (killed, partitioned) must not hold room locks forever.
      connection: { application_name: "chatapi", idle_in_transaction_session_timeout: "30s" },
    });
    // One connection stays outside transactions: reads never queue behind a full pool of
    // transactions, and a transaction that (against the contract) awaits a plain read cannot
    // deadlock the pool.
    this.gate = new PoolGate(Math.max(1, o.poolSize - 1), o.acquireTimeoutMs ?? 5000);
    this.onCallbackError = o.onCallbackError ?? ((err) => console.error("after-commit callback failed", err));
    const c = poolConn(this.sql);
    this.tenants = new PgTenantStore(c);
    this.rooms = new PgRoomStore(c);
    this.messages = new PgMessageStore(c);
    this.deliveries = new PgDeliveryStore(c);
    this.notifications = new PgNotificationStore(c);
    this.subscriptions = new PgSubscriptionStore(c);
    this.attachments = new PgAttachmentStore(c);
    this.search = new PgSearchStore(c);
    this.fanout = new PgFanoutStore(c);
    this.health = healthStore(this.sql, describeDsn(o.url));
    this.maintenance = {
      dump: () => dumpAll(this.sql),
      checkpoint: async () => ({ busy: false, walBytes: 0 }),
      backup: async () => {
        throw new UnsupportedByStoreError("chatapi backup is for SQLite; back up PostgreSQL with pg_dump (e.g. pg_dump --format=custom --file=chatapi.dump \"$DATABASE_DSN\")");
      },
    };
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    if (this.closed) return Promise.reject(new TransactionClosedError());
    const p = this.run(fn, opts?.lazy === true);
    this.inflight.add(p);
    const forget = () => void this.inflight.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async run<T>(fn: (tx: Tx) => Promise<T>, lazy: boolean): Promise<T> {
    await this.gate.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        const tx = new PgTx(this.order);
        let result: T;
        try {
          result = (await this.sql.begin(async (client) => {
            tx.client = client;
            // Redo-safe background work: its COMMIT does not wait for the WAL flush (a crash loses
            // it whole, never half of it; the next ordinary commit's flush makes it durable).
            if (lazy) await client`SET LOCAL synchronous_commit = off`;
            try {
              return await fn(tx);
            } finally {
              tx.open = false;
            }
          })) as T;
        } catch (err) {
          await tx.finish(false, this.onCallbackError);
          const e = classify(err);
          if (isRetryable(e) && attempt < MAX_ATTEMPTS) continue;
          // BEGIN failed on a connection the server had ended: nothing ran, take another one.
          if (tx.client === null && isStaleConnection(e) && attempt < MAX_ATTEMPTS) continue;
          throw e;
        }
        await tx.finish(true, this.onCallbackError);
        return result;
      }
    } finally {
      this.gate.release();
    }
  }

  /** Transactions running and waiting for a connection. */
  get load(): { active: number; waiting: number } {
    return this.gate.load;
  }

  close(): Promise<void> {
    return (this.closed ??= (async () => {
      await Promise.allSettled([...this.inflight]);
      await this.sql.close({ timeout: 5 });
    })());
  }
}

function healthStore(sql: SQL, description: StoreDescription): HealthStore {
  return {
    async probe(now) {
      // A real durable write, answered within 3 s: an unreachable database is "not writable", not a hang.
      const upsert = () => sql`INSERT INTO health_probe (id, checked_at) VALUES (1, ${now}::timestamptz)
        ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`;
      // An idempotent upsert: tried again once on a connection the server had already ended.
      const write = upsert().then(
        () => true,
        (err: unknown) => (isStaleConnection(classify(err)) ? upsert().then(() => true, () => false) : false),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 3000)));
      try {
        return await Promise.race([write, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async lastProbeAt() {
      try {
        const [r] = await sql`SELECT checked_at FROM health_probe WHERE id = 1`;
        return instantOrNull(r?.checked_at);
      } catch (err) {
        throw classify(err);
      }
    },
    describe: () => description,
  };
}

/** Opens a PostgreSQL store and applies pending migrations (under the advisory lock). Throws MigrationError or StorageUnavailableError. */
export async function openPostgresStore(o: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(o);
  try {
    if (o.migrate !== false) store.applied = await migratePostgres(store.sql);
    else await store.sql`SELECT 1`.catch((err: unknown) => {
      throw classify(err);
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

