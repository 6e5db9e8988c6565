// CHATAPI_TEST_STORE=cluster: every test server becomes a two-node cluster behind nginx. Node A runs
// in this process (tests that reach into `api` see it), node B is a subprocess with the same
// environment, both on a fresh PostgreSQL database and one redis-server per test process; the URL
// handed out is nginx's, round-robin, so consecutive requests and sockets land on different nodes.
import { RedisClient, type Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, startNginx } from "../cluster/harness";

let redis: Promise<string> | null = null;

/** One redis-server for the whole test process (killed when it exits). */
export function sharedRedis(): Promise<string> {
  return (redis ??= (async () => {
    const port = freePort();
    const proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "ignore" });
    process.once("exit", () => proc.kill("SIGKILL"));
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

/** Starts node B (a subprocess with `env`) and nginx over node A's port and B's; stop() ends both. */
export async function addSecondNode(env: Record<string, string>, nodeAPort: number): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-e2e-cluster-"));
  const port = freePort();
  const root = resolve(import.meta.dir, "../..");
  const proc: Subprocess = Bun.spawn([process.execPath, "run", join(root, "src/main.ts"), "serve"], {
    cwd: root,
    env: { ...process.env, ...env, LISTEN_ADDR: `127.0.0.1:${port}`, DATA_DIR: join(dir, "b"), NODE_ID: "b", LOG_LEVEL: "warn" },
    stdout: "ignore",
    stderr: "inherit",
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
  const nginx = await startNginx(dir, [nodeAPort, port]);
  return {
    url: nginx.url,
    async stop() {
      nginx.proc.kill("SIGTERM");
      proc.kill("SIGTERM");
      await Promise.all([nginx.proc.exited, proc.exited]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
