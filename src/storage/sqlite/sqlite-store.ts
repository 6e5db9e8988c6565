// The SQLite Store: one write connection behind the group-commit writer, one read connection
// (WAL: reads never see uncommitted rows and never wait for a commit).
import type { Database, Statement } from "bun:sqlite";
import { closeSync, openSync, rmSync, statSync } from "node:fs";
import type { SqliteSynchronous } from "../../config";
import type { AttachmentStore } from "../attachment-store";
import type { DeliveryStore } from "../delivery-store";
import type { FanoutStore } from "../fanout-store";
import { TransactionClosedError } from "../errors";
import type { HealthStore, StoreDescription } from "../health-store";
import type { CheckpointResult, MaintenanceStore } from "../maintenance-store";
import type { MessageStore } from "../message-store";
import type { NotificationStore } from "../notification-store";
import type { RoomStore } from "../room-store";
import type { SearchReads } from "../search-store";
import type { Store, TransactionOptions, Tx } from "../store";
import type { SubscriptionStore } from "../subscription-store";
import type { TenantStore } from "../tenant-store";
import type { WsTokenStore } from "../ws-token-store";
import { ATTACHMENT_METHODS, SqliteAttachmentStore } from "./attachment-store";
import { migrate, openDatabase } from "./connection";
import { WalSync } from "./wal-sync";
import { DELIVERY_METHODS, SqliteDeliveryStore } from "./delivery-store";
import { BackgroundCheckpointer } from "./checkpointer";
import { ALWAYS_OPEN, facadeClass, type Gate } from "./facade";
import { FANOUT_METHODS, SqliteFanoutStore } from "./fanout-store";
import { MESSAGE_METHODS, SqliteMessageStore } from "./message-store";
import { MIGRATIONS } from "./migrations";
import { NOTIFICATION_METHODS, SqliteNotificationStore } from "./notification-store";
import { ROOM_METHODS, SqliteRoomStore } from "./room-store";
import { SEARCH_METHODS, SqliteSearchStore } from "./search-store";
import { SqliteSubscriptionStore, SUBSCRIPTION_METHODS } from "./subscription-store";
import { SqliteTenantStore, TENANT_METHODS } from "./tenant-store";
import { acquireInstanceLock, type InstanceLock } from "./instance-lock";
import { GroupCommitWriter, type TxGate } from "./writer";
import { SqliteWsTokenStore, WS_TOKEN_METHODS } from "./ws-token-store";

const Tenants = facadeClass<TenantStore>(TENANT_METHODS);
const Rooms = facadeClass<RoomStore>(ROOM_METHODS);
const Messages = facadeClass<MessageStore>(MESSAGE_METHODS);
const Deliveries = facadeClass<DeliveryStore>(DELIVERY_METHODS);
const Notifications = facadeClass<NotificationStore>(NOTIFICATION_METHODS);
const Subscriptions = facadeClass<SubscriptionStore>(SUBSCRIPTION_METHODS);
const WsTokens = facadeClass<WsTokenStore>(WS_TOKEN_METHODS);
const Attachments = facadeClass<AttachmentStore>(ATTACHMENT_METHODS);
const Searches = facadeClass<SearchReads>(SEARCH_METHODS);
const Fanout = facadeClass<FanoutStore>(FANOUT_METHODS);

/** The statement classes of one connection. */
class Statements {
  readonly tenants: SqliteTenantStore;
  readonly rooms: SqliteRoomStore;
  readonly messages: SqliteMessageStore;
  readonly deliveries: SqliteDeliveryStore;
  readonly notifications: SqliteNotificationStore;
  readonly subscriptions: SqliteSubscriptionStore;
  readonly wsTokens: SqliteWsTokenStore;
  readonly attachments: SqliteAttachmentStore;
  readonly search: SqliteSearchStore;
  readonly fanout: SqliteFanoutStore;
  constructor(db: Database) {
    this.tenants = new SqliteTenantStore(db);
    this.rooms = new SqliteRoomStore(db);
    this.messages = new SqliteMessageStore(db);
    this.deliveries = new SqliteDeliveryStore(db);
    this.notifications = new SqliteNotificationStore(db);
    this.subscriptions = new SqliteSubscriptionStore(db);
    this.wsTokens = new SqliteWsTokenStore(db);
    this.attachments = new SqliteAttachmentStore(db);
    this.search = new SqliteSearchStore(db);
    this.fanout = new SqliteFanoutStore(db);
  }
}

