// The only module that reads the environment. Every variable: name, default, unit, description.
// Parsed and validated once; the result is frozen. Invalid values are all reported together.
import { hostname } from "node:os";

export type SqliteSynchronous = "full" | "normal";
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** The validated, frozen configuration of one process. */
export interface Config {
  listenHost: string;
  listenPort: number;
  dataDir: string;
  /** Path of the SQLite file, or ":memory:". */
  databasePath: string;
  /** PostgreSQL URL when DATABASE_DSN is postgres:// or postgresql:// (then the store is PostgreSQL); null = SQLite. */
  databaseUrl: string | null;
  /** Connections in the PostgreSQL pool. */
  databasePoolSize: number;
  masterApiKey: string | null;
  logLevel: LogLevel;
  defaultRateLimit: number;
  retryMaxAttempts: number;
  retryIntervalMs: number;
  retryMaxIntervalMs: number;
  workerIntervalMs: number;
  shutdownDrainTimeoutMs: number;
  /** null = unset (every request with an Origin is refused); ["*"] allows any. */
  allowedOrigins: string[] | null;
  wsMaxConnectionsPerUser: number;
  wsTokenTtlMs: number;
  /** Longest lifetime a signed user token (JWT) may claim: `exp` at most this far in the future. */
  jwtMaxTtlMs: number;
  wsBackpressureBytes: number;
  wsHeartbeatMs: number;
  presenceGraceMs: number;
  /** Rooms with more members than this carry no presence.update frames (GET /presence still answers). */
  presenceRoomLimit: number;
  typingTimeoutMs: number;
  maxBodyBytes: number;
  syncMaxPerRoom: number;
  syncMaxTotal: number;
  sqliteSynchronous: SqliteSynchronous;
  consoleEnabled: boolean;
  deliveryRetentionMs: number;
  deadLetterRetentionMs: number;
  webhookTimeoutMs: number;
  webhookConcurrencyPerTenant: number;
  walCheckpointIntervalMs: number;
  /** Redis URL connecting the nodes of a cluster; null = one process, in-memory bus. */
  redisUrl: string | null;
  /** This node's name in logs and metric labels (hostname plus a random suffix by default). */
  nodeId: string;
  /** Default of the tenant config max_attachment_bytes. */
  maxAttachmentBytes: number;
  /** Default of the tenant config attachment_quota_bytes. */
  attachmentQuotaBytes: number;
  attachmentUrlTtlMs: number;
  attachmentOrphanTtlMs: number;
  attachmentsStore: AttachmentsStoreConfig;
  /** Members per room; creating or adding past it is a 409. */
  maxRoomMembers: number;
  /** Default of the tenant config `max_connections` (open WebSockets per tenant; over all nodes in cluster mode). */
  wsMaxConnectionsPerTenant: number;
  /** Open WebSockets on this node; null = 90 % of the process's open-file soft limit (resolved at start). */
  wsMaxConnections: number | null;
  /** Default of the tenant config `max_pending_deliveries`. */
  maxPendingDeliveries: number;
}

/** Where attachment files live: a directory (0700, files 0600) or an S3-compatible bucket. */
export type AttachmentsStoreConfig =
  | { kind: "file"; dir: string }
  | { kind: "s3"; bucket: string; prefix: string; endpoint: string | null; region: string | null; accessKeyId: string | null; secretAccessKey: string | null };

type Env = Record<string, string | undefined>;

interface VarSpec {
  name: string;
  def: string;
  unit: string;
  description: string;
  aliases?: string[];
}

