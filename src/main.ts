// Entry point: parses the command line, loads config, wires every implementation, starts.
// The only place that constructs implementations.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import pkg from "../package.json";
import { ConfigError, CONFIG_VARS, loadConfig, type Config } from "./config";
import { createHttpApp } from "./http/app";
import { HttpAuth } from "./http/auth";
import { adminRoutes } from "./http/admin.routes";
import { opsRoutes } from "./http/ops.routes";
import { startHttpServer, type HttpServer } from "./http/server";
import { createLogger, type Logger } from "./log";
import { Metrics } from "./metrics";
import { openDatabase, migrate, MigrationError } from "./storage/db";
import { SqliteHealthProbe } from "./storage/health-store";
import { MIGRATIONS } from "./storage/migrations";
import { SqliteTenantStore } from "./storage/tenant-store";
import { generateSecret } from "./tenancy/keys";
import { TokenBuckets } from "./tenancy/rate-limiter";
import { TenantService } from "./tenancy/tenants";
import type { Database } from "bun:sqlite";
import { DeferredBus, type OnlineDirectory } from "./chat/bus";
import { MessageService } from "./chat/messages";
import { RoomCache } from "./chat/room-cache";
import { RoomService } from "./chat/rooms";
import { messageRoutes } from "./http/messages.routes";
import { roomRoutes } from "./http/rooms.routes";
import { SqliteMessageStore } from "./storage/message-store";
import { SqliteRoomStore } from "./storage/room-store";
import { GroupCommitWriter, type Writer } from "./storage/writer";
import { realtimeRoutes } from "./http/realtime.routes";
import { SqliteWsTokenStore } from "./storage/ws-token-store";
import { Gateway } from "./ws/gateway";
import { WsTokenService } from "./ws/tokens";
import { NotificationService } from "./chat/notifications";
import { SubscriptionService } from "./chat/subscriptions";
import { DeadLetterService } from "./delivery/dead-letters";
import { retentionWorker, walCheckpointWorker } from "./delivery/maintenance";
import { DeliveryOutbox } from "./delivery/outbox";
import { WebhookWorker } from "./delivery/webhook-worker";
import { FanoutWorker } from "./delivery/fanout";
import { StepScheduler } from "./fairness/step-scheduler";
import { SqliteFanoutStore } from "./storage/fanout-store";
import { BackgroundCheckpointer } from "./storage/checkpointer";
import { deadLetterRoutes } from "./http/dead-letters.routes";
import { consoleRoutes } from "./console/console.routes";
import { notifyRoutes } from "./http/notify.routes";
import { SqliteDeliveryStore, SqliteMaintenanceStore } from "./storage/delivery-store";
import { SqliteNotificationStore } from "./storage/notification-store";
import { SqliteSubscriptionStore } from "./storage/subscription-store";

export const VERSION: string = pkg.version;

/** A running ChatAPI process (also what tests drive). */
export interface ChatApi {
  url: string;
  port: number;
  config: Readonly<Config>;
  db: Database;
  log: Logger;
  metrics: Metrics;
  tenants: TenantService;
  rooms: RoomService;
  messages: MessageService;
  writer: Writer;
  bus: DeferredBus;
  gateway: Gateway;
  tokens: WsTokenService;
  notifications: NotificationService;
  subscriptions: SubscriptionService;
  deadLetters: DeadLetterService;
  /** The webhook sender (tests wake it or inspect it). */
  webhooks: WebhookWorker;
  /** Background fan-out of notifications and webhooks (tests await its idle()). */
  fanout: FanoutWorker;
  masterKey: string;
  http: HttpServer;
  /** Graceful shutdown: stop accepting, drain, stop workers, checkpoint, close. Idempotent. */
  stop(): Promise<void>;
}

/** A step of graceful shutdown, run in registration order. */
interface ShutdownHook {
  name: string;
  run: () => Promise<void> | void;
}