/** A transaction handle: facades are built on first use, so a send pays only for what it touches. */
class SqliteTx implements Tx {
  private t?: TenantStore;
  private r?: RoomStore;
  private m?: MessageStore;
  private d?: DeliveryStore;
  private n?: NotificationStore;
  private s?: SubscriptionStore;
  private w?: WsTokenStore;
  private a?: AttachmentStore;
  private f?: FanoutStore;
  constructor(
    private readonly gate: TxGate,
    private readonly st: Statements,
  ) {}
  get tenants(): TenantStore {
    return (this.t ??= new Tenants(this.st.tenants, this.gate));
  }
  get rooms(): RoomStore {
    return (this.r ??= new Rooms(this.st.rooms, this.gate));
  }
  get messages(): MessageStore {
    return (this.m ??= new Messages(this.st.messages, this.gate));
  }
  get deliveries(): DeliveryStore {
    return (this.d ??= new Deliveries(this.st.deliveries, this.gate));
  }
  get notifications(): NotificationStore {
    return (this.n ??= new Notifications(this.st.notifications, this.gate));
  }
  get subscriptions(): SubscriptionStore {
    return (this.s ??= new Subscriptions(this.st.subscriptions, this.gate));
  }
  get wsTokens(): WsTokenStore {
    return (this.w ??= new WsTokens(this.st.wsTokens, this.gate));
  }
  get attachments(): AttachmentStore {
    return (this.a ??= new Attachments(this.st.attachments, this.gate));
  }

  get fanout(): FanoutStore {
    return (this.f ??= new Fanout(this.st.fanout, this.gate));
  }
  afterCommit(cb: () => void): void {
    if (!this.gate.open) throw new TransactionClosedError();
    this.gate.callbacks.push(cb);
  }
}

export interface SqliteStoreOptions {
  /** A file path or ":memory:". */
  path: string;
  synchronous: SqliteSynchronous;
  /** Apply pending migrations at open (default true). */
  migrate?: boolean;
  /** Hold `<path>.lock` for the life of the store: the server's own database (CLI commands share it). */
  instanceLock?: boolean;
  /**
   * WAL checkpoints on a worker thread (the server): the main connection's autocheckpoint becomes a
   * backstop. `onError` receives the worker's failures.
   */
  backgroundCheckpoints?: { onError?: (message: string) => void };
  /** Replaces the fdatasync of the WAL (tests: a slow or failing disk). */
  durabilitySync?: () => Promise<void>;
  /** Called once when an fdatasync of the WAL fails (the store then answers 503 until restarted). */
  onDurabilityError?: (err: unknown) => void;
  /** Where errors of after-commit callbacks go (the commit stands). */
  onCallbackError?: (err: unknown) => void;
  now?: () => Date;
}

/** The embedded store. `db` and `writer` are for this folder's tests and the test fault helpers only. */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly tenants: TenantStore;
  readonly rooms: RoomStore;
  readonly messages: MessageStore;
  readonly deliveries: DeliveryStore;
  readonly notifications: NotificationStore;
  readonly subscriptions: SubscriptionStore;
  readonly attachments: AttachmentStore;
  readonly search: SearchReads;
  readonly fanout: FanoutStore;
  readonly health: HealthStore;
  readonly maintenance: MaintenanceStore;
  readonly writer: GroupCommitWriter<Tx>;
  /** Migrations applied by this open. */
  readonly applied: string[];
  /** Makes commits durable off the event loop (null: COMMIT fsyncs itself, or nothing to fsync). */
  readonly walSync: WalSync | null;
  private readonly reader: Database;
  private closed: Promise<void> | null = null;
  /** The background checkpointer, when running (tests look at its progress). */
  readonly checkpointer: BackgroundCheckpointer | null = null;

  constructor(
    readonly db: Database,
    o: SqliteStoreOptions,
    private readonly lock: InstanceLock | null = null,
  ) {
    this.applied = o.migrate === false ? [] : migrate(db, MIGRATIONS);
    // ":memory:" cannot be opened twice: such a store reads on its write connection.
    this.reader = o.path === ":memory:" ? db : openDatabase(o.path, o.synchronous, { reader: true });
    const w = new Statements(db);
    const r = this.reader === db ? w : new Statements(this.reader);
    // SQLITE_SYNCHRONOUS=full on a file: commits are made durable off the event loop (wal-sync.ts).
    this.walSync = o.synchronous === "full" && o.path !== ":memory:" ? new WalSync({ path: o.path, onError: o.onDurabilityError, sync: o.durabilitySync }) : null;
    if (this.walSync) db.exec("PRAGMA synchronous = NORMAL");
    const walSync = this.walSync;
    const open: Gate = walSync ? { open: true, durable: () => walSync.barrier() } : ALWAYS_OPEN;
    this.tenants = new Tenants(r.tenants, open);
    this.rooms = new Rooms(r.rooms, open);
    this.messages = new Messages(r.messages, open);
    this.deliveries = new Deliveries(r.deliveries, open);
    this.notifications = new Notifications(r.notifications, open);
    this.subscriptions = new Subscriptions(r.subscriptions, open);
    this.attachments = new Attachments(r.attachments, open);
    this.search = new Searches(r.search, open);
    this.fanout = new Fanout(r.fanout, open);
    this.writer = new GroupCommitWriter<Tx>(db, {
      makeHandle: (gate) => new SqliteTx(gate, w),
      onCallbackError: o.onCallbackError ?? ((err) => console.error("after-commit callback failed", err)),
      walSync: this.walSync ?? undefined,
    });
    if (o.migrate !== false) w.deliveries.voidLeases((o.now?.() ?? new Date()).toISOString());
    this.health = healthStore(this, db, o.path);
    this.maintenance = maintenanceStore(this.writer, db, o.path);
    if (o.backgroundCheckpoints && o.path !== ":memory:") {
      const c = new BackgroundCheckpointer({ path: o.path, db, onError: o.backgroundCheckpoints.onError });
      // Unavailable here (no Worker): the main connection keeps checkpointing itself.
      if (c.start()) this.checkpointer = c;
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    if (this.closed) return Promise.reject(new TransactionClosedError());
    return this.writer.submit(fn, opts);
  }

  close(): Promise<void> {
    return (this.closed ??= (async () => {
      await this.writer.flush();
      await this.walSync?.close();
      await this.checkpointer?.stop();
      if (this.reader !== this.db) this.reader.close();
      this.db.close();
      this.lock?.release();
    })());
  }
}

