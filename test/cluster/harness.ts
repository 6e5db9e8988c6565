// A real cluster for tests: a fresh PostgreSQL database, a redis-server on its own free port (so it
// can be stopped and restarted), N chatapi nodes as subprocesses, and nginx as a round-robin load
// balancer with WebSocket upgrades. Skips (printing why) when PostgreSQL, redis-server or nginx is
// missing; CHATAPI_REQUIRE_CLUSTER=1 turns a skip into a failure.
import { RedisClient, type Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/postgres";
import { request, TEST_MASTER_KEY, waitFor, type RestClient } from "../helpers";

/** The line printed when cluster tests skip (.ci/run looks for it). */
export const CLUSTER_SKIP_MARKER = "CLUSTER TESTS SKIPPED";
const NGINX = process.env.NGINX_BIN || "/usr/sbin/nginx";
const ROOT = resolve(import.meta.dir, "../..");

/** Why the cluster cannot run here, or null. */
export async function clusterUnavailable(): Promise<string | null> {
  // `bun run test:pg` repeats the suite on PostgreSQL; the cluster tests always use PostgreSQL and
  // already ran in `bun test`, so they are not repeated there (not a skip: nothing goes untested).
  if (process.env.CHATAPI_TEST_STORE === "postgres" || process.env.CHATAPI_TEST_STORE === "cluster") {
    console.warn(`cluster tests: not repeated under CHATAPI_TEST_STORE=${process.env.CHATAPI_TEST_STORE} (bun test runs them)`);
    return "not repeated";
  }
  let why: string | null = null;
  if (!Bun.which("redis-server")) why = "redis-server not installed";
  else if (!existsSync(NGINX)) why = `nginx not found at ${NGINX}`;
  else if (!(await postgresAvailable().catch(() => false))) why = "PostgreSQL unreachable";
  if (why && process.env.CHATAPI_REQUIRE_CLUSTER === "1") throw new Error(`cluster required (CHATAPI_REQUIRE_CLUSTER=1) but ${why}`);
  if (why) console.warn(`${CLUSTER_SKIP_MARKER}: ${why}`);
  return why;
}

/** A port free right now on 127.0.0.1. */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

export interface Node {
  id: string;
  port: number;
  url: string;
  proc: Subprocess;
  /** stdout+stderr lines so far. */
  logs: string[];
}

export interface Cluster {
  /** The load balancer (nginx). */
  url: string;
  wsUrl: string;
  nodes: Node[];
  redisPort: number;
  redisUrl: string;
  db: TestDatabase;
  master: RestClient;
  /** Creates a tenant through the balancer; returns it with api_key. */
  createTenant(config?: Record<string, unknown>): Promise<{ tenant_id: string; api_key: string }>;
  client(base: string, apiKey: string, userId?: string): RestClient;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  /** Starts one more node (or restarts node i). */
  startNode(i: number): Promise<Node>;
  stop(): Promise<void>;
}

function restClient(base: string, headers: Record<string, string>): RestClient {
  return {
    get: (p, h = {}) => request(base + p, "GET", undefined, { ...headers, ...h }),
    post: (p, b, h = {}) => request(base + p, "POST", b ?? {}, { ...headers, ...h }),
    patch: (p, b, h = {}) => request(base + p, "PATCH", b ?? {}, { ...headers, ...h }),
    del: (p, h = {}) => request(base + p, "DELETE", undefined, { ...headers, ...h }),
  };
}

/** Calls `onLine` with each line of `stream`. */
export async function pump(stream: ReadableStream<Uint8Array> | null | undefined, onLine: (line: string) => void): Promise<void> {
  if (!stream) return;
  const dec = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += dec.decode(chunk);
    const lines = rest.split("\n");
    rest = lines.pop() ?? "";
    for (const l of lines) onLine(l);
  }
}

