// Test harness: a real server on port 0 with a temporary database, real HTTP, captured JSON logs.
import { RedisClient } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import { loadConfig } from "../src/config";
import { startServer, type ChatApi } from "../src/main";
import { createTestDatabase, type TestDatabase } from "./support/postgres";
import { addSecondNode, sharedRedis } from "./support/cluster-mode";
import { testStore } from "./support/test-store";

export const TEST_MASTER_KEY = "test-master-key-0123456789abcdef";

/** A response as tests see it. */
export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Small typed REST client bound to a tenant key and (optionally) a user. */
export interface RestClient {
  get<T = any>(path: string, headers?: Record<string, string>): Promise<Res<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Res<T>>;
  patch<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Res<T>>;
  del<T = any>(path: string, headers?: Record<string, string>): Promise<Res<T>>;
}

export interface TestServer {
  api: ChatApi;
  /** Where clients go: the server, or in cluster mode the load balancer in front of both nodes. */
  url: string;
  wsUrl: string;
  /** Every node's own base URL, the in-process node (`api`) first: one entry unless CHATAPI_TEST_STORE=cluster. */
  nodeUrls: string[];
  /**
   * The in-process node without the balancer (the same as url outside cluster mode), for tests of
   * that node itself: what its bus published, its logs, its metrics, its stop().
   */
  node: { url: string; wsUrl: string; client(apiKey: string, userId?: string): RestClient };
  /** Open sockets of a user counted over every node (in cluster mode: the leases in Redis). */
  sockets(tenantId: string, userId: string): Promise<number>;
  dataDir: string;
  /** Every JSON log line the server wrote (in cluster mode: both nodes). */
  logs: string[];
  /** POST /admin/tenants; returns the created tenant with its api_key. */
  createTenant(name?: string, config?: Record<string, unknown>): Promise<{ tenant_id: string; api_key: string; [k: string]: any }>;
  /** A client sending X-API-Key and X-User-Id (omit userId for tenant-only routes). */
  client(apiKey: string, userId?: string): RestClient;
  /** A client with arbitrary base headers. */
  raw(headers: Record<string, string>): RestClient;
  stop(): Promise<void>;
}

/** Performs one request and parses a JSON body when there is one. */
export async function request(url: string, method: string, body: unknown, headers: Record<string, string>): Promise<Res> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

function restClient(base: string, headers: Record<string, string>): RestClient {
  return {
    get: (p, h = {}) => request(base + p, "GET", undefined, { ...headers, ...h }),
    post: (p, b, h = {}) => request(base + p, "POST", b ?? {}, { ...headers, ...h }),
    patch: (p, b, h = {}) => request(base + p, "PATCH", b ?? {}, { ...headers, ...h }),
    del: (p, h = {}) => request(base + p, "DELETE", undefined, { ...headers, ...h }),
  };
}

/** Starts a real server on 127.0.0.1:0 with a fresh DATA_DIR; `env` overrides any variable. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "chatapi-test-"));
  // CHATAPI_TEST_STORE=postgres (bun run test:pg): each server gets a fresh PostgreSQL database,
  // dropped by stop(), unless the test names its own DATABASE_DSN.
  const mode = testStore;
  const pg: TestDatabase | null = (mode === "postgres" || mode === "cluster") && env.DATABASE_DSN === undefined ? await createTestDatabase() : null;
  // CHATAPI_TEST_STORE=cluster: two nodes on PostgreSQL + Redis behind nginx (support/cluster-mode.ts).
  const cluster = mode === "cluster" && pg !== null && env.REDIS_URL === undefined;
  const config = loadConfig({
    LISTEN_ADDR: "127.0.0.1:0",
    DATA_DIR: dataDir,
    MASTER_API_KEY: TEST_MASTER_KEY,
    LOG_LEVEL: "info",
    DEFAULT_RATE_LIMIT: "100000",
    // Test hooks have a 5 s budget: a stop must not wait the production drain (10 s) for a stuck webhook.
    SHUTDOWN_DRAIN_TIMEOUT: "2s",
    ...(pg ? { DATABASE_DSN: pg.url, DATABASE_POOL_SIZE: "6" } : {}),
    ...(cluster ? { REDIS_URL: await sharedRedis(), NODE_ID: "a" } : {}),
    ...env,
  });
  const logs: string[] = [];
  const dest = { write: (s: string) => void logs.push(s) } as DestinationStream;
  const api = await startServer(config, { logDestination: dest }).catch(async (err: unknown) => {
    await pg?.drop();
    throw err;
  });
  const second = cluster
    ? await addSecondNode(
        {
          MASTER_API_KEY: TEST_MASTER_KEY,
          DEFAULT_RATE_LIMIT: "100000",
          SHUTDOWN_DRAIN_TIMEOUT: "2s",
          DATABASE_DSN: config.databaseUrl!,
          DATABASE_POOL_SIZE: "6",
          REDIS_URL: config.redisUrl!,
          // Both nodes see one attachment directory, as a shared volume would give them.
          ATTACHMENTS_STORE: `file:${dataDir}/attachments`,
          ...env,
        },
        api.port,
        logs,
      )
    : null;
  const url = second ? second.url : api.url;
  const master = restClient(url, { "x-master-key": TEST_MASTER_KEY });
  const keyed = (base: string) => (apiKey: string, userId?: string) => restClient(base, userId === undefined ? { "x-api-key": apiKey } : { "x-api-key": apiKey, "x-user-id": userId });
  let redis: RedisClient | null = null;
  let stopped = false;
  return {
    api,
    url,
    wsUrl: url.replace(/^http/, "ws") + "/ws",
    nodeUrls: second ? [api.url, second.nodeUrl] : [api.url],
    node: { url: api.url, wsUrl: api.url.replace(/^http/, "ws") + "/ws", client: keyed(api.url) },
    async sockets(tenantId, userId) {
      if (!second) return api.gateway.registry.count(tenantId, userId);
      redis ??= new RedisClient(config.redisUrl!);
      // Live leases only: a closed socket's lease goes at once, a dead node's when it expires.
      return Number(await redis.send("ZCOUNT", [`chatapi:conn:${tenantId}:${userId}`, `(${Date.now()}`, "+inf"]));
    },
    dataDir,
    logs,
    async createTenant(name = "t", config) {
      const r = await master.post("/admin/tenants", config ? { name, config } : { name });
      if (r.status !== 201) throw new Error(`createTenant: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    client: keyed(url),
    raw: (headers) => restClient(url, headers),
    async stop() {
      if (stopped) return;
      stopped = true;
      redis?.close();
      await second?.stop();
      await api.stop();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `pred` until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(pred: () => T | Promise<T>, timeoutMs = 5000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The value of an unlabelled-or-labelled series in Prometheus text (`name 3` or `name{node="a"} 3`), or null. */
export function metricValue(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
}