/** Reads MASTER_API_KEY, else DATA_DIR/master.key, generating it (0600) on first start. */
export function resolveMasterKey(config: Readonly<Config>, log: Logger): string {
  if (config.masterApiKey) return config.masterApiKey;
  const path = join(config.dataDir, "master.key");
  if (existsSync(path)) {
    const key = readFileSync(path, "utf8").trim();
    if (key.length >= 16) return key;
    throw new Error(`${path} exists but holds no usable key (at least 16 characters)`);
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = generateSecret(32);
  writeFileSync(path, `${key}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  log.info({ path }, "generated master key (MASTER_API_KEY unset); read it from this file");
  return key;
}

/** Opens the database and applies pending migrations; exits the process with a clear message on failure. */
export function openAndMigrate(config: Readonly<Config>, log: Logger): Database {
  const db = openDatabase(config.databasePath, config.sqliteSynchronous);
  try {
    const applied = migrate(db, MIGRATIONS);
    if (applied.length) log.info({ applied }, "migrations applied");
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Wires and starts the server. */
export function startServer(config: Readonly<Config>, opts: { logDestination?: DestinationStream } = {}): ChatApi {
  const log = createLogger(config.logLevel, opts.logDestination);
  const db = openAndMigrate(config, log);
  const masterKey = resolveMasterKey(config, log);
  const metrics = new Metrics();
  const tenants = new TenantService(new SqliteTenantStore(db), { rateLimit: config.defaultRateLimit, maxConnections: config.wsMaxConnectionsPerTenant, maxPendingDeliveries: config.maxPendingDeliveries });
  const buckets = new TokenBuckets();
  const auth = new HttpAuth(tenants, buckets, masterKey);
  const probe = new SqliteHealthProbe(db);
  const writer = new GroupCommitWriter(db);
  const bus = new DeferredBus();
  // The gateway is built after the services it calls; the directory delegates to it.
  let gateway: Gateway | null = null;
  const online: OnlineDirectory = { isOnline: (t, u) => gateway?.isOnline(t, u) ?? false };
  const roomStore = new SqliteRoomStore(db);
  const messageStore = new SqliteMessageStore(db);
  const cache = new RoomCache(roomStore);
  const rooms = new RoomService({ rooms: roomStore, messages: messageStore, writer, bus, cache, maxMembers: config.maxRoomMembers });
  const deliveryStore = new SqliteDeliveryStore(db);
  const fanoutStore = new SqliteFanoutStore(db);
  const notificationStore = new SqliteNotificationStore(db);
  const webhooks = new WebhookWorker({
    store: deliveryStore,
    tenants,
    writer,
    log,
    metrics,
    retryMaxAttempts: config.retryMaxAttempts,
    retryIntervalMs: config.retryIntervalMs,
    retryMaxIntervalMs: config.retryMaxIntervalMs,
    workerIntervalMs: config.workerIntervalMs,
    webhookTimeoutMs: config.webhookTimeoutMs,
    concurrencyPerTenant: config.webhookConcurrencyPerTenant,
  });
  // One scheduler of background steps for the process: fan-out chunks and replay steps take turns.
  const steps = new StepScheduler();
  const fanout = new FanoutWorker({ store: fanoutStore, notifications: notificationStore, deliveries: deliveryStore, writer, bus, online, tenants, worker: webhooks, log, steps });
  const outbox = new DeliveryOutbox({ store: deliveryStore, jobs: fanoutStore, fanout });
  const messages = new MessageService({ rooms, roomStore, messages: messageStore, writer, bus, online, outbox, userBuckets: new TokenBuckets(), metrics });
  const subscriptionStore = new SqliteSubscriptionStore(db);
  const subscriptions = new SubscriptionService({ store: subscriptionStore, writer });
  const notifications = new NotificationService({ store: notificationStore, subscriptions: subscriptionStore, rooms: roomStore, writer, bus, online, outbox });
  const deadLetters = new DeadLetterService({ store: deliveryStore, writer, worker: webhooks });
  const tokens = new WsTokenService(new SqliteWsTokenStore(db), writer, config.wsTokenTtlMs);
  gateway = new Gateway({ config, log, metrics, tenants, buckets, roomStore, tokens, services: { rooms, messages, tenants, buckets, log }, notifications, steps });
  bus.attach(gateway);
  let shuttingDown = false;
  const hooks: ShutdownHook[] = [];

  const app = createHttpApp({
    version: VERSION,
    log,
    modules: [
      opsRoutes({ version: VERSION, metrics, isShuttingDown: () => shuttingDown, dbWritable: () => probe.writable(new Date()) }),
      adminRoutes({ auth, tenants }),
      roomRoutes({ auth, rooms }),
      messageRoutes({ auth, messages }),
      realtimeRoutes({ auth, tokens, presence: gateway.presence, roomStore }),
      notifyRoutes({ auth, notifications, subscriptions }),
      deadLetterRoutes({ auth, deadLetters }),
      ...(config.consoleEnabled ? [consoleRoutes()] : []),
    ],
  });
  const http = startHttpServer({
    app,
    hostname: config.listenHost,
    port: config.listenPort,
    maxBodyBytes: config.maxBodyBytes,
    allowedOrigins: config.allowedOrigins,
    log,
    metrics,
    ws: gateway,
  });
  gateway.attach(http.server);
  webhooks.start();
  const resumed = fanout.resume();
  if (resumed > 0) log.info({ jobs: resumed }, "fan-out: resuming unfinished jobs");
  const maintenanceStore = new SqliteMaintenanceStore(db);
  const retention = retentionWorker({
    deliveries: deliveryStore,
    purgeWsTokens: () => tokens.purge(),
    writer,
    log,
    deliveryRetentionMs: config.deliveryRetentionMs,
    deadLetterRetentionMs: config.deadLetterRetentionMs,
    intervalMs: config.workerIntervalMs,
  });
  retention.start(0);
  const walWorker = walCheckpointWorker({ maintenance: maintenanceStore, databasePath: config.databasePath, log, metrics, intervalMs: config.walCheckpointIntervalMs });
  walWorker.start();
  // WAL checkpoints off the event loop (storage/checkpointer.ts); the periodic pass above only
  // measures and catches up if the worker cannot run.
  const checkpointer = config.databasePath === ":memory:" ? null : new BackgroundCheckpointer({ path: config.databasePath, db, onError: (message) => log.warn({ err: message }, "background checkpoint failed") });
  if (checkpointer && !checkpointer.start()) log.warn("background checkpoints unavailable: the main connection checkpoints itself");
  // In-flight webhooks finish (or stay pending) within the drain timeout; never marked failed by shutdown.
  hooks.push({ name: "fanout", run: () => fanout.stop() });
  hooks.push({ name: "webhooks", run: () => webhooks.stop(config.shutdownDrainTimeoutMs) });
  hooks.push({ name: "retention", run: () => retention.stop() });
  hooks.push({ name: "wal-checkpoint", run: () => walWorker.stop() });
  hooks.push({ name: "background-checkpoint", run: () => checkpointer?.stop() });
  log.info({ url: http.url, version: VERSION, database: config.databasePath, synchronous: config.sqliteSynchronous }, "chatapi listening");

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      shuttingDown = true;
      log.info({ drain_timeout_ms: config.shutdownDrainTimeoutMs }, "shutdown: draining");
      void http.server.stop(false);
      // Sockets hear server.shutdown and close 1001 before the drain completes.
      gateway?.shutdown();
      const drained = await Promise.race([
        http.idle().then(() => true),
        Bun.sleep(config.shutdownDrainTimeoutMs).then(() => false),
      ]);
      if (!drained) log.warn({ inflight: http.inflight() }, "shutdown: drain timeout, closing remaining connections");
      for (const h of hooks) {
        try {
          await h.run();
        } catch (err) {
          log.error({ hook: h.name, err: String(err) }, "shutdown step failed");
        }
      }
      await http.server.stop(true);
      writer.flush();
      try {
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch (err) {
        log.error({ err: String(err) }, "shutdown: WAL checkpoint failed");
      }
      db.close();
      log.info("shutdown complete");
      log.flush();
    })());

  return { url: http.url, port: http.server.port ?? 0, config, db, log, metrics, tenants, rooms, messages, writer, bus, gateway, tokens, notifications, subscriptions, deadLetters, webhooks, fanout, masterKey, http, stop };
}

const HELP = `chatapi ${VERSION}: multitenant chat backend (REST + WebSocket, SQLite)

Usage:
  chatapi [serve]              run the server
  chatapi tenants create NAME  create a tenant; prints it as JSON (with its API key)
  chatapi tenants list         print {"tenants":[...]}
  chatapi migrate              apply pending database migrations
  chatapi backup FILE          write a consistent online copy of the database to FILE
  chatapi healthcheck          exit 0 when the server at LISTEN_ADDR answers /health ok
  chatapi version              print the version
  chatapi --help               this help

Environment (all commands read the same):
${CONFIG_VARS.map((v) => `  ${v.name.padEnd(30)} ${v.def.padEnd(26)} ${v.description}`).join("\n")}
`;

/** Runs one CLI command; returns the process exit code (serve never returns until shutdown). */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [cmd = "serve", ...rest] = argv;
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd === "version" || cmd === "--version") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let config: Readonly<Config>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`config error: ${p}\n`);
      return 2;
    }
    throw err;
  }
  // CLI commands other than serve log to stderr so stdout stays machine-readable.
  const cliLog = () => createLogger(config.logLevel === "info" ? "warn" : config.logLevel, { write: (s: string) => process.stderr.write(s) } as DestinationStream);
  try {
    switch (cmd) {
      case "serve":
        return await serve(config);
      case "migrate": {
        const db = openDatabase(config.databasePath, config.sqliteSynchronous);
        const applied = migrate(db, MIGRATIONS);
        db.close();
        process.stdout.write(`${JSON.stringify({ applied })}\n`);
        return 0;
      }
      case "tenants": {
        const log = cliLog();
        const db = openAndMigrate(config, log);
        const tenants = new TenantService(new SqliteTenantStore(db), { rateLimit: config.defaultRateLimit, maxConnections: config.wsMaxConnectionsPerTenant, maxPendingDeliveries: config.maxPendingDeliveries });
        try {
          if (rest[0] === "create" && rest[1]) {
            const { tenant, apiKey } = tenants.create(rest.slice(1).join(" "));
            process.stdout.write(`${JSON.stringify({ ...tenant.view, api_key: apiKey })}\n`);
            return 0;
          }
          if (rest[0] === "list") {
            process.stdout.write(`${JSON.stringify({ tenants: tenants.list() })}\n`);
            return 0;
          }
          process.stderr.write("usage: chatapi tenants create NAME | chatapi tenants list\n");
          return 2;
        } finally {
          db.close();
        }
      }
      case "backup": {
        const file = rest[0];
        if (!file) {
          process.stderr.write("usage: chatapi backup FILE\n");
          return 2;
        }
        if (existsSync(file)) {
          process.stderr.write(`backup: ${file} already exists; choose a new file\n`);
          return 1;
        }
        const db = openDatabase(config.databasePath, config.sqliteSynchronous);
        try {
          // VACUUM INTO reads one consistent snapshot while writers continue (WAL).
          db.query("VACUUM INTO ?").run(file);
        } finally {
          db.close();
        }
        process.stdout.write(`${JSON.stringify({ backup: file })}\n`);
        return 0;
      }
      case "healthcheck": {
        const host = config.listenHost === "0.0.0.0" || config.listenHost === "::" ? "127.0.0.1" : config.listenHost;
        const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.listenPort}/health`;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
          const body = (await res.json()) as { status?: string };
          return res.ok && body.status === "ok" ? 0 : 1;
        } catch {
          return 1;
        }
      }
      default:
        process.stderr.write(`unknown command "${cmd}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof MigrationError) {
      process.stderr.write(`${err.message}\nThe database was left unchanged by this migration; fix the cause and start again.\n`);
      return 1;
    }
    process.stderr.write(`${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function serve(config: Readonly<Config>): Promise<number> {
  const api = startServer(config);
  return await new Promise<number>((resolve) => {
    const onSignal = (sig: string) => {
      api.log.info({ signal: sig }, "signal received");
      api.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once("SIGTERM", () => onSignal("SIGTERM"));
    process.once("SIGINT", () => onSignal("SIGINT"));
  });
}

if (import.meta.main) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
