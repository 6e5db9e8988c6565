import { describe, expect, test } from "bun:test";
import { ConfigError, CONFIG_VARS, loadConfig, parseDuration, parseListenAddr } from "./config";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("parseDuration", () => {
  test("accepts ms, s, m, h, d and a bare 0", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration(" 30s ")).toBe(30_000);
  });

  test("rejects bare numbers, unknown units, negatives and junk", () => {
    for (const bad of ["30", "xyz", "", "s", "-1s", "1 s", "1w", "1e3ms", "30S", "5sec"]) expect(parseDuration(bad)).toBeNull();
  });
});

describe("parseListenAddr", () => {
  test("accepts host:port, :port and [ipv6]:port", () => {
    expect(parseListenAddr(":8080")).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(parseListenAddr("127.0.0.1:3000")).toEqual({ host: "127.0.0.1", port: 3000 });
    expect(parseListenAddr("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(parseListenAddr("[::1]:9000")).toEqual({ host: "::1", port: 9000 });
    expect(parseListenAddr("[::]:65535")).toEqual({ host: "::", port: 65535 });
  });

  test("rejects missing ports, ports over 65535, bare IPv6 and junk", () => {
    for (const bad of ["bad", "8080", "127.0.0.1", ":", ":65536", ":99999", "::1:80", "host:port", "[::1]", "a:b:1"]) expect(parseListenAddr(bad)).toBeNull();
  });
});

describe("loadConfig", () => {
  test("an empty environment gives the documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      listenHost: "0.0.0.0",
      listenPort: 8080,
      dataDir: "./data",
      databasePath: "./data/chatapi.db",
      masterApiKey: null,
      logLevel: "info",
      defaultRateLimit: 100,
      retryMaxAttempts: 5,
      retryIntervalMs: 30_000,
      workerIntervalMs: 30_000,
      shutdownDrainTimeoutMs: 10_000,
      allowedOrigins: null,
      wsMaxConnectionsPerUser: 5,
      wsTokenTtlMs: 60_000,
      wsBackpressureBytes: 1_048_576,
      presenceGraceMs: 5000,
      typingTimeoutMs: 8000,
      maxBodyBytes: 262_144,
      syncMaxPerRoom: 100,
      syncMaxTotal: 1000,
      sqliteSynchronous: "full",
      consoleEnabled: true,
    });
  });

  test("the result is frozen", () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { listenPort: number }).listenPort = 1;
    }).toThrow();
  });

  test("empty strings count as unset", () => {
    expect(loadConfig({ LISTEN_ADDR: "", RETRY_INTERVAL: "", MASTER_API_KEY: "" })).toMatchObject({ listenPort: 8080, retryIntervalMs: 30_000, masterApiKey: null });
  });

  test("values are parsed: durations, integers, enums case-insensitively, booleans", () => {
    const c = loadConfig({
      LISTEN_ADDR: "[::1]:9001",
      RETRY_INTERVAL: "500ms",
      WS_TOKEN_TTL: "2m",
      MAX_BODY_BYTES: "2048",
      SQLITE_SYNCHRONOUS: "NORMAL",
      LOG_LEVEL: "Debug",
      CONSOLE_ENABLED: "false",
      DEFAULT_RATE_LIMIT: "7",
    });
    expect(c).toMatchObject({
      listenHost: "::1",
      listenPort: 9001,
      retryIntervalMs: 500,
      wsTokenTtlMs: 120_000,
      maxBodyBytes: 2048,
      sqliteSynchronous: "normal",
      logLevel: "debug",
      consoleEnabled: false,
      defaultRateLimit: 7,
    });
  });

  test("DATABASE_DSN accepts file: DSNs, plain paths and :memory:; default follows DATA_DIR", () => {
    expect(loadConfig({ DATA_DIR: "/srv/chat/" }).databasePath).toBe("/srv/chat/chatapi.db");
    expect(loadConfig({ DATABASE_DSN: "file:/var/db/x.db" }).databasePath).toBe("/var/db/x.db");
    expect(loadConfig({ DATABASE_DSN: "file:/var/db/x.db?mode=rwc" }).databasePath).toBe("/var/db/x.db");
    expect(loadConfig({ DATABASE_DSN: "/var/db/y.db" }).databasePath).toBe("/var/db/y.db");
    expect(loadConfig({ DATABASE_DSN: ":memory:" }).databasePath).toBe(":memory:");
    expect(loadConfig({ DATABASE_DSN: "file::memory:" }).databasePath).toBe(":memory:");
  });

  test("a network DSN other than PostgreSQL is refused without echoing its password", () => {
    const problems = problemsOf({ DATABASE_DSN: "mysql://chat:hunter2secret@db.internal/chat" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("DATABASE_DSN:");
    expect(problems[0]).not.toContain("hunter2secret");
  });

  test("postgres:// and postgresql:// DSNs select PostgreSQL; DATABASE_POOL_SIZE sizes its pool (default 10)", () => {
    const c = loadConfig({ DATABASE_DSN: "postgres://chat:pw@db.internal:5433/chat" });
    expect(c.databaseUrl).toBe("postgres://chat:pw@db.internal:5433/chat");
    expect(c.databasePoolSize).toBe(10);
    expect(loadConfig({ DATABASE_DSN: "postgresql://db/chat", DATABASE_POOL_SIZE: "32" }).databasePoolSize).toBe(32);
    expect(loadConfig({ DATABASE_DSN: "file:/var/db/x.db" }).databaseUrl).toBeNull();
    expect(problemsOf({ DATABASE_POOL_SIZE: "0" })[0]).toStartWith("DATABASE_POOL_SIZE:");
  });

  test("REDIS_URL needs a PostgreSQL DATABASE_DSN and a redis:// URL; it hides passwords", () => {
    expect(loadConfig({}).redisUrl).toBeNull();
    const c = loadConfig({ DATABASE_DSN: "postgres://db/chat", REDIS_URL: "redis://cache:6379/0" });
    expect(c.redisUrl).toBe("redis://cache:6379/0");
    expect(problemsOf({ REDIS_URL: "redis://cache:6379/0" })[0]).toStartWith("REDIS_URL:");
    const bad = problemsOf({ DATABASE_DSN: "postgres://db/chat", REDIS_URL: "http://u:hunter2secret@cache" });
    expect(bad[0]).toStartWith("REDIS_URL:");
    expect(bad.join()).not.toContain("hunter2secret");
  });

  test("NODE_ID defaults to hostname plus a short suffix; an explicit one is kept; junk is a problem", () => {
    expect(loadConfig({}).nodeId).toMatch(/^[A-Za-z0-9._-]+-[a-z0-9]{1,4}$/);
    expect(loadConfig({ NODE_ID: "node-a" }).nodeId).toBe("node-a");
    expect(problemsOf({ NODE_ID: "has space" })[0]).toStartWith("NODE_ID:");
  });

  test("ALLOWED_ORIGINS is a trimmed list; WS_ALLOWED_ORIGINS is its alias; bad origins are problems", () => {
    expect(loadConfig({ ALLOWED_ORIGINS: "https://a.example.com, http://localhost:3000/" }).allowedOrigins).toEqual(["https://a.example.com", "http://localhost:3000"]);
    expect(loadConfig({ WS_ALLOWED_ORIGINS: "*" }).allowedOrigins).toEqual(["*"]);
    expect(loadConfig({ ALLOWED_ORIGINS: "https://a.example.com", WS_ALLOWED_ORIGINS: "*" }).allowedOrigins).toEqual(["https://a.example.com"]);
    expect(problemsOf({ ALLOWED_ORIGINS: "a.example.com" })[0]).toStartWith("ALLOWED_ORIGINS:");
  });

  test("a short MASTER_API_KEY is a problem and the value is not echoed", () => {
    const problems = problemsOf({ MASTER_API_KEY: "tooShortKey" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("MASTER_API_KEY:");
    expect(problems[0]).not.toContain("tooShortKey");
  });

  test("every invalid variable is reported, one problem each, naming the variable", () => {
    const env = {
      LISTEN_ADDR: "bad",
      RETRY_INTERVAL: "xyz",
      SQLITE_SYNCHRONOUS: "maybe",
      DEFAULT_RATE_LIMIT: "0",
      MAX_BODY_BYTES: "12abc",
      LOG_LEVEL: "loud",
      CONSOLE_ENABLED: "perhaps",
      WS_TOKEN_TTL: "10ms",
      RETRY_MAX_ATTEMPTS: "-1",
    };
    const problems = problemsOf(env);
    expect(problems).toHaveLength(Object.keys(env).length);
    for (const name of Object.keys(env)) expect(problems.filter((p) => p.startsWith(`${name}:`))).toHaveLength(1);
    expect(problems.join("\n")).toContain('"xyz"');
  });

  test("integer variables refuse fractions, signs and exponents", () => {
    for (const v of ["1.5", "+5", "1e3", " ", "0x10"]) expect(problemsOf({ DEFAULT_RATE_LIMIT: v })).toHaveLength(1);
  });

  test("CONFIG_VARS documents every docs/configuration.md variable once", () => {
    const names = CONFIG_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      "LISTEN_ADDR", "DATA_DIR", "DATABASE_DSN", "MASTER_API_KEY", "LOG_LEVEL", "DEFAULT_RATE_LIMIT", "RETRY_MAX_ATTEMPTS",
      "RETRY_INTERVAL", "WORKER_INTERVAL", "SHUTDOWN_DRAIN_TIMEOUT", "ALLOWED_ORIGINS", "WS_MAX_CONNECTIONS_PER_USER",
      "WS_TOKEN_TTL", "WS_BACKPRESSURE_BYTES", "PRESENCE_GRACE", "TYPING_TIMEOUT", "MAX_BODY_BYTES", "SYNC_MAX_PER_ROOM",
      "SYNC_MAX_TOTAL", "SQLITE_SYNCHRONOUS", "CONSOLE_ENABLED",
    ]) expect(names).toContain(n);
    expect(CONFIG_VARS.find((v) => v.name === "ALLOWED_ORIGINS")?.aliases).toContain("WS_ALLOWED_ORIGINS");
  });

  test("each CONFIG_VARS default is itself valid", () => {
    const env: Record<string, string> = {};
    for (const v of CONFIG_VARS) if (!v.def.startsWith("(") && !v.def.includes("$")) env[v.name] = v.def;
    expect(problemsOf(env)).toEqual([]);
  });
});

