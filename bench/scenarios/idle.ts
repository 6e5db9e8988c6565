// idle: N authenticated idle sockets, each user in R rooms; server RSS per connection. The sockets are
// spread over several load-generator processes (one process may hold 20,000 open files here), each
// bound to its own 127.0.0.x source address. Every run starts a fresh server on a copy of the same
// database, so RSS before/after is not blurred by an earlier run's heap.
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FileSink } from "bun";
import { createRoom, createTenant, pMap } from "../lib/api";
import type { Ctx } from "../lib/ctx";
import { cpuMark, cpuPercent, drainTail, rssBytes, spawnTracked, stopProcess } from "../lib/procs";
import type { Metric, RunFigures, ScenarioResult } from "../lib/report";
import { REPO, startBaseline, startProduct, type ServerHandle } from "../lib/server";
import type { IdleCfg } from "../loadgen";
import { howBaseline, howProduct, tMedian, tmp, tRatio, target } from "./common";

// A run whose sockets are not all ready within this budget counts them as failed and ends the
// scenario's runs for that server (keeps `bun run bench` bounded when connects are slow).
const CONNECT_BUDGET_S = 60;

// Each run binds new 127.0.0.x source addresses: the previous run's client ports sit in TIME_WAIT for
// 60 s, and bind() to an address (unlike a plain loopback connect) cannot reuse them.
let addrCounter = 0;

// Multipliers coprime with any N = 2^a 3^b 5^c: each layer is a different permutation of the users.
const MULTS = [1, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43];

/** rooms[j*roomsPerLayer + k] = members; userRooms[i] = room indexes of user i. */
function layout(n: number, perUser: number, size: number): { rooms: number[][]; userRooms: number[][] } {
  const perLayer = n / size;
  const rooms: number[][] = Array.from({ length: perLayer * perUser }, () => []);
  const userRooms: number[][] = Array.from({ length: n }, () => []);
  for (let j = 0; j < perUser; j++) {
    for (let i = 0; i < n; i++) {
      const p = (i * MULTS[j % MULTS.length]!) % n;
      const room = j * perLayer + Math.floor(p / size);
      rooms[room]!.push(i);
      userRooms[i]!.push(room);
    }
  }
  return { rooms, userRooms };
}

const METRICS: Metric[] = [
  { key: "bytes_per_socket", label: "server RSS per socket", unit: "bytes", better: "lower" },
  { key: "rss_before", label: "server RSS before", unit: "bytes", better: "lower" },
  { key: "server_rss_bytes", label: "server RSS with sockets", unit: "bytes", better: "lower" },
  { key: "connect_ms", label: "connect all (ms)", unit: "ms", better: "lower" },
  { key: "throughput", label: "handshakes/s", unit: "rate", better: "higher" },
  { key: "connect_cpu_pct", label: "server CPU, connecting", unit: "pct", better: "lower" },
  { key: "server_cpu_pct", label: "server CPU, idle", unit: "pct", better: "lower" },
  { key: "errors", label: "failed sockets", unit: "count", better: "zero" },
];