function healthStore(store: SqliteStore, db: Database, path: string): HealthStore {
  const q: Statement = db.query("INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at");
  const last = db.query<{ checked_at: string }, []>("SELECT checked_at FROM health_probe WHERE id = 1");
  const description: StoreDescription = { kind: "sqlite", location: path };
  return {
    async probe(now) {
      try {
        await store.transaction(async () => void q.run(now));
        return true;
      } catch {
        return false;
      }
    },
    lastProbeAt: async () => last.get()?.checked_at ?? null,
    describe: () => description,
  };
}

function maintenanceStore(writer: GroupCommitWriter<Tx>, db: Database, path: string): MaintenanceStore {
  const passive = db.query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)");
  const truncate = db.query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)");
  const walBytes = () => {
    if (path === ":memory:") return 0;
    try {
      return statSync(`${path}-wal`).size;
    } catch {
      return 0; // no WAL file right now
    }
  };
  return {
    // On the write connection between batches: one consistent moment, committed data only.
    dump: () => writer.exclusive(() => dumpAll(db)),
    checkpoint: (mode) =>
      writer.exclusive((): CheckpointResult => {
        if (path === ":memory:") return { busy: false, walBytes: 0 };
        const r = (mode === "truncate" ? truncate : passive).get();
        return { busy: (r?.busy ?? 0) !== 0, walBytes: walBytes() };
      }),
    backup: (file) =>
      writer.exclusive(() => {
        let created = false;
        try {
          // The copy holds what the database holds: private like it (VACUUM INTO fills an empty file).
          closeSync(openSync(file, "wx", 0o600));
          created = true;
          // VACUUM INTO reads one consistent snapshot while writers continue (WAL).
          db.query("VACUUM INTO ?").run(file);
        } catch (err) {
          if (created) rmSync(file, { force: true });
          throw err;
        }
      }),
  };
}

function dumpAll(db: Database): Map<string, Map<string, Record<string, unknown>>> {
  const out = new Map<string, Map<string, Record<string, unknown>>>();
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%' ORDER BY name").all();
  for (const { name } of tables) {
    const info = db.query<{ name: string; pk: number }, []>(`PRAGMA table_info("${name}")`).all();
    const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const rows = new Map<string, Record<string, unknown>>();
    for (const row of db.query<Record<string, unknown>, []>(`SELECT * FROM "${name}"`).all()) {
      rows.set(JSON.stringify(pk.length ? pk.map((c) => row[c]) : row), row);
    }
    out.set(name, rows);
  }
  return out;
}

/** Opens (creating and migrating) a SQLite store. Throws MigrationError when a migration fails. */
export function openSqliteStore(o: SqliteStoreOptions): SqliteStore {
  // Before the database is touched: a second server on the same database stops here.
  const lock = o.instanceLock ? acquireInstanceLock(o.path) : null;
  let db: Database | null = null;
  try {
    db = openDatabase(o.path, o.synchronous);
    return new SqliteStore(db, o, lock);
  } catch (err) {
    db?.close();
    lock?.release();
    throw err;
  }
}