describe("attachment settings", () => {
  const base = { DATA_DIR: "/srv/chat" };
  test("defaults: 10 MiB uploads, 1 GiB quota, 1 h urls, 24 h orphans, a directory in DATA_DIR", () => {
    const c = loadConfig(base);
    expect(c.maxAttachmentBytes).toBe(10 * 1024 * 1024);
    expect(c.attachmentQuotaBytes).toBe(1024 ** 3);
    expect(c.attachmentUrlTtlMs).toBe(3_600_000);
    expect(c.attachmentOrphanTtlMs).toBe(86_400_000);
    expect(c.attachmentsStore).toEqual({ kind: "file", dir: "/srv/chat/attachments" });
  });
  test("s3://bucket/prefix with the S3_* variables", () => {
    const c = loadConfig({ ...base, ATTACHMENTS_STORE: "s3://chat-files/prod/att/", S3_ENDPOINT: "http://127.0.0.1:9000", S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s" });
    expect(c.attachmentsStore).toEqual({ kind: "s3", bucket: "chat-files", prefix: "prod/att/", endpoint: "http://127.0.0.1:9000", region: "us-east-1", accessKeyId: "k", secretAccessKey: "s" });
    expect(loadConfig({ ...base, ATTACHMENTS_STORE: "file:/mnt/files" }).attachmentsStore).toEqual({ kind: "file", dir: "/mnt/files" });
  });
  test("invalid values are reported, one line each", () => {
    const err = (() => {
      try {
        loadConfig({ ...base, ATTACHMENTS_STORE: "ftp://x", MAX_ATTACHMENT_BYTES: "104857601", ATTACHMENT_URL_TTL: "10ms" });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("no error");
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems.some((p) => p.startsWith("ATTACHMENTS_STORE:"))).toBe(true);
    expect(err.problems.some((p) => p.startsWith("MAX_ATTACHMENT_BYTES:"))).toBe(true);
    expect(err.problems.some((p) => p.startsWith("ATTACHMENT_URL_TTL:"))).toBe(true);
    expect(() => loadConfig({ ...base, ATTACHMENTS_STORE: "s3://b", S3_ENDPOINT: "not a url" })).toThrow(ConfigError);
  });
});
