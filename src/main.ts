// Entry point: parses the command line, loads config, wires every implementation, starts.
// The only place that constructs implementations.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import pkg from "../package.json";
import { ConfigError, CONFIG_VARS, loadConfig, parseDuration, type Config } from "./config";
import { createHttpApp } from "./http/app";
import { HttpAuth } from "./http/auth";
import { healthUrl, probeHealth } from "./http/healthcheck";
import { adminRoutes } from "./http/admin.routes";
import { opsRoutes } from "./http/ops.routes";
import { startHttpServer, type HttpServer } from "./http/server";
import { createLogger, finishLog, type Logger } from "./log";
import { Metrics } from "./metrics";
import { MigrationError } from "./storage/sqlite/connection";
import { openSqliteStore } from "./storage/sqlite/sqlite-store";
import { openPostgresStore } from "./storage/postgres/postgres-store";
import { copyStoreCommand } from "./copy-store-cli";
import type { Store } from "./storage/store";
import { UnsupportedByStoreError } from "./storage/errors";
import { ensurePrivateDir } from "./storage/private-files";
import { JwtVerifier } from "./tenancy/jwt";
import { signUserToken } from "./tenancy/jwt-sign";
import { isValidUserId } from "./http/auth";
import { generateSecret } from "./tenancy/keys";
import { TokenBuckets } from "./tenancy/rate-limiter";
import { TenantService } from "./tenancy/tenants";
import { ChangesService } from "./chat/changes";
import type { Broker, ControlEvent, OnlineDirectory } from "./bus/bus";
import { BrokerBus } from "./bus/fanout";
import { MemoryBroker } from "./bus/memory";
import { RedisBroker } from "./bus/redis";
import { RedisState } from "./bus/redis-state";
import { SharedBuckets } from "./tenancy/shared-buckets";
import type { RateLimiter } from "./tenancy/rate-limiter";
import { ClusterPresence, LEASE_MS } from "./ws/cluster-presence";
import { presenceToRooms } from "./ws/presence";
import { ConnectionRegistry } from "./ws/registry";
import { clusterOnce } from "./delivery/cluster-once";
import { MessageService } from "./chat/messages";
import { ReactionService } from "./chat/reactions";
import { RoomCache } from "./chat/room-cache";
import { RoomService } from "./chat/rooms";
import { conversationRoutes } from "./http/conversations.routes";
import { messageRoutes } from "./http/messages.routes";
import { roomRoutes } from "./http/rooms.routes";
import { realtimeRoutes } from "./http/realtime.routes";
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
import { deadLetterRoutes } from "./http/dead-letters.routes";
import { consoleRoutes } from "./console/server/console.routes";
import { notifyRoutes } from "./http/notify.routes";
import { openBlobStore, type BlobStore } from "./blobs/blob-store";
import { AttachmentUrls, loadUrlSecret, signWebhookAttachments } from "./blobs/url-signer";
import { AttachmentService } from "./chat/attachments";
import { SearchService } from "./chat/search";
import { Periodic } from "./delivery/periodic";
import { attachmentRoutes } from "./http/attachments.routes";
import { searchRoutes } from "./http/search.routes";

export const VERSION: string = pkg.version;