async function oneRun(ctx: Ctx, srv: ServerHandle, apiKey: string, users: string[], userRooms: string[][], label: string): Promise<RunFigures> {
  const S = ctx.sizes;
  await Bun.sleep(ctx.smoke ? 100 : 1000);
  const rssBefore = rssBytes(srv.pid);
  const procs = Math.max(1, S.idleProcs);
  const per = Math.ceil(users.length / procs);
  const t = target(srv, apiKey);
  const c0 = cpuMark(srv.pid);
  const t0 = performance.now();
  const addrBase = addrCounter;
  addrCounter += procs;
  const gens = Array.from({ length: procs }, (_, k) => {
    const idx = Array.from({ length: Math.min(per, users.length - k * per) }, (_, q) => k * per + q);
    const cfg: IdleCfg = {
      mode: "idle",
      target: t,
      sockets: idx.map((i) => ({ user: users[i]!, rooms: userRooms[i]! })),
      localAddress: `127.0.0.${2 + ((addrBase + k) % 250)}`,
      // Below the server's listen backlog (512) over all processes: no SYN drops and 1 s retries.
      connectConcurrency: Math.max(1, Math.floor(384 / procs)),
      connectTimeoutSeconds: ctx.smoke ? 30 : CONNECT_BUDGET_S,
      runs: 1,
      runSeconds: 0,
      warmupSeconds: 0,
      deadlineSeconds: (ctx.smoke ? 30 : CONNECT_BUDGET_S) + 60,
    };
    const file = join(ctx.tmpRoot, `idle-${label}-${k}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(cfg));
    const proc = spawnTracked({ name: `loadgen idle ${k}`, cmd: [process.execPath, "run", `${REPO}bench/loadgen.ts`, file], nofile: 65536, cpus: ctx.loadCpus, stdin: "pipe" });
    let resolveConnected!: (ev: any) => void;
    const connected = new Promise<any>((res) => (resolveConnected = res));
    const out = drainTail(proc.stdout as ReadableStream<Uint8Array>, 8192, (line) => {
      try {
        const ev = JSON.parse(line);
        if (ev.ev === "connected") resolveConnected(ev);
        if (ev.ev === "fatal") resolveConnected({ ok: 0, failed: idx.length, errors: [ev.message] });
      } catch {
        // not JSON
      }
    });
    const err = drainTail(proc.stderr as ReadableStream<Uint8Array>);
    void proc.exited.then(() => resolveConnected({ ok: 0, failed: idx.length, errors: [`exited ${proc.exitCode}: ${err.text().slice(-500)} ${out.text().slice(-300)}`] }));
    return { proc, connected, n: idx.length };
  });
  try {
    const evs = await Promise.all(gens.map((g) => g.connected));
    const connectMs = performance.now() - t0;
    const c1 = cpuMark(srv.pid);
    await Bun.sleep(ctx.smoke ? 200 : 2000);
    const c2 = cpuMark(srv.pid);
    const rssAfter = rssBytes(srv.pid);
    const ok = evs.reduce((s, e) => s + (e.ok ?? 0), 0);
    const failed = evs.reduce((s, e) => s + (e.failed ?? 0), 0);
    if (failed) ctx.log(`    ${label}: ${failed} sockets failed: ${evs.flatMap((e) => e.errors ?? []).slice(0, 3).join("; ")}`);
    return {
      bytes_per_socket: ok > 0 ? (rssAfter - rssBefore) / ok : NaN,
      rss_before: rssBefore,
      server_rss_bytes: rssAfter,
      connect_ms: connectMs,
      throughput: ok / (connectMs / 1000),
      connect_cpu_pct: cpuPercent(c0, c1),
      server_cpu_pct: cpuPercent(c1, c2),
      errors: failed,
      sockets: ok,
    };
  } finally {
    for (const g of gens) {
      try {
        (g.proc.stdin as FileSink).write("close\n");
        (g.proc.stdin as FileSink).end();
      } catch {
        // already gone
      }
    }
    await Promise.all(gens.map((g) => Promise.race([g.proc.exited, Bun.sleep(10_000)]).then(() => stopProcess(g.proc, 2000))));
  }
}

export async function idle(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const n = S.idleSockets;
  const { rooms, userRooms } = layout(n, S.idleRoomsPerUser, S.idleRoomSize);
  const users = Array.from({ length: n }, (_, i) => `i${i}`);
  const r: ScenarioResult = {
    name: "idle",
    title: `${n.toLocaleString("en-US")} authenticated idle sockets (one user each, every user in ${S.idleRoomsPerUser} rooms of ${S.idleRoomSize}), over ${S.idleProcs} load processes and 127.0.0.x source addresses`,
    metrics: METRICS,
    headline: "bytes_per_socket",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  const total = ctx.runs + 1;
  // Product: build the database once (API), then each run starts on a copy of it.
  {
    const template = tmp(ctx, "idle-template");
    const s0 = performance.now();
    const srv = await startProduct(ctx, { dataDir: template });
    let tenant;
    let roomIds: string[];
    try {
      tenant = await createTenant(srv.base, ctx.masterKey, "bench-idle");
      roomIds = await pMap(rooms, 32, (members) => createRoom(srv.base, tenant!.api_key, users[members[0]!]!, members.map((i) => users[i]!)));
    } finally {
      await srv.stop();
    }
    const setupMs = performance.now() - s0;
    const names = userRooms.map((rs) => rs.map((x) => roomIds[x]!));
    const runs: RunFigures[] = [];
    const notes = ["a fresh server per run (warm-up run discarded); RSS before = after start + 1 s idle"];
    for (let k = 0; k < total; k++) {
      const dir = tmp(ctx, "idle-run");
      copyFileSync(join(template, "chatapi.db"), join(dir, "chatapi.db"));
      const run = await startProduct(ctx, { dataDir: dir });
      try {
        const f = await oneRun(ctx, run, tenant.api_key, users, names, `product run ${k}`);
        if (k > 0 || (f.errors ?? 0) > 0) runs.push(f);
        if ((f.errors ?? 0) > 0) {
          notes.push(`run ${k}: ${f.errors} of ${n} sockets not ready within ${CONNECT_BUDGET_S} s; further runs skipped`);
          break;
        }
      } finally {
        await run.stop();
      }
    }
    r.product = { how: howProduct(ctx), runs, setup: { rooms: rooms.length, rooms_setup_ms: setupMs }, notes };
  }
  {
    const names = userRooms.map((rs) => rs.map((x) => `r${x}`));
    const runs: RunFigures[] = [];
    for (let k = 0; k < total; k++) {
      const run = await startBaseline(ctx, "ws", ["--db", join(tmp(ctx, "idle-base"), "base.db")]);
      try {
        const f = await oneRun(ctx, run, "none", users, names, `baseline run ${k}`);
        if (k > 0 || (f.errors ?? 0) > 0) runs.push(f);
        if ((f.errors ?? 0) > 0) break;
      } finally {
        await run.stop();
      }
    }
    r.baseline = { how: howBaseline(ctx, "Bun.serve websocket, subscribes the user's topic and its room topics at open, nothing else"), runs, setup: {}, notes: [] };
  }
  r.targets = [
    tMedian(r, "bytes_per_socket", "<=", 3072, "<= 3 KB RSS per socket", "bytes"),
    tMedian(r, "errors", "<=", 0, "0 failed sockets", "count"),
    tRatio(r, "bytes_per_socket", "<=", 2, "<= 2x raw Bun per socket"),
  ];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}
