// CHATAPI_TEST_STORE=cluster: every test server becomes a two-node cluster behind nginx. Node A runs
// in this process (tests that reach into `api` see it), node B is a subprocess with the same
// environment, both on a fresh PostgreSQL database and one redis-server per test process; the URL
// handed out is nginx's, round-robin, so consecutive requests and sockets land on different nodes.
import { RedisClient, type Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, pump, startNginx } from "../cluster/harness";

let redis: Promise<string> | null = null;
/** What this process started and has not stopped yet: killed by stopLeftovers(). */
const running = new Set<Subprocess>();
let redisPid = -1;

/** One redis-server for the whole test process (killed by stopLeftovers() after the last test file). */
export function sharedRedis(): Promise<string> {
  return (redis ??= (async () => {
    const port = freePort();
    const proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "ignore" });
    running.add(proc);
    redisPid = proc.pid;
    const url = `redis://127.0.0.1:${port}/0`;
    for (let i = 0; i < 200; i++) {
      const c = new RedisClient(url, { autoReconnect: false, connectionTimeout: 500 });
      try {
        await c.connect();
        if ((await c.send("PING", [])) === "PONG") return url;
      } catch {
        // not up yet
      } finally {
        c.close();
      }
      await Bun.sleep(25);
    }
    throw new Error("redis-server did not start");
  })());
}

/**
 * Starts node B (a subprocess with `env`) and nginx over node A's port and B's; stop() ends both.
 * B's JSON log lines are appended to `logs` (node A's lines go there too: the test sees the cluster's logs).
 */
export async function addSecondNode(env: Record<string, string>, nodeAPort: number, logs: string[]): Promise<{ url: string; nodeUrl: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-e2e-cluster-"));
  const port = freePort();
  const root = resolve(import.meta.dir, "../..");
  const proc: Subprocess = Bun.spawn([process.execPath, "run", join(root, "src/main.ts"), "serve"], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "info", ...env, LISTEN_ADDR: `127.0.0.1:${port}`, DATA_DIR: join(dir, "b"), NODE_ID: "b" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const piped = pump(proc.stdout as ReadableStream<Uint8Array>, (l) => {
    if (l.startsWith("{")) logs.push(l + "\n");
  });
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`node B exited ${proc.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.status === 200 && ((await r.json()) as { bus: { connected: boolean } }).bus.connected) break;
    } catch {
      // starting
    }
    if (i > 400) throw new Error("node B did not become healthy");
    await Bun.sleep(25);
  }
  running.add(proc);
  const nginx = await startNginx(dir, [nodeAPort, port]);
  running.add(nginx.proc);
  return {
    url: nginx.url,
    nodeUrl: `http://127.0.0.1:${port}`,
    async stop() {
      nginx.proc.kill("SIGTERM");
      proc.kill("SIGTERM");
      await Promise.all([nginx.proc.exited, proc.exited, piped]);
      running.delete(proc);
      running.delete(nginx.proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Kills the shared redis-server and any node B or nginx a test left running (bun test fires no
 * process "exit" event, so test/setup.ts calls this from a global afterAll).
 */
export async function stopLeftovers(): Promise<void> {
  const procs = [...running];
  running.clear();
  const left = procs.filter((p) => p.pid !== redisPid).length;
  if (left > 0) console.warn(`cluster mode: ${left} node B / nginx process(es) left running by a test that did not stop its server; killed`);
  redis = null;
  // SIGTERM first: an nginx master killed outright leaves its worker behind.
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(3000).then(() => p.kill("SIGKILL"))])));
}