/** Starts PostgreSQL db + Redis + `nodes` chatapi nodes + nginx. */
export async function startCluster(opts: { nodes?: number; env?: Record<string, string> } = {}): Promise<Cluster> {
  const n = opts.nodes ?? 3;
  const dir = mkdtempSync(join(tmpdir(), "chatapi-cluster-"));
  const db = await createTestDatabase("chatapi_c");
  const redisPort = freePort();
  const redisUrl = `redis://127.0.0.1:${redisPort}/0`;
  let redis: Subprocess | null = null;
  const startRedis = async () => {
    redis = Bun.spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "ignore" });
    await waitFor(async () => {
      const c = new RedisClient(redisUrl, { autoReconnect: false, connectionTimeout: 500 });
      try {
        await c.connect();
        return (await c.send("PING", [])) === "PONG";
      } catch {
        return false;
      } finally {
        c.close();
      }
    }, 10_000, "redis-server up");
  };
  const stopRedis = async () => {
    const r = redis as Subprocess | null;
    if (!r) return;
    redis = null;
    r.kill("SIGKILL");
    await r.exited;
  };
  await startRedis();
  const nodes: Node[] = [];
  const ports = Array.from({ length: n }, () => freePort());
  const startNode = async (i: number): Promise<Node> => {
    const port = ports[i] ?? (ports[i] = freePort());
    const logs: string[] = [];
    const entry = existsSync(join(ROOT, "dist/chatapi")) && process.env.CHATAPI_CLUSTER_BINARY === "1" ? [join(ROOT, "dist/chatapi"), "serve"] : [process.execPath, "run", join(ROOT, "src/main.ts"), "serve"];
    const proc = Bun.spawn(entry, {
      cwd: ROOT,
      env: {
        ...process.env,
        LISTEN_ADDR: `127.0.0.1:${port}`,
        DATA_DIR: join(dir, `n${i}`),
        DATABASE_DSN: db.url,
        DATABASE_POOL_SIZE: "5",
        REDIS_URL: redisUrl,
        NODE_ID: `n${i}`,
        MASTER_API_KEY: TEST_MASTER_KEY,
        LOG_LEVEL: "warn",
        DEFAULT_RATE_LIMIT: "100000",
        SHUTDOWN_DRAIN_TIMEOUT: "2s",
        PRESENCE_GRACE: "200ms",
        ...opts.env,
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    void pump(proc.stdout as ReadableStream<Uint8Array>, (l) => logs.push(l));
    void pump(proc.stderr as ReadableStream<Uint8Array>, (l) => logs.push(l));
    const node: Node = { id: `n${i}`, port, url: `http://127.0.0.1:${port}`, proc, logs };
    nodes[i] = node;
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`node n${i} exited ${proc.exitCode}: ${logs.slice(-5).join("\n")}`);
      try {
        const r = await fetch(`${node.url}/health`);
        const b = (await r.json()) as { bus?: { connected: boolean } };
        return r.status === 200 && b.bus?.connected === true;
      } catch {
        return false;
      }
    }, 20_000, `node n${i} healthy`);
    return node;
  };
  // The first node applies the migrations; the others start together.
  await startNode(0);
  await Promise.all(Array.from({ length: n - 1 }, (_, k) => startNode(k + 1)));
  const { url, proc: nginx } = await startNginx(dir, ports);
  const master = restClient(url, { "x-master-key": TEST_MASTER_KEY });
  return {
    url,
    wsUrl: url.replace(/^http/, "ws") + "/ws",
    nodes,
    redisPort,
    redisUrl,
    db,
    master,
    async createTenant(config) {
      const r = await master.post("/admin/tenants", config ? { name: "c", config } : { name: "c" });
      if (r.status !== 201) throw new Error(`createTenant: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    client: (base, apiKey, userId) => restClient(base, userId === undefined ? { "x-api-key": apiKey } : { "x-api-key": apiKey, "x-user-id": userId }),
    stopRedis,
    startRedis,
    startNode,
    async stop() {
      nginx.kill("SIGTERM");
      for (const node of nodes) if (node.proc.exitCode === null) node.proc.kill("SIGTERM");
      await Promise.all(nodes.map((x) => Promise.race([x.proc.exited, Bun.sleep(5000).then(() => x.proc.kill("SIGKILL"))])));
      await nginx.exited;
      await stopRedis();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx as a round-robin balancer over `ports` with WebSocket upgrades (config, pid and logs in `dir`). */
export async function startNginx(dir: string, ports: number[]): Promise<{ url: string; proc: Subprocess }> {
  const lbPort = freePort();
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # What ChatAPI must judge reaches it: nginx adds no limit of its own and never answers for a node.
  # Bodies stream to the node (its own 413 and 400 answer, not nginx's temp files).
  client_max_body_size 0;
  client_body_buffer_size 1m;
  proxy_request_buffering off;
  # Long request lines and headers (JWTs, hostile input) reach the node, which refuses them itself
  # (Bun: 431 over 16 KiB).
  large_client_header_buffers 4 128k;
  # The node's error responses pass as they are (JSON with request_id), never nginx's pages.
  proxy_intercept_errors off;
  # Paths are matched as sent; proxy_pass without a URI forwards the request URI unchanged.
  merge_slashes off;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream chatapi { ${ports.map((p) => `server 127.0.0.1:${p} max_fails=0;`).join(" ")} keepalive 32; }
  server {
    listen 127.0.0.1:${lbPort};
    location / {
      proxy_pass http://chatapi;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_next_upstream error timeout;
    }
  }
}
`,
  );
  const proc = Bun.spawn([NGINX, "-p", dir, "-c", join(dir, "nginx.conf")], { stdout: "ignore", stderr: "pipe" });
  const url = `http://127.0.0.1:${lbPort}`;
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}`);
    try {
      return (await fetch(`${url}/health`)).status === 200;
    } catch {
      return false;
    }
  }, 10_000, "nginx up");
  return { url, proc };
}