/** Every variable the server reads, for --help and the README. */
export const CONFIG_VARS: readonly VarSpec[] = [
  { name: "LISTEN_ADDR", def: ":8080", unit: "host:port", description: "Address to listen on (`host:port`, `:port`, `[::1]:port`)." },
  { name: "DATA_DIR", def: "./data", unit: "path", description: "Directory for the database and the generated master key." },
  { name: "DATABASE_DSN", def: "file:$DATA_DIR/chatapi.db", unit: "dsn", description: "SQLite database (`file:path`, a plain path, `:memory:`) or PostgreSQL (`postgres://user:pass@host:5432/db`)." },
  { name: "DATABASE_POOL_SIZE", def: "10", unit: "count", description: "PostgreSQL only: connections in the pool (transactions beyond it wait up to 5 s, then 503)." },
  { name: "MASTER_API_KEY", def: "(generated)", unit: "secret", description: "Master key for /admin/tenants. Unset: generated into DATA_DIR/master.key (0600) on first start." },
  { name: "LOG_LEVEL", def: "info", unit: "level", description: "trace, debug, info, warn, error, fatal or silent." },
  { name: "DEFAULT_RATE_LIMIT", def: "100", unit: "requests/s", description: "Tenant token-bucket rate when the tenant sets none (burst 2x)." },
  { name: "RETRY_MAX_ATTEMPTS", def: "5", unit: "count", description: "Webhook attempts, the first included, before a dead letter." },
  { name: "RETRY_INTERVAL", def: "30s", unit: "duration", description: "First webhook backoff step (doubles each attempt, full jitter)." },
  { name: "RETRY_MAX_INTERVAL", def: "1h", unit: "duration", description: "Cap of one webhook backoff step." },
  { name: "WORKER_INTERVAL", def: "30s", unit: "duration", description: "Fallback poll of the delivery worker (first attempts are immediate)." },
  { name: "SHUTDOWN_DRAIN_TIMEOUT", def: "10s", unit: "duration", description: "How long shutdown waits for in-flight work." },
  { name: "ALLOWED_ORIGINS", def: "(unset)", unit: "list", description: "Comma-separated Origins allowed on /ws and CORS (`*` = any). Unset: requests with an Origin are refused.", aliases: ["WS_ALLOWED_ORIGINS"] },
  { name: "WS_MAX_CONNECTIONS_PER_USER", def: "5", unit: "count", description: "Open sockets per tenant+user; the next one is closed with 1008." },
  { name: "WS_TOKEN_TTL", def: "60s", unit: "duration", description: "Lifetime of a single-use /ws/token." },
  { name: "JWT_MAX_TTL", def: "24h", unit: "duration", description: "Signed user tokens (JWT) with an `exp` further in the future are refused (1s..7d)." },
  { name: "WS_BACKPRESSURE_BYTES", def: "1048576", unit: "bytes", description: "Unsent bytes after which a slow consumer is closed with 1013." },
  { name: "WS_HEARTBEAT", def: "30s", unit: "duration", description: "Interval of server WebSocket pings; a peer silent for two intervals is closed." },
  { name: "PRESENCE_GRACE", def: "5s", unit: "duration", description: "Delay before `offline` after a user's last socket closes." },
  { name: "PRESENCE_ROOM_LIMIT", def: "1000", unit: "count", description: "Rooms with more members carry no presence.update frames (GET /presence still answers)." },
  { name: "TYPING_TIMEOUT", def: "8s", unit: "duration", description: "A typing start without stop expires after this." },
  { name: "MAX_BODY_BYTES", def: "262144", unit: "bytes", description: "Request bodies over this get 413 before parsing." },
  { name: "SYNC_MAX_PER_ROOM", def: "100", unit: "count", description: "Messages replayed per room on connect; older ones are announced by `sync.gap`." },
  { name: "SYNC_MAX_TOTAL", def: "1000", unit: "count", description: "Messages replayed per connect over all rooms." },
  { name: "SQLITE_SYNCHRONOUS", def: "full", unit: "full|normal", description: "`full`: a 2xx means the message is on disk even after a power loss." },
  { name: "CONSOLE_ENABLED", def: "true", unit: "bool", description: "Serve the web console at /console." },
  { name: "DELIVERY_RETENTION", def: "7d", unit: "duration", description: "How long delivered webhook rows are kept." },
  { name: "DEAD_LETTER_RETENTION", def: "30d", unit: "duration", description: "How long dead letters are kept unless retried." },
  { name: "WEBHOOK_TIMEOUT", def: "5s", unit: "duration", description: "A webhook attempt must answer 2xx within this." },
  { name: "WEBHOOK_CONCURRENCY_PER_TENANT", def: "4", unit: "count", description: "Webhook requests in flight per tenant." },
  { name: "WAL_CHECKPOINT_INTERVAL", def: "60s", unit: "duration", description: "Interval of the passive WAL checkpoint." },
  { name: "REDIS_URL", def: "(unset)", unit: "url", description: "Cluster mode: `redis://host:6379/0` connects several nodes (requires a PostgreSQL DATABASE_DSN). Unset: one process." },
  { name: "NODE_ID", def: "(hostname-xxxx)", unit: "name", description: "This node's name in logs and as the `node` label of metrics. Default: hostname plus a short random suffix." },
  { name: "MAX_ATTACHMENT_BYTES", def: "10485760", unit: "bytes", description: "Largest upload (default of the tenant config max_attachment_bytes; at most 100 MiB)." },
  { name: "ATTACHMENT_QUOTA_BYTES", def: "1073741824", unit: "bytes", description: "Attachment bytes a tenant may store (default of the tenant config attachment_quota_bytes)." },
  { name: "ATTACHMENT_URL_TTL", def: "1h", unit: "duration", description: "Lifetime of a signed attachment url." },
  { name: "ATTACHMENT_ORPHAN_TTL", def: "24h", unit: "duration", description: "An upload not attached to a message within this is deleted (checked every WORKER_INTERVAL)." },
  { name: "ATTACHMENTS_STORE", def: "file:$DATA_DIR/attachments", unit: "url", description: "Where attachment files live: `file:<dir>` or `s3://bucket/prefix` (with the S3_* variables)." },
  { name: "S3_ENDPOINT", def: "(AWS)", unit: "url", description: "S3-compatible endpoint for `ATTACHMENTS_STORE=s3://...` (MinIO, R2, ...); unset: AWS." },
  { name: "S3_REGION", def: "(unset)", unit: "name", description: "Region of the bucket (e.g. `us-east-1`)." },
  { name: "S3_ACCESS_KEY_ID", def: "(unset)", unit: "secret", description: "Access key of the bucket (unset: the AWS_* variables Bun reads)." },
  { name: "S3_SECRET_ACCESS_KEY", def: "(unset)", unit: "secret", description: "Secret key of the bucket; never logged." },
  { name: "MAX_ROOM_MEMBERS", def: "10000", unit: "count", description: "Members per room: creating a room with more, or adding past it, is a 409." },
  { name: "WS_MAX_CONNECTIONS_PER_TENANT", def: "10000", unit: "count", description: "Open WebSockets per tenant (all nodes together in cluster mode; tenant config `max_connections` overrides); the next handshake gets 429." },
  { name: "WS_MAX_CONNECTIONS", def: "(90% of the open-file limit)", unit: "count", description: "Open WebSockets on one node; the next handshake gets 503." },
  { name: "MAX_PENDING_DELIVERIES", def: "100000", unit: "count", description: "Pending webhook deliveries per tenant (tenant config `max_pending_deliveries` overrides); past it new ones become dead letters." },
];

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `2m`, `1h`, `7d` (and a bare `0`) into milliseconds; null if invalid. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return text.trim() === "0" ? 0 : null;
  const value = Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return Number.isFinite(value) ? Math.round(value) : null;
}