/** A running ChatAPI process (also what tests drive). */
export interface ChatApi {
  url: string;
  port: number;
  config: Readonly<Config>;
  /** The storage (tests reach it through test/support/store.ts, never with SQL). */
  store: Store;
  log: Logger;
  metrics: Metrics;
  tenants: TenantService;
  /** Verifier of signed user tokens (its cache is inspected by tests). */
  jwt: JwtVerifier;
  rooms: RoomService;
  messages: MessageService;
  /** The domain's publish side (tests tap it). */
  bus: BrokerBus;
  /** The transport between nodes: memory (one process) or Redis. */
  broker: Broker;
  gateway: Gateway;
  tokens: WsTokenService;
  notifications: NotificationService;
  subscriptions: SubscriptionService;
  deadLetters: DeadLetterService;
  attachments: AttachmentService;
  /** Where attachment files live (ATTACHMENTS_STORE). */
  blobs: BlobStore;
  search: SearchService;
  /** The orphan-upload sweeper (tests run it with runNow). */
  orphanSweeper: Periodic;
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
  ensurePrivateDir(config.dataDir);
  const key = generateSecret(32);
  writeFileSync(path, `${key}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  log.info({ path }, "generated master key (MASTER_API_KEY unset); read it from this file");
  return key;
}

/** host:port/database of a PostgreSQL URL (no credentials): names per-database cluster locks. */
function databaseName(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}

/** Opens the configured store and applies pending migrations (throws MigrationError on failure). */
export async function openStore(config: Readonly<Config>, log: Logger, opts: { migrate?: boolean; instanceLock?: boolean; backgroundCheckpoints?: boolean } = {}): Promise<Store> {
  const onCallbackError = (err: unknown) => log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, "after-commit callback failed (the write is committed)");
  if (config.databaseUrl !== null) {
    const pg = await openPostgresStore({ url: config.databaseUrl, poolSize: config.databasePoolSize, migrate: opts.migrate, onCallbackError });
    if (pg.applied.length) log.info({ applied: pg.applied }, "migrations applied");
    return pg;
  }
  const store = openSqliteStore({
    path: config.databasePath,
    synchronous: config.sqliteSynchronous,
    migrate: opts.migrate,
    instanceLock: opts.instanceLock,
    backgroundCheckpoints: opts.backgroundCheckpoints ? { onError: (message) => log.warn({ err: message }, "background checkpoint failed") } : undefined,
    onCallbackError,
    onDurabilityError: (err) => log.error({ err: err instanceof Error ? { message: err.message, code: (err as { code?: unknown }).code } : String(err) }, "fdatasync of the SQLite WAL failed: writes answer 503 until the server is restarted"),
  });
  if (store.applied.length) log.info({ applied: store.applied }, "migrations applied");
  return store;
}

/** Wires and starts the server. */
export async function startServer(config: Readonly<Config>, opts: { logDestination?: DestinationStream } = {}): Promise<ChatApi> {
  const log = createLogger(config.logLevel, opts.logDestination, { node_id: config.nodeId });
  // Before the database is touched: a second server on the same database stops here (SQLite lock).
  // WAL checkpoints run off the event loop (storage/sqlite/checkpointer.ts) for the server.
  const store = await openStore(config, log, { instanceLock: true, backgroundCheckpoints: true });
  const masterKey = resolveMasterKey(config, log);
  let blobs: BlobStore;
  let urls: AttachmentUrls;
  try {
    blobs = await openBlobStore(config.attachmentsStore);
    urls = new AttachmentUrls(await loadUrlSecret(store, config.dataDir), config.attachmentUrlTtlMs);
  } catch (err) {
    await store.close();
    throw err;
  }
  // Cluster mode labels every series with the node (one process keeps the plain series).
  const metrics = new Metrics(config.redisUrl ? config.nodeId : undefined);
  // Cluster mode (REDIS_URL): the broker, shared buckets and presence live in Redis.
  const redis = config.redisUrl ? new RedisBroker({ url: config.redisUrl, nodeId: config.nodeId, log, onState: (up) => metrics.busConnected.set(up ? 1 : 0) }) : null;
  const broker: Broker = redis ?? new MemoryBroker();
  metrics.busConnected.set(redis ? 0 : 1);
  const state = redis ? new RedisState(() => redis.commands()) : null;
  const announce = redis ? (ev: ControlEvent): Promise<void> => broker.publishControl(ev) : null;
  const tenants = new TenantService(store, {
    rateLimit: config.defaultRateLimit,
    maxAttachmentBytes: config.maxAttachmentBytes,
    attachmentQuotaBytes: config.attachmentQuotaBytes,
    maxConnections: config.wsMaxConnectionsPerTenant,
    maxPendingDeliveries: config.maxPendingDeliveries,
    announce: announce ? (tenantId, jwtKeysChanged) => announce({ kind: "tenant", tenantId, jwtKeysChanged }) : undefined,
  });
  const buckets: RateLimiter = state ? new SharedBuckets(state) : new TokenBuckets();
  const jwt = new JwtVerifier({ tenants, maxTtlMs: config.jwtMaxTtlMs });
  const auth = new HttpAuth(tenants, buckets, masterKey, jwt);
  const bus = new BrokerBus(broker);
  const registry = new ConnectionRegistry();
  // One scheduler of background steps for the process: fan-out chunks, replay and presence steps take turns.
  const steps = new StepScheduler();
  const clusterPresence = state
    ? new ClusterPresence({ state, broker, nodeId: config.nodeId, graceMs: config.presenceGraceMs, leaseMs: LEASE_MS, log, toUserRooms: presenceToRooms({ roomStore: store.rooms, broker, config, log, steps }) })
    : null;
  // Online = a socket on this node, or (cluster) one announced by any node.
  const online: OnlineDirectory = { isOnline: (t, u) => registry.isOnline(t, u) || (clusterPresence?.isOnline(t, u) ?? false) };
  const cache = new RoomCache(store.rooms, 20_000, announce ? { announce: (tenantId, roomId) => void announce({ kind: "room", tenantId, roomId }), maxAgeMs: 1000 } : {});
  // Each node writes uploads to its own ATTACHMENTS_STORE: a directory must be one volume shared by every node.
  if (redis && config.attachmentsStore.kind === "file") {
    log.warn({ dir: config.attachmentsStore.dir }, "cluster mode with a file attachment store: every node must mount this same directory (or use ATTACHMENTS_STORE=s3://...)");
  }
  const rooms = new RoomService({ store, bus, cache, urls, maxMembers: config.maxRoomMembers });
  const attachments = new AttachmentService({ store, blobs, urls, rooms, log, orphanTtlMs: config.attachmentOrphanTtlMs });
  const search = new SearchService({ store, rooms, urls });
  const webhooks = new WebhookWorker({
    store,
    tenants,
    log,
    metrics,
    retryMaxAttempts: config.retryMaxAttempts,
    retryIntervalMs: config.retryIntervalMs,
    retryMaxIntervalMs: config.retryMaxIntervalMs,
    workerIntervalMs: config.workerIntervalMs,
    webhookTimeoutMs: config.webhookTimeoutMs,
    concurrencyPerTenant: config.webhookConcurrencyPerTenant,
    preparePayload: (payload) => signWebhookAttachments(payload, urls),
  });
  // Outside cluster mode one process serves the database, so every unfinished fan-out is its own at
  // start; in cluster mode the nodes share PostgreSQL and take fan-outs over by lease.
  const fanout = new FanoutWorker({ store, bus, online, tenants, worker: webhooks, log, steps, exclusive: config.redisUrl === null });
  const outbox = new DeliveryOutbox({ fanout });
  const messages = new MessageService({ rooms, store, bus, online, outbox, userBuckets: state ? new SharedBuckets(state) : new TokenBuckets(), metrics, attachments });
  const reactions = new ReactionService({ rooms, store, bus, urls });
  const changes = new ChangesService({ rooms, store, urls });
  const subscriptions = new SubscriptionService({ store });
  const notifications = new NotificationService({ store, bus, online, outbox });
  const deadLetters = new DeadLetterService({ store, worker: webhooks });
  const tokens = new WsTokenService(store, config.wsTokenTtlMs);
  const gateway = new Gateway({
    config,
    log,
    metrics,
    tenants,
    buckets,
    roomStore: store.rooms,
    tokens,
    jwt,
    services: { rooms, messages, reactions, changes, tenants, buckets, log },
    notifications,
    broker,
    registry,
    steps,
    cluster: clusterPresence ? { presence: clusterPresence, messages: store.messages, urls } : undefined,
    // Another node changed a tenant or a room: drop this node's cached copy (a JWT key change also
    // re-verifies this node's JWT sockets, through the listener below).
    onControl: (ev) => {
      if (ev.kind === "tenant") tenants.invalidate(ev.tenantId, ev.jwtKeysChanged === true);
      else if (ev.kind === "room") cache.invalidate(ev.tenantId, ev.roomId, false);
    },
  });
  // A key change ends the old tokens at once: cached verifications go first, then open sockets are re-verified.
  tenants.onJwtKeysChanged((tenantId) => {
    jwt.invalidateTenant(tenantId);
    gateway.revalidateJwtSockets(tenantId);
  });
  await broker.listen(gateway.bus);
  let shuttingDown = false;
  const hooks: ShutdownHook[] = [];

  const app = createHttpApp({
    version: VERSION,
    log,
    modules: [
      opsRoutes({ version: VERSION, metrics, isShuttingDown: () => shuttingDown, dbWritable: () => store.health.probe(new Date().toISOString()), storeKind: store.kind, bus: () => ({ kind: broker.kind, connected: broker.connected() }) }),
      adminRoutes({ auth, tenants }),
      roomRoutes({ auth, rooms }),
      messageRoutes({ auth, messages }),
      conversationRoutes({ auth, messages, reactions, changes }),
      searchRoutes({ auth, search }),
      attachmentRoutes({ auth, attachments }),
      realtimeRoutes({ auth, tokens, presence: { view: (t, u) => gateway.presenceView(t, u) }, roomStore: store.rooms }),
      notifyRoutes({ auth, notifications, subscriptions }),
      deadLetterRoutes({ auth, deadLetters }),
      ...(config.consoleEnabled ? [consoleRoutes()] : []),
    ],
  });
  let http: HttpServer;
  try {
    http = startHttpServer({
      app,
      hostname: config.listenHost,
      port: config.listenPort,
      maxBodyBytes: config.maxBodyBytes,
      allowedOrigins: config.allowedOrigins,
      log,
      metrics,
      ws: gateway,
    });
  } catch (err) {
    // Nothing else has started yet (workers start below): give the database and its lock back.
    await store.close();
    throw err;
  }
  gateway.attach(http.server);
  webhooks.start();
  const resumed = await fanout.resume();
  if (resumed > 0) log.info({ jobs: resumed }, "fan-out: resuming unfinished jobs");
  // Cluster mode: retention runs on one node per interval (a Redis lock), not on every node.
  const retention = retentionWorker({
    store,
    log,
    // The lock is named after the database: clusters sharing one Redis still clean their own database.
    once: state && config.databaseUrl ? clusterOnce(state, `retention:${databaseName(config.databaseUrl)}`, config.nodeId, config.workerIntervalMs) : undefined,
    deliveryRetentionMs: config.deliveryRetentionMs,
    deadLetterRetentionMs: config.deadLetterRetentionMs,
    intervalMs: config.workerIntervalMs,
  });
  retention.start(0);
  const walWorker = walCheckpointWorker({ store, log, metrics, intervalMs: config.walCheckpointIntervalMs });
  walWorker.start();
  const orphanSweeper = new Periodic("attachment-orphans", config.workerIntervalMs, () => attachments.sweepOrphans(), log);
  orphanSweeper.start();
  // With background checkpoints (the server) this pass mostly measures; it catches up if the worker cannot run.
  // In-flight webhooks finish (or stay pending) within the drain timeout; never marked failed by shutdown.
  hooks.push({ name: "fanout", run: () => fanout.shutdown() });
  hooks.push({ name: "webhooks", run: () => webhooks.stop(config.shutdownDrainTimeoutMs) });
  hooks.push({ name: "retention", run: () => retention.stop() });
  hooks.push({ name: "wal-checkpoint", run: () => walWorker.stop() });
  hooks.push({ name: "attachment-orphans", run: () => orphanSweeper.stop() });
  log.info(
    {
      url: http.url,
      version: VERSION,
      node_id: config.nodeId,
      bus: broker.kind,
      store: store.health.describe(),
      attachments: blobs.location,
      synchronous: store.kind === "sqlite" ? config.sqliteSynchronous : undefined,
    },
    "chatapi listening",
  );

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      shuttingDown = true;
      log.info({ drain_timeout_ms: config.shutdownDrainTimeoutMs }, "shutdown: draining");
      void http.server.stop(false);
      // Sockets hear server.shutdown and close 1001 before the drain completes.
      gateway.shutdown();
      const drained = await Promise.race([
        http.idle().then(() => true),
        Bun.sleep(config.shutdownDrainTimeoutMs).then(() => false),
      ]);
      if (!drained) log.warn({ inflight: http.inflight() }, "shutdown: drain timeout, closing remaining connections");
      // Every step is bounded: one that waits on nothing the event loop still holds would otherwise
      // let the process end early with exit code 0, skipping the checkpoint and the close below.
      const keepAlive = setInterval(() => undefined, 1000);
      for (const h of hooks) {
        try {
          const finished = await Promise.race([
            Promise.resolve(h.run()).then(() => true),
            Bun.sleep(config.shutdownDrainTimeoutMs).then(() => false),
          ]);
          if (!finished) log.warn({ hook: h.name, timeout_ms: config.shutdownDrainTimeoutMs }, "shutdown step did not finish in time; going on");
        } catch (err) {
          log.error({ hook: h.name, err: String(err) }, "shutdown step failed");
        }
      }
      await http.server.stop(true);
      try {
        await store.maintenance.checkpoint("truncate");
      } catch (err) {
        log.error({ err: String(err) }, "shutdown: WAL checkpoint failed");
      }
      await broker.close();
      await store.close();
      clearInterval(keepAlive);
      log.info("shutdown complete");
      // The destination writes asynchronously: the last lines must be out before the process exits.
      await finishLog(log);
    })());

  return { url: http.url, port: http.server.port ?? 0, config, store, log, metrics, tenants, jwt, rooms, messages, bus, broker, gateway, tokens, notifications, subscriptions, deadLetters, attachments, blobs, search, orphanSweeper, webhooks, fanout, masterKey, http, stop };
}

const HELP = `chatapi ${VERSION}: multitenant chat backend (REST + WebSocket, SQLite or PostgreSQL)

Usage:
  chatapi [serve]              run the server
  chatapi tenants create NAME  create a tenant; prints it as JSON (with its API key)
  chatapi tenants list         print {"tenants":[...]}
  chatapi token TENANT_ID USER_ID [--ttl 1h]
                               print a user JWT signed with the tenant's jwt_secret (default TTL 1h)
  chatapi migrate              apply pending database migrations
  chatapi backup FILE          write a consistent online copy of the database to FILE (SQLite; PostgreSQL: pg_dump);
                               attachment files live in ATTACHMENTS_STORE: back that up separately
  chatapi copy-store --to DSN  copy every record of the configured store into an empty other one
                               (SQLite <-> PostgreSQL), verified; progress on stderr; attachment records
                               are copied, the files stay in ATTACHMENTS_STORE (point the target at it)
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
        const store = await openStore(config, cliLog());
        const applied = (store as { applied?: string[] }).applied ?? [];
        await store.close();
        process.stdout.write(`${JSON.stringify({ applied })}\n`);
        return 0;
      }
      case "tenants": {
        const store = await openStore(config, cliLog());
        const tenants = new TenantService(store, { rateLimit: config.defaultRateLimit, maxConnections: config.wsMaxConnectionsPerTenant, maxPendingDeliveries: config.maxPendingDeliveries });
        try {
          if (rest[0] === "create" && rest[1]) {
            const { tenant, apiKey } = await tenants.create(rest.slice(1).join(" "));
            process.stdout.write(`${JSON.stringify({ ...tenant.view, api_key: apiKey })}\n`);
            return 0;
          }
          if (rest[0] === "list") {
            process.stdout.write(`${JSON.stringify({ tenants: await tenants.list() })}\n`);
            return 0;
          }
          process.stderr.write("usage: chatapi tenants create NAME | chatapi tenants list\n");
          return 2;
        } finally {
          await store.close();
        }
      }
      case "token":
        return await tokenCommand(config, rest, cliLog());
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
        const store = await openStore(config, cliLog(), { migrate: false });
        try {
          await store.maintenance.backup(file);
        } catch (err) {
          if (!(err instanceof UnsupportedByStoreError)) throw err;
          process.stderr.write(`backup: ${err.message}\n`);
          return 2;
        } finally {
          await store.close();
        }
        process.stdout.write(`${JSON.stringify({ backup: file })}\n`);
        // The database holds attachment records only; the files are elsewhere.
        process.stderr.write(`backup: attachment files are not in the database; back up ${config.attachmentsStore.kind === "file" ? config.attachmentsStore.dir : `s3://${config.attachmentsStore.bucket}/${config.attachmentsStore.prefix}`} (ATTACHMENTS_STORE) separately\n`);
        return 0;
      }
      case "copy-store":
        return await copyStoreCommand(config, rest, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
      case "healthcheck": {
        const r = await probeHealth(healthUrl(config.listenHost, config.listenPort));
        if (!r.ok) process.stderr.write(`healthcheck: ${r.reason}\n`);
        return r.ok ? 0 : 1;
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

const TOKEN_USAGE = "usage: chatapi token TENANT_ID USER_ID [--ttl 1h]\n";

// `chatapi token`: exit 2 for bad arguments, an unknown tenant, a tenant without jwt_secret, a TTL over JWT_MAX_TTL.
async function tokenCommand(config: Readonly<Config>, args: string[], log: Logger): Promise<number> {
  const fail = (message: string) => (process.stderr.write(`token: ${message}\n`), 2);
  const positional: string[] = [];
  let ttlText = "1h";
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--ttl") {
      const v = args[++i];
      if (v === undefined) return fail("--ttl needs a duration like 15m or 1h");
      ttlText = v;
    } else if (a.startsWith("--ttl=")) ttlText = a.slice(6);
    else if (a.startsWith("--")) return (process.stderr.write(`token: unknown option ${a}\n${TOKEN_USAGE}`), 2);
    else positional.push(a);
  }
  const [tenantId, userId] = positional;
  if (positional.length !== 2 || !tenantId || userId === undefined) return (process.stderr.write(TOKEN_USAGE), 2);
  if (!isValidUserId(userId)) return fail("USER_ID must be 1..128 characters without control characters");
  const ttlMs = parseDuration(ttlText);
  if (ttlMs === null || ttlMs < 1000) return fail(`--ttl "${ttlText}" is not a duration of at least 1s (like 15m, 1h)`);
  if (ttlMs > config.jwtMaxTtlMs) return fail(`--ttl ${ttlText} is over JWT_MAX_TTL (${Math.round(config.jwtMaxTtlMs / 1000)} s): the server would refuse the token`);
  const store = await openStore(config, log);
  try {
    const tenant = await new TenantService(store, { rateLimit: config.defaultRateLimit }).find(tenantId);
    if (!tenant) return fail(`no tenant ${JSON.stringify(tenantId)}`);
    if (tenant.jwt.secret === null) return fail("the tenant has no jwt_secret: set one with PATCH /admin/tenants/{tenant_id} {\"config\":{\"jwt_secret\":\"...\"}}");
    process.stdout.write(`${await signUserToken(tenant.jwt.secret, tenant.id, userId, ttlMs)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

async function serve(config: Readonly<Config>): Promise<number> {
  const api = await startServer(config);
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
