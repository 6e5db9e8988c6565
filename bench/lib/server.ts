// Starting and stopping the servers under test: the compiled product binary (or the sources, for the
// smoke test) and the raw baselines. Each gets a fresh temporary DATA_DIR and a free 127.0.0.1 port.
import { SQL, type Subprocess } from "bun";
import { cpuMark, drainTail, freePort, spawnTracked, stopProcess } from "./procs";
import type { Ctx } from "./ctx";

export interface ServerHandle {
  kind: "product" | "baseline";
  name: string;
  pid: number;
  /** The PostgreSQL database the product runs on, when startProduct created one (--store postgres). */
  dsn?: string;
  proc: Subprocess;
  host: string;
  port: number;
  base: string;
  logs: () => string;
  stop: () => Promise<void>;
}

const REPO = new URL("../../", import.meta.url).pathname;

/** Polls GET /health until 200; throws (with the server's output) if it exits or times out. */
export async function waitHealthy(h: { base: string; proc: Subprocess; logs: () => string; name: string }, timeoutMs = 20_000, pollMs = 5): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (h.proc.exitCode !== null || h.proc.signalCode !== null) throw new Error(`${h.name} exited (${h.proc.exitCode ?? h.proc.signalCode}) before /health answered:\n${h.logs()}`);
    try {
      const r = await fetch(`${h.base}/health`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    await Bun.sleep(pollMs);
  }
  throw new Error(`${h.name}: /health did not answer 200 within ${timeoutMs} ms:\n${h.logs()}`);
}

export interface ProductOpts {
  dataDir: string;
  env?: Record<string, string>;
  /** Do not wait for /health (startup measures that itself). */
  noWait?: boolean;
  port?: number;
}

/** The product's environment for a benchmark run (SQLITE_SYNCHRONOUS=full, limits out of the way). */
export function productEnv(ctx: Ctx, dataDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LISTEN_ADDR: `127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    DATABASE_DSN: "",
    MASTER_API_KEY: ctx.masterKey,
    SQLITE_SYNCHRONOUS: "full",
    LOG_LEVEL: "info",
    DEFAULT_RATE_LIMIT: "1000000",
    SHUTDOWN_DRAIN_TIMEOUT: "2s",
    ...extra,
  };
}

function productCmd(ctx: Ctx): string[] {
  if (ctx.profileDir) return [process.execPath, "--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${ctx.profileDir}`, `${REPO}src/main.ts`, "serve"];
  return ctx.binary ? [ctx.binary, "serve"] : [process.execPath, "run", `${REPO}src/main.ts`, "serve"];
}

/** A fresh PostgreSQL database for one product server (`--store postgres`); drop() removes it. */
export async function benchDatabase(ctx: Ctx): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new SQL(ctx.postgresUrl!, { max: 1 });
  const name = `chatapi_bench_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.close();
  const u = new URL(ctx.postgresUrl!);
  u.pathname = `/${name}`;
  return {
    url: u.href,
    drop: async () => {
      const a = new SQL(ctx.postgresUrl!, { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      await a.close();
    },
  };
}

export async function startProduct(ctx: Ctx, o: ProductOpts): Promise<ServerHandle & { spawnedAt: number }> {
  if (ctx.store === "postgres" && !o.env?.DATABASE_DSN) {
    const db = await benchDatabase(ctx);
    const h = await startProduct(ctx, { ...o, env: { ...o.env, DATABASE_DSN: db.url } }).catch(async (e) => {
      await db.drop();
      throw e;
    });
    const stop = h.stop;
    return { ...h, dsn: db.url, stop: async () => { await stop(); await db.drop(); } };
  }
  const port = o.port ?? freePort();
  const spawnedAt = performance.now();
  const proc = spawnTracked({
    name: "chatapi",
    cmd: [...productCmd(ctx), ...(ctx.serverArgs ?? [])],
    env: productEnv(ctx, o.dataDir, port, { ...ctx.serverEnv, ...o.env }),
    cwd: o.dataDir,
    nofile: 65536,
    cpus: ctx.serverCpus,
  });
  return serverHandle(proc, { kind: "product", name: "chatapi", port, spawnedAt, stopMs: 8000 }, o.noWait);
}

export async function startBaseline(ctx: Ctx, script: "rest" | "ws", args: string[], o: { noWait?: boolean; port?: number; cwd?: string } = {}): Promise<ServerHandle & { spawnedAt: number }> {
  const port = o.port ?? freePort();
  const spawnedAt = performance.now();
  const proc = spawnTracked({
    name: `baseline-${script}`,
    cmd: [process.execPath, "run", `${REPO}bench/baselines/${script}.ts`, "--port", String(port), ...args],
    cwd: o.cwd ?? REPO,
    nofile: 65536,
    cpus: ctx.serverCpus,
  });
  return serverHandle(proc, { kind: "baseline", name: `baseline-${script}`, port, spawnedAt, stopMs: 5000 }, o.noWait);
}

/** The handle of a spawned server on 127.0.0.1:`port` (logs() from its output tails), healthy unless `noWait`. */
async function serverHandle(
  proc: Subprocess,
  o: { kind: ServerHandle["kind"]; name: string; port: number; spawnedAt: number; stopMs: number },
  noWait?: boolean,
): Promise<ServerHandle & { spawnedAt: number }> {
  const out = drainTail(proc.stdout as ReadableStream<Uint8Array>);
  const err = drainTail(proc.stderr as ReadableStream<Uint8Array>);
  const h: ServerHandle & { spawnedAt: number } = {
    kind: o.kind,
    name: o.name,
    pid: proc.pid,
    proc,
    host: "127.0.0.1",
    port: o.port,
    base: `http://127.0.0.1:${o.port}`,
    logs: () => `--- stdout ---\n${out.text().slice(-4000)}\n--- stderr ---\n${err.text().slice(-4000)}`,
    stop: () => stopProcess(proc, o.stopMs),
    spawnedAt: o.spawnedAt,
  };
  if (!noWait) await waitHealthy(h);
  return h;
}

export { cpuMark, REPO };