/** Parses LISTEN_ADDR forms `host:port`, `:port`, `[::1]:port`. */
export function parseListenAddr(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  const host = m[1] ?? (m[2] ? m[2] : "0.0.0.0");
  return { host, port };
}

/** hostname-xxxx: stable enough to read in logs, unique across restarts of one host. */
function defaultNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, "").slice(0, 40) || "node";
  return `${host}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Thrown by loadConfig with one line per invalid variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Reads and validates the environment; throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const get = (name: string, def: string): string => {
    const v = env[name];
    return v === undefined || v === "" ? def : v;
  };
  const int = (name: string, def: string, min: number, max: number): number => {
    const raw = get(name, def);
    const n = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name}: "${raw}" is not an integer in ${min}..${max}`);
      return Number(def);
    }
    return n;
  };
  const duration = (name: string, def: string, minMs = 0, maxMs = Number.MAX_SAFE_INTEGER): number => {
    const raw = get(name, def);
    const ms = parseDuration(raw);
    if (ms === null || ms < minMs || ms > maxMs) {
      const range = maxMs < Number.MAX_SAFE_INTEGER ? ` (${minMs}ms..${maxMs}ms)` : minMs > 0 ? ` (at least ${minMs}ms)` : "";
      problems.push(`${name}: "${raw}" is not a duration like 500ms, 30s, 2m${range}`);
      return parseDuration(def)!;
    }
    return ms;
  };
  const oneOf = <T extends string>(name: string, def: T, allowed: readonly T[]): T => {
    const raw = get(name, def).toLowerCase() as T;
    if (!allowed.includes(raw)) {
      problems.push(`${name}: "${get(name, def)}" must be one of ${allowed.join(", ")}`);
      return def;
    }
    return raw;
  };

  const listenRaw = get("LISTEN_ADDR", ":8080");
  let listen = parseListenAddr(listenRaw);
  if (!listen) {
    problems.push(`LISTEN_ADDR: "${listenRaw}" is not host:port, :port or [::1]:port`);
    listen = { host: "0.0.0.0", port: 8080 };
  }

  const dataDir = get("DATA_DIR", "./data");
  const dsn = get("DATABASE_DSN", "");
  let databasePath = `${dataDir.replace(/\/+$/, "")}/chatapi.db`;
  let databaseUrl: string | null = null;
  if (/^postgres(ql)?:\/\//i.test(dsn)) {
    databaseUrl = dsn;
    if (!URL.canParse(dsn)) problems.push(`DATABASE_DSN: "${dsn.replace(/\/\/.*@/, "//***@")}" is not a valid postgres:// URL`);
  } else if (dsn) {
    if (dsn === ":memory:" || dsn === "file::memory:") databasePath = ":memory:";
    else if (dsn.startsWith("file:")) databasePath = dsn.slice(5).split("?")[0] ?? "";
    else if (/^[a-z]+:\/\//i.test(dsn)) problems.push(`DATABASE_DSN: "${dsn.replace(/\/\/.*@/, "//***@")}" is not a SQLite file: DSN, path or :memory:`);
    else databasePath = dsn;
    if (!databasePath) problems.push(`DATABASE_DSN: "${dsn}" names no file`);
  }

  const masterRaw = env.MASTER_API_KEY;
  let masterApiKey: string | null = masterRaw && masterRaw.length > 0 ? masterRaw : null;
  if (masterApiKey !== null && (masterApiKey.length < 16 || /[\s\x00-\x1f]/.test(masterApiKey))) {
    problems.push("MASTER_API_KEY: must be at least 16 characters without whitespace");
    masterApiKey = null;
  }

  const originsRaw = env.ALLOWED_ORIGINS ?? env.WS_ALLOWED_ORIGINS;
  let allowedOrigins: string[] | null = null;
  if (originsRaw !== undefined && originsRaw.trim() !== "") {
    allowedOrigins = originsRaw.split(",").map((o) => o.trim().replace(/\/+$/, "")).filter(Boolean);
    for (const o of allowedOrigins) {
      if (o !== "*" && !/^https?:\/\/[^\s/]+$/.test(o)) problems.push(`ALLOWED_ORIGINS: "${o}" is not an origin like https://app.example.com or *`);
    }
  }

  const boolRaw = get("CONSOLE_ENABLED", "true").toLowerCase();
  if (!["true", "false", "1", "0", "yes", "no"].includes(boolRaw)) problems.push(`CONSOLE_ENABLED: "${boolRaw}" must be true or false`);

  const redisRaw = get("REDIS_URL", "");
  let redisUrl: string | null = null;
  if (redisRaw) {
    if (!/^rediss?:\/\//i.test(redisRaw) || !URL.canParse(redisRaw)) problems.push(`REDIS_URL: "${redisRaw.replace(/\/\/.*@/, "//***@")}" is not a redis:// URL`);
    else redisUrl = redisRaw;
    // Several nodes need one shared store: SQLite lives in one process's DATA_DIR.
    if (databaseUrl === null) problems.push("REDIS_URL: cluster mode needs a PostgreSQL DATABASE_DSN (postgres://...); SQLite serves one process only");
  }
  const nodeIdRaw = get("NODE_ID", "");
  if (nodeIdRaw && !/^[A-Za-z0-9._-]{1,64}$/.test(nodeIdRaw)) problems.push(`NODE_ID: "${nodeIdRaw}" must be 1..64 characters of A-Z a-z 0-9 . _ -`);
  const nodeId = nodeIdRaw && /^[A-Za-z0-9._-]{1,64}$/.test(nodeIdRaw) ? nodeIdRaw : defaultNodeId();
  const storeRaw = get("ATTACHMENTS_STORE", `file:${dataDir.replace(/\/+$/, "")}/attachments`);
  let attachmentsStore: AttachmentsStoreConfig = { kind: "file", dir: `${dataDir.replace(/\/+$/, "")}/attachments` };
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(storeRaw);
  const opt = (name: string) => (env[name] === undefined || env[name] === "" ? null : env[name]!);
  if (s3) {
    const prefix = (s3[2] ?? "").replace(/^\/+|\/+$/g, "");
    attachmentsStore = { kind: "s3", bucket: s3[1]!, prefix: prefix ? `${prefix}/` : "", endpoint: opt("S3_ENDPOINT"), region: opt("S3_REGION"), accessKeyId: opt("S3_ACCESS_KEY_ID"), secretAccessKey: opt("S3_SECRET_ACCESS_KEY") };
    if (attachmentsStore.endpoint !== null && !/^https?:\/\/[^\s]+$/.test(attachmentsStore.endpoint)) problems.push(`S3_ENDPOINT: "${attachmentsStore.endpoint}" is not an http(s) URL`);
  } else if (storeRaw.startsWith("file:") && storeRaw.length > 5) {
    attachmentsStore = { kind: "file", dir: storeRaw.slice(5) };
  } else {
    problems.push(`ATTACHMENTS_STORE: "${storeRaw}" is not file:<dir> or s3://bucket/prefix`);
  }

  const config: Config = {
    listenHost: listen.host,
    listenPort: listen.port,
    dataDir,
    databasePath,
    databaseUrl,
    databasePoolSize: int("DATABASE_POOL_SIZE", "10", 1, 1000),
    masterApiKey,
    logLevel: oneOf<LogLevel>("LOG_LEVEL", "info", ["trace", "debug", "info", "warn", "error", "fatal", "silent"]),
    defaultRateLimit: int("DEFAULT_RATE_LIMIT", "100", 1, 1_000_000),
    retryMaxAttempts: int("RETRY_MAX_ATTEMPTS", "5", 1, 100),
    retryIntervalMs: duration("RETRY_INTERVAL", "30s", 1),
    retryMaxIntervalMs: duration("RETRY_MAX_INTERVAL", "1h", 1),
    workerIntervalMs: duration("WORKER_INTERVAL", "30s", 10),
    shutdownDrainTimeoutMs: duration("SHUTDOWN_DRAIN_TIMEOUT", "10s"),
    allowedOrigins,
    wsMaxConnectionsPerUser: int("WS_MAX_CONNECTIONS_PER_USER", "5", 1, 10_000),
    wsTokenTtlMs: duration("WS_TOKEN_TTL", "60s", 1000),
    jwtMaxTtlMs: duration("JWT_MAX_TTL", "24h", 1000, 7 * 86_400_000),
    wsBackpressureBytes: int("WS_BACKPRESSURE_BYTES", "1048576", 1024, 1 << 30),
    wsHeartbeatMs: duration("WS_HEARTBEAT", "30s", 100),
    presenceGraceMs: duration("PRESENCE_GRACE", "5s"),
    presenceRoomLimit: int("PRESENCE_ROOM_LIMIT", "1000", 0, 10_000_000),
    typingTimeoutMs: duration("TYPING_TIMEOUT", "8s", 10),
    maxBodyBytes: int("MAX_BODY_BYTES", "262144", 1024, 64 * 1024 * 1024),
    syncMaxPerRoom: int("SYNC_MAX_PER_ROOM", "100", 1, 100_000),
    syncMaxTotal: int("SYNC_MAX_TOTAL", "1000", 1, 1_000_000),
    sqliteSynchronous: oneOf<SqliteSynchronous>("SQLITE_SYNCHRONOUS", "full", ["full", "normal"]),
    consoleEnabled: ["true", "1", "yes"].includes(boolRaw),
    deliveryRetentionMs: duration("DELIVERY_RETENTION", "7d"),
    deadLetterRetentionMs: duration("DEAD_LETTER_RETENTION", "30d"),
    webhookTimeoutMs: duration("WEBHOOK_TIMEOUT", "5s", 10),
    webhookConcurrencyPerTenant: int("WEBHOOK_CONCURRENCY_PER_TENANT", "4", 1, 1000),
    walCheckpointIntervalMs: duration("WAL_CHECKPOINT_INTERVAL", "60s", 10),
    redisUrl,
    nodeId,
    maxAttachmentBytes: int("MAX_ATTACHMENT_BYTES", "10485760", 1, 104_857_600),
    attachmentQuotaBytes: int("ATTACHMENT_QUOTA_BYTES", "1073741824", 0, 1_125_899_906_842_624),
    attachmentUrlTtlMs: duration("ATTACHMENT_URL_TTL", "1h", 1000),
    attachmentOrphanTtlMs: duration("ATTACHMENT_ORPHAN_TTL", "24h", 1),
    attachmentsStore,
    maxRoomMembers: int("MAX_ROOM_MEMBERS", "10000", 2, 10_000_000),
    wsMaxConnectionsPerTenant: int("WS_MAX_CONNECTIONS_PER_TENANT", "10000", 0, 10_000_000),
    wsMaxConnections: get("WS_MAX_CONNECTIONS", "") === "" ? null : int("WS_MAX_CONNECTIONS", "0", 1, 10_000_000),
    maxPendingDeliveries: int("MAX_PENDING_DELIVERIES", "100000", 0, 1_000_000_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
